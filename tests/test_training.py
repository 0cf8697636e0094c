"""Stages 7-9: the P19 network, resumable training, prediction, ensembles, kNN baseline."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, small_config, snakemake_command
from cube_factory import build_dataset, write_random_partitions

from photoz.metrics.pdf import bin_midpoints, crps, pdf_mean, pdf_width68, pit, redshift_to_bin
from photoz.models.ensemble import ensemble
from photoz.models.knn import knn_photoz
from photoz.models.member import TrainParams
from photoz.models.networks import build_network, input_size
from photoz.models.predict import predict_fold
from photoz.models.train import redshift_labels, train_member
from photoz.tables import read_pdfs, read_photoz

TRAIN = {
    "network": "p19_tiny",
    "steps": 60,
    "batch_size": 16,
    "learning_rate": 1e-3,
    "checkpoint_every": 5,
    "validate_every": 20,
    "shuffle_buffer": 64,
    "threads": 2,
}


@pytest.mark.parametrize("name, expected", [("p19", 27_596_372), ("l22", 25_826_972)])
def test_network_parameter_counts_match_the_papers(name, expected):
    model = build_network(name)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == expected
    assert model.get_layer("features").output.shape[-1] == 22_273  # 8x8x348 + E(B-V)


@pytest.mark.parametrize("name", ["p19_tiny", "l22"])
def test_layers_start_as_the_papers_initialise_them(name):
    """Every convolution and FC bias 0.1, Glorot-uniform kernels (within their bound),
    per-channel PReLU slopes at 0 (a ReLU at the start), shared over the image axes."""
    import keras

    model = build_network(name, 180, "channels" if name == "l22" else "single")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    prelus = [layer for layer in model.layers if isinstance(layer, keras.layers.PReLU)]
    assert len(convs) == len(prelus) > 20
    for conv in convs:
        kernel, bias = (w.numpy() for w in conv.weights)
        np.testing.assert_array_equal(bias, np.float32(0.1))
        fan_in, fan_out = np.prod(kernel.shape[:-1]), np.prod(kernel.shape[:-2]) * kernel.shape[-1]
        assert np.abs(kernel).max() <= np.sqrt(6 / (fan_in + fan_out)) + 1e-7
    for prelu in prelus:
        (alpha,) = (w.numpy() for w in prelu.weights)
        assert alpha.shape == (1, 1, prelu.input.shape[-1]) and (alpha == 0).all()
    for k in (1, 2):
        np.testing.assert_array_equal(model.get_layer(f"fc{k}").weights[1].numpy(), np.float32(0.1))
    # a PReLU at slope 0 is a ReLU
    x = np.linspace(-2, 2, 5 * prelus[0].input.shape[-1], dtype=np.float32).reshape(1, 1, 5, -1)
    np.testing.assert_array_equal(prelus[0](x).numpy(), np.maximum(x, 0))


def test_stride_one_pooling_averages_the_valid_pixels_at_the_edges():
    """P19's 2x2 stride-1 average pool (TF SAME) pads the last row and column and
    averages only the pixels inside (PyTorch's count_include_pad=False): a constant map
    stays constant and the corner is the pixel itself."""
    model = build_network("p19_tiny")
    pool = model.get_layer("i0_p")
    channels = pool.input.shape[-1]
    side = 4
    image = np.arange(side * side, dtype=np.float32).reshape(1, side, side, 1).repeat(channels, axis=3)
    out = pool(image).numpy()[0, :, :, 0]
    assert out.shape == (side, side)
    assert out[0, 0] == pytest.approx((0 + 1 + 4 + 5) / 4)
    assert out[0, -1] == pytest.approx((3 + 7) / 2) and out[-1, 0] == pytest.approx((12 + 13) / 2)
    assert out[-1, -1] == pytest.approx(15.0)
    np.testing.assert_allclose(pool(np.ones((1, side, side, channels), np.float32)).numpy(), 1.0)
    # the stride-2 pools halve the side with the same rule
    assert model.get_layer("p1").output.shape[1] == model.get_layer("p1").input.shape[1] // 2


@pytest.mark.parametrize("z_min", [0.0, 0.05, -0.2])
def test_training_labels_are_the_bins_of_the_pdf_grid(z_min):
    """The training loss's class labels are the PDF grid's bins for any z_min (they were
    floor(z / (z_max / n_bins)), off by z_min / width bins when z_min != 0)."""
    z = np.random.default_rng(3).uniform(z_min - 0.05, 0.45, 2000).astype(np.float32)
    labels = redshift_labels(z, 180, z_min, 0.4).numpy()
    np.testing.assert_array_equal(labels, redshift_to_bin(z.astype(np.float64), 180, z_min=z_min, z_max=0.4))


def test_small_network_outputs_a_pdf():
    model = build_network("p19_tiny")
    assert input_size("p19_tiny") == 32 and input_size("p19") == 64
    rng = np.random.default_rng(0)
    pdf = model({"image": rng.normal(size=(3, 32, 32, 5)), "ebv": rng.uniform(size=(3, 1))}).numpy()
    assert pdf.shape == (3, 180)
    np.testing.assert_allclose(pdf.sum(axis=1), 1.0, rtol=1e-5)


def test_pdf_summaries_on_hand_computed_cases():
    n, z_max = 180, 0.4
    onehot = np.zeros((1, n))
    onehot[0, 10] = 1.0
    centre = bin_midpoints(n, z_max=z_max)[10]
    assert pdf_mean(onehot, z_max=z_max)[0] == pytest.approx(centre)
    assert crps(onehot, np.array([0.05]), z_max=z_max)[0] == pytest.approx(abs(0.05 - centre))
    flat = np.ones((1, n))
    assert pit(flat, np.array([0.1]), z_max=z_max)[0] == pytest.approx(0.25)
    assert pdf_width68(flat, z_max=z_max)[0] == pytest.approx(0.68 * z_max)
    assert pdf_mean(flat, z_max=z_max)[0] == pytest.approx(0.2)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A small dataset of random cubes (3 partitions x 60 galaxies)."""
    tmp = tmp_path_factory.mktemp("training")
    catalog, cubes = write_random_partitions(tmp / "in", 3, 60, seed=8)
    cfg = small_config()
    cfg["dataset"].update(seed=3, validation_fraction=0.1)
    out = tmp / "dataset"
    build_dataset(cfg, catalog, cubes, out)
    config_file = tmp / "config.yaml"
    config_file.write_text(yaml.safe_dump({"training": TRAIN}))
    return out, config_file


def _train_cmd(
    dataset_dir: Path, config_file: Path, out_dir: Path, fold: int = 1, member: int = 0
) -> list[str]:
    return [
        sys.executable,
        str(REPO / "workflow/scripts/train.py"),
        "--configfile",
        str(config_file),
        "--manifest",
        str(dataset_dir / "manifest.tsv"),
        "--fold",
        str(fold),
        "--member",
        str(member),
        "--out-dir",
        str(out_dir),
    ]


def _members_cmd(dataset_dir: Path, config_file: Path, out_dirs: list[Path], fold: int = 1) -> list[str]:
    """The train script training members 0, 1, ... of ``fold`` in one process."""
    cmd = _train_cmd(dataset_dir, config_file, out_dirs[0], fold)
    cut = cmd.index("--member")
    return [*cmd[:cut], "--member", *map(str, range(len(out_dirs))), "--out-dir", *map(str, out_dirs)]


@pytest.mark.slow
def test_members_of_a_fold_in_one_job_equal_their_own_jobs_and_resume(dataset, tmp_path):
    """Members 0 and 1 trained in one process (shared model, optimizer and trace, reset
    per member) end with exactly the weights of members trained each in its own process;
    killed while member 1 trains, the rerun restores member 0 from its kept final
    checkpoint instead of training it again, resumes member 1, and ends identical."""
    dataset_dir, config_file = dataset
    alone = [tmp_path / "alone0", tmp_path / "alone1"]
    for member, out in enumerate(alone):
        done = subprocess.run(
            _train_cmd(dataset_dir, config_file, out, member=member), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-3000:]
    together = [tmp_path / "together0", tmp_path / "together1"]
    proc = subprocess.Popen(
        _members_cmd(dataset_dir, config_file, together), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    index = together[1] / "checkpoints" / "checkpoint"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if index.exists() and "ckpt-1" in index.read_text():  # member 1 at step 10 or later
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the job ended before it could be interrupted"
    assert (together[0] / "weights.weights.h5").exists() and (together[0] / "checkpoints").is_dir()
    (together[0] / "weights.weights.h5").unlink()  # Snakemake removes an incomplete job's outputs
    resumed = subprocess.run(_members_cmd(dataset_dir, config_file, together), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    restarts = [line for line in resumed.stderr.splitlines() if "resumed from" in line]
    assert len(restarts) == 2 and "at step 60" in restarts[0], restarts
    assert not any((out / "checkpoints").exists() for out in together)  # dropped once all are saved
    for one, other in zip(alone, together, strict=True):
        assert list(pd.read_csv(other / "history.csv")["step"]) == [20, 40, 60]
        for a, b in zip(_weights(one), _weights(other), strict=True):
            assert np.array_equal(a, b)


def _weights(member_dir: Path) -> list[np.ndarray]:
    model = build_network(TRAIN["network"])
    model.load_weights(str(member_dir / "weights.weights.h5"))
    return [w.numpy() for w in model.weights]


@pytest.mark.slow
def test_killed_training_resumes_and_ends_with_identical_weights(dataset, tmp_path):
    dataset_dir, config_file = dataset
    straight = tmp_path / "straight"
    done = subprocess.run(_train_cmd(dataset_dir, config_file, straight), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    history = pd.read_csv(straight / "history.csv")
    assert list(history["step"]) == [20, 40, 60]
    assert np.isfinite(history[["train_loss", "val_loss", "val_pit_ks", "val_sigma_mad"]]).all().all()
    assert not (straight / "checkpoints").exists(), "checkpoints are removed once the weights exist"

    interrupted = tmp_path / "interrupted"
    proc = subprocess.Popen(
        _train_cmd(dataset_dir, config_file, interrupted), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    index = interrupted / "checkpoints" / "checkpoint"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if index.exists() and "ckpt-1" in index.read_text():  # step 10 or later saved
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be interrupted"
    assert not (interrupted / "weights.weights.h5").exists()
    saved = int(index.read_text().split('"')[1].rsplit("-", 1)[1])
    assert 10 <= saved < 60

    resumed = subprocess.run(
        _train_cmd(dataset_dir, config_file, interrupted), capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    restart = [line for line in resumed.stderr.splitlines() if "resumed from" in line]
    assert restart and f"at step {saved}" in restart[0]
    assert list(pd.read_csv(interrupted / "history.csv")["step"]) == [20, 40, 60]
    for a, b in zip(_weights(straight), _weights(interrupted), strict=True):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_predict_and_ensemble_cover_every_test_galaxy(dataset, tmp_path):
    dataset_dir, config_file = dataset
    catalog = pd.read_parquet(dataset_dir / "catalog.parquet")
    predictions = []
    short = TrainParams.from_config({**TRAIN, "steps": 3, "checkpoint_every": 3, "validate_every": 3})
    folds = (0, 3)  # the end-to-end workflow test covers all five
    for fold in folds:
        for member in range(2):
            member_dir = tmp_path / f"models/fold{fold}/member{member}"
            train_member(short, str(dataset_dir / "manifest.tsv"), fold, member, str(member_dir))
            out = tmp_path / f"predictions/fold{fold}/member{member}.parquet"
            predict_fold(str(member_dir), str(dataset_dir / "manifest.tsv"), fold, str(out))
            objids, pdfs = read_pdfs(out)
            assert sorted(objids) == sorted(catalog.loc[catalog["fold"] == fold, "objid"].astype(np.int64))
            np.testing.assert_allclose(pdfs.sum(axis=1), 1.0, rtol=1e-4)
            predictions.append(str(out))
    table = ensemble(predictions, str(dataset_dir / "catalog.parquet"), str(tmp_path / "cnn.parquet"))
    written = read_photoz(tmp_path / "cnn.parquet")
    catalog = catalog[catalog["fold"].isin(folds)]
    assert len(written) == len(catalog) and written["objid"].is_unique
    assert set(written["objid"]) == set(catalog["objid"])
    pdf = np.stack(written["pdf"])
    np.testing.assert_allclose(written["z_phot"], pdf_mean(pdf, z_max=0.4), rtol=1e-5)
    # The ensemble PDF is the mean of the members' PDFs.
    ids, member0 = read_pdfs(predictions[0])
    _, member1 = read_pdfs(predictions[1])
    row = table.set_index(table["objid"].astype(np.int64)).loc[ids]
    mean = (member0 / member0.sum(1, keepdims=True) + member1 / member1.sum(1, keepdims=True)) / 2
    np.testing.assert_allclose(np.stack(row["pdf"]), mean, atol=1e-6)
    assert np.stack(written["z_phot_members"]).shape == (len(catalog), 2)
    z = catalog.set_index("objid").loc[written["objid"], "z"].to_numpy()
    np.testing.assert_array_equal(written["z_spec"], z)


def test_knn_baseline_learns_redshift_from_colours():
    rng = np.random.default_rng(5)
    n = 3000
    z = rng.uniform(0.02, 0.35, n)
    r = rng.uniform(14, 17.8, n)
    colours = np.column_stack([1.0 + 4 * z, 0.5 + 3 * z, 0.2 + 1.5 * z, 0.1 + z]) + rng.normal(
        0, 0.02, (n, 4)
    )
    mags = np.column_stack([r + colours[:, 0] + colours[:, 1], r + colours[:, 1], r, r - colours[:, 2]])
    mags = np.column_stack([mags, mags[:, 3] - colours[:, 3]])
    catalog = pd.DataFrame({f"dered_petro_{b}": mags[:, k] for k, b in enumerate("ugriz")})
    catalog["objid"] = np.arange(n, dtype=np.uint64) + 1
    catalog["z"] = z
    catalog["fold"] = np.arange(n) % 5
    catalog["validation"] = rng.uniform(size=n) < 0.05
    catalog["in_dataset"] = True
    table = knn_photoz(catalog, k=20, n_bins=180, z_max=0.4)
    assert len(table) == n and set(table["objid"]) == set(catalog["objid"])
    dz = (table["z_phot"] - table["z_spec"]) / (1 + table["z_spec"])
    assert 1.4826 * np.median(np.abs(dz - np.median(dz))) < 0.01
    # Each galaxy was predicted by neighbours outside its own fold.
    assert np.stack(table["pdf"]).sum(axis=1) == pytest.approx(1.0)


def dry_run(workdir: Path, *presets: str, options: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``snakemake -n`` in ``workdir`` on preset config files (relative to the repository,
    layered in order) with extra ``options``; asserts success."""
    cmd = [*snakemake_command(workdir), *options, "--configfile", *(str(REPO / p) for p in presets), "-n"]
    # the paper preset queries CasJobs, whose token is only checked when the query runs
    env = {**os.environ, "SCISERVER_TOKEN": "dry-run"}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_paper_preset_plans_thirty_gpu_trainings(tmp_path):
    """The SLURM profile on the paper preset: 30 training jobs on the GPU partition, each
    with one GPU and the preset's memory and time (snakemake -n --profile ...)."""
    result = dry_run(
        tmp_path, "presets/paper.yaml", options=("--profile", str(REPO / "workflow/profiles/slurm"))
    )
    counts = dict(
        line.split()[:2]
        for line in result.stdout.splitlines()
        if line.strip() and line.split()[0] in ("train",)
    )
    assert counts["train"] == "30"
    blocks = result.stdout.split("\n\n")
    trains = [b for b in blocks if "rule train:" in b]
    assert len(trains) == 30
    assert all(
        "gpu=1" in b and "mem_mb=32000" in b and "runtime=1440" in b and "slurm_partition=gpu" in b
        for b in trains
    )
    # the data stages are CPU jobs on the CPU partition
    query = next(b for b in blocks if "rule query_catalog:" in b)
    assert "slurm_partition=cpu" in query and "gpu=" not in query
    # evaluate holds every method's PDFs of the whole survey: at 516,525 galaxies and two
    # methods it peaked at 5.1 GB (benchmarks/bench_evaluate.py); ~600k are planned
    evaluate = next(b for b in blocks if "rule evaluate:" in b)
    assert int(re.search(r"mem_mb=(\d+)", evaluate).group(1)) >= 5100 * 600_000 / 516_525
    assert {(b.split("fold")[1][0], b.split("member")[1][0]) for b in trains} == {
        (str(f), str(m)) for f in range(5) for m in range(6)
    }


def test_lin2022_steps_train_predict_and_ensemble(dataset, tmp_path):
    """Step 1 (multi-channel network), steps 2 and 3 (heads on its frozen representation)
    and their predictions: mixture PDFs on the base and the extended range."""
    from photoz.lin2022.heads import HeadParams, train_heads
    from photoz.models.member import load_member
    from photoz.models.networks import REPRESENTATION
    from photoz.tables import read_pdf_range

    dataset_dir, _ = dataset
    manifest, catalog_path = str(dataset_dir / "manifest.tsv"), str(dataset_dir / "catalog.parquet")
    params = TrainParams.from_config(
        {**TRAIN, "steps": 4, "checkpoint_every": 2, "validate_every": 2}, "step1"
    )
    assert params.output == "channels"
    fold = 1
    step1 = tmp_path / "step1/fold1/member0"
    history = train_member(params, manifest, fold, 0, str(step1))
    assert np.isfinite(history["train_loss"]).all() and history["train_loss"].iloc[0] > 6 * 3.0  # 7 terms
    heads = HeadParams.from_config(
        balance_threshold=1, balance_reference_size=10**6, steps=6, batch_size=8, learning_rate=1e-3
    )
    predictions, pre_estimates = {}, []
    for name in ("step2", "step3"):
        out = tmp_path / f"{name}/fold1/member0"
        train_heads(name, params, heads, manifest, catalog_path, fold, 0, str(step1), str(out), pre_estimates)
        if name == "step2":  # pre-estimates of the other folds' galaxies (here by this member)
            for other in (0, 2, 3, 4):
                pre_estimates.append(str(tmp_path / f"pre/fold{other}/member0.parquet"))
                predict_fold(str(out), manifest, other, pre_estimates[-1])
        record = json.loads((out / "params.json").read_text())
        assert (
            record["method"] == name
            and record["cell_cap"] == 1
            and 0 < record["subset_size"] <= record["training_size"]
        )
        model, member_params = load_member(out)
        reference, _ = load_member(step1)
        # the representation is step 1's, untouched; the heads changed
        np.testing.assert_array_equal(
            model.get_layer(REPRESENTATION).get_weights()[0],
            reference.get_layer(REPRESENTATION).get_weights()[0],
        )
        np.testing.assert_array_equal(
            model.get_layer("rhead").get_weights()[0], reference.get_layer("rhead").get_weights()[0]
        )
        if name == "step2":  # fine-tuned from step 1's heads: every redshift head moved
            for m in range(6):
                moved = (
                    model.get_layer(f"zhead{m}").get_weights()[0]
                    - reference.get_layer(f"zhead{m}").get_weights()[0]
                )
                assert np.abs(moved).max() > 1e-6, f"zhead{m} did not train"
        pred = tmp_path / f"pred/{name}/fold1/member0.parquet"
        predict_fold(str(out), manifest, fold, str(pred))
        ids, pdfs = read_pdfs(pred)
        np.testing.assert_allclose(pdfs.sum(axis=1), 1.0, rtol=1e-4)
        predictions[name] = (pdfs.shape[1], read_pdf_range(pred))
    assert predictions["step2"] == (180, (0.0, 0.4))
    assert predictions["step3"][0] == 360 and predictions["step3"][1] == pytest.approx((-0.2, 0.6))
    assert json.loads((tmp_path / "step3/fold1/member0/labels.json").read_text())["n_bins"] == 180
    # L22's variant without balancing: the same labels and heads on every training galaxy
    out = tmp_path / "step3_unbalanced/fold1/member0"
    train_heads(
        "step3_unbalanced",
        params,
        heads,
        manifest,
        catalog_path,
        fold,
        0,
        str(step1),
        str(out),
        pre_estimates,
    )
    record = json.loads((out / "params.json").read_text())
    assert record["cell_cap"] is None and record["subset_size"] == record["training_size"] > 1
    table = ensemble(
        [str(tmp_path / "pred/step3/fold1/member0.parquet")], catalog_path, str(tmp_path / "step3.parquet")
    )
    assert table["pit"].between(0, 1).all() and len(table) == len(ids)
    step3 = read_photoz(tmp_path / "step3.parquet")
    assert step3.attrs["pdf_range"] == pytest.approx((-0.2, 0.6)) and step3.attrs["point_estimate"] == "mode"
    # L22's estimator: the centre of the most probable bin of the extended range
    np.testing.assert_allclose(
        step3["z_phot"], -0.2 + (np.argmax(np.stack(step3["pdf"]), axis=1) + 0.5) * 0.8 / 360
    )


def test_step1_starts_from_the_baseline_member_but_its_output_module(dataset, tmp_path):
    """lin2022.step1_init: baseline copies every layer the two networks share (the whole
    representation); the multi-channel heads keep their fresh initialisation."""
    from photoz.models.member import initialise_from, load_member
    from photoz.models.networks import build_network

    dataset_dir, _ = dataset
    baseline_dir = tmp_path / "baseline"
    params = {**TRAIN, "steps": 2, "checkpoint_every": 2, "validate_every": 2}
    train_member(TrainParams.from_config(params), str(dataset_dir / "manifest.tsv"), 1, 0, str(baseline_dir))
    baseline, _ = load_member(baseline_dir)
    step1 = build_network(TRAIN["network"], 180, "channels")
    fresh_head = step1.get_layer("zhead3").get_weights()[0].copy()
    initialise_from(step1, str(baseline_dir))
    shared = [layer.name for layer in baseline.layers if layer.weights and layer.name != "logits"]
    assert "fc2" in shared and "c1_conv" in shared
    for name in shared:
        ours, theirs = step1.get_layer(name).get_weights(), baseline.get_layer(name).get_weights()
        for mine, source in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(mine, source)
    np.testing.assert_array_equal(step1.get_layer("zhead3").get_weights()[0], fresh_head)
    other = build_network("p19_small", 180, "channels")  # nothing matches: a clear error
    with pytest.raises(ValueError, match=str(baseline_dir)):
        initialise_from(other, str(baseline_dir))


def test_lin2022_preset_plans_every_step_per_fold_and_member(tmp_path):
    result = dry_run(tmp_path, "presets/lin2022.yaml")
    counts = {
        line.split()[0]: int(line.split()[1])
        for line in result.stdout.splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit()
    }
    # baseline + step 1: 2 x 5 jobs of 6 networks (training.one_job_per_fold); steps 2, 3,
    # 3a, 3b, 3 unbalanced: 5 x 30 head trainings; 7 methods x 5 folds predicted and
    # ensembled; step 4 calibrates step 3, baseline_calibrated the baseline
    assert (counts["train"], counts["train_heads"], counts["predict"]) == (10, 150, 35)
    assert (counts["ensemble"], counts["calibrate"]) == (7, 2)
    heads = [b for b in result.stdout.split("\n\n") if "rule train_heads:" in b]
    step3 = [b for b in heads if "results/models/step3/fold2/member5/" in b]
    assert len(step3) == 1
    assert "results/models/step1/fold2/member5/weights" in step3[0]
    inputs = step3[0].split("input:")[1].split("\n")[0]
    # step 2's out-of-fold predictions of the same member index, every fold but 2
    for fold in (0, 1, 3, 4):
        assert f"results/predictions/step2/fold{fold}/member5.parquet" in inputs
    assert "results/predictions/step2/fold2/" not in inputs
    # step 1 starts from the baseline member of the same fold and index (config.yaml)
    blocks = result.stdout.split("\n\n")
    step1 = [b for b in blocks if "rule train:" in b and "models/step1/fold2/member5/" in b]
    assert "results/models/baseline/fold2/member5/weights" in step1[0].split("input:")[1].split("\n")[0]
    # one job for the fold's six members: member m starts from baseline member m
    command = step1[0].split("--init-from ")[1]
    before, after = command.split(" --out-dir ")
    starts, outs = before.split(), after.split(" --log")[0].split()
    assert starts == [f"results/models/baseline/fold2/member{m}" for m in range(6)]
    assert outs == [f"results/models/step1/fold2/member{m}" for m in range(6)]


def test_lin2022_preset_layers_on_the_paper_preset(tmp_path):
    """presets/paper.yaml + presets/lin2022.yaml: L22's network (l22) and pixels (sqrt)
    and GPUs for step 1 (the baseline keeps P19's), the paper's head schedule (L22: 800
    iterations of 32 at 2e-5) for steps 2, 3, 3a, 3b and 3 without balancing."""
    from photoz.config import load_config
    from photoz.models.member import method_train_params

    result = dry_run(tmp_path, "presets/paper.yaml", "presets/lin2022.yaml")
    blocks = result.stdout.split("\n\n")
    step1 = [b for b in blocks if "rule train:" in b and "results/models/step1/" in b]
    assert len(step1) == 30 and all("gpu=1" in b and '"network": "l22"' in b for b in step1)
    assert not any("--init-from" in b for b in step1)  # from scratch, as L22
    heads = [b for b in blocks if "rule train_heads:" in b]
    assert len(heads) == 150 and all('"learning_rate": 2e-05' in b for b in heads)
    config = load_config(REPO / "presets/paper.yaml")
    assert method_train_params(config, "step1").pixel_transform == "sqrt"
    assert method_train_params(config, "baseline").network == "p19"


def test_survey10k_preset_layers_under_the_lin2022_preset(tmp_path):
    """presets/survey10k.yaml + presets/lin2022.yaml: one member per fold of every method
    on a 10,000-galaxy survey (the larger preset's config)."""
    result = dry_run(tmp_path, "presets/survey10k.yaml", "presets/lin2022.yaml")
    blocks = result.stdout.split("\n\n")
    train = [b for b in blocks if "rule train:" in b]
    assert len(train) == 10 and all('"steps": 3000' in b and '"batch_size": 32' in b for b in train)
    assert len([b for b in blocks if "rule train_heads:" in b]) == 25
    assert '"n_galaxies": 10000' in [b for b in blocks if "rule query_catalog:" in b][0]
