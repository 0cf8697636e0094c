"""The GPU code paths, exercised on CPU devices: mixed float16 with loss scaling and XLA
(one GPU) and MirroredStrategy (several GPUs) each train a few steps of p19_tiny through
``train_member`` and are compared with the float32 single-device run."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from test_training import dataset  # noqa: F401  (the fixture)

from photoz.models.member import load_member
from photoz.models.networks import model_inputs

pytestmark = pytest.mark.slow
PATHS = ("float32", "mixed_xla", "mirrored")
RUNNER = REPO / "tests" / "gpu_path_runner.py"


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):  # noqa: F811
    """{path: member directory} after 8 steps through each path."""
    dataset_dir, _ = dataset
    root = tmp_path_factory.mktemp("paths")
    out = {}
    for path in PATHS:
        member = root / path
        done = subprocess.run(
            [sys.executable, str(RUNNER), path, str(dataset_dir / "manifest.tsv"), str(member)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, (path, done.stderr[-3000:])
        out[path] = member
    return out


def test_every_path_trains_and_follows_the_float32_loss_curve(trained):
    curves = {p: pd.read_csv(trained[p] / "history.csv").set_index("step") for p in PATHS}
    for path, curve in curves.items():
        assert list(curve.index) == [4, 8], path
        assert np.isfinite(curve[["train_loss", "val_loss"]]).all().all(), path
    reference = curves["float32"]
    # the same batches and initial weights: two replicas of 8 sum to the loss of 16 on one
    # device up to float32 reduction order; float16 activations move it by ~1e-3
    for path, tolerance in (("mirrored", 1e-4), ("mixed_xla", 5e-3)):
        np.testing.assert_allclose(curves[path]["train_loss"], reference["train_loss"], rtol=tolerance)
        np.testing.assert_allclose(curves[path]["val_loss"], reference["val_loss"], rtol=tolerance)


def test_weights_of_each_path_load_in_float32_and_predict_alike(trained, dataset):  # noqa: F811
    import tensorflow as tf

    from photoz.dataset.reader import validation_dataset
    from photoz.dataset.shards import verify_manifest

    dataset_dir, _ = dataset
    manifest = verify_manifest(str(dataset_dir / "manifest.tsv"), checksums=False)
    batch = next(iter(validation_dataset(manifest, 1, 64, "none", 32)))
    pdfs = {}
    for path in PATHS:
        model, params = load_member(trained[path])
        assert params.steps == 8
        pdfs[path] = model(model_inputs(batch), training=False).numpy()
        assert pdfs[path].dtype == np.float32 and tf.keras.mixed_precision.global_policy().name == "float32"
    np.testing.assert_allclose(pdfs["mirrored"], pdfs["float32"], atol=1e-5)
    np.testing.assert_allclose(pdfs["mixed_xla"], pdfs["float32"], atol=2e-3)
