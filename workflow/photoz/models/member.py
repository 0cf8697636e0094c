"""One ensemble member on disk and in TensorFlow: its parameters and seed, the
TensorFlow set-up, weight transfer between networks, and the member directory
(``params.json``, ``weights.weights.h5``, ``history.csv``, ``checkpoints/``).

Training (:mod:`.train`, :mod:`photoz.lin2022.heads`) writes members, prediction
(:mod:`.predict`) reads them; both depend on this module and not on each other.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import config_defaults
from ..io import atomic_path, write_json

log = logging.getLogger(__name__)

HISTORY_COLUMNS = [
    "step",
    "epoch",
    "learning_rate",
    "train_loss",
    "val_loss",
    "val_pit_ks",
    "val_sigma_mad",
    "val_bias",
    "images_per_s",
]


@dataclass(frozen=True)
class TrainParams:
    """The ``training`` config section (what a training job needs), plus what the
    method decides: its output module and, for L22 step 3, the extended redshift range."""

    network: str
    output: str  # "single" (P19) or "channels" (L22's multi-channel module)
    n_bins: int
    z_max: float
    steps: int
    batch_size: int
    learning_rate: float
    lr_drop_fraction: float
    lr_drop_factor: float
    checkpoint_every: int
    validate_every: int
    pixel_transform: str
    shuffle_buffer: int
    in_memory_mb: int
    seed: int
    threads: int
    z_min: float = 0.0  # not a config key: the classes start at 0 except step 3's extended range

    @classmethod
    def from_config(cls, section: dict | None = None, method_name: str = "baseline") -> TrainParams:
        """The parameters of ``method_name`` (its output module) from the ``training``
        section; missing keys take the config defaults."""
        from ..methods import method

        values = {**config_defaults("training"), **(section or {})}
        values.setdefault("output", method(method_name).output)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def method_train_params(config: dict, method_name: str) -> TrainParams:
    """The training parameters of a method: the ``training`` section, with, for L22's
    multi-channel methods, ``lin2022.network`` and ``lin2022.pixel_transform`` where set
    (the paper preset: L22's l22 network and sqrt pixels, the baseline P19's)."""
    from ..methods import method

    section = dict(config["training"])
    if method(method_name).output == "channels":
        lin = config.get("lin2022", {})
        section.update({k: lin[k] for k in ("network", "pixel_transform") if lin.get(k) is not None})
    return TrainParams.from_config(section, method_name)


def member_seed(seed: int, fold: int, member: int) -> int:
    """Seed of one member: weights init, shuffling and augmentation."""
    return int(np.random.SeedSequence([seed, fold, member]).generate_state(1)[0] % (2**31))


@dataclass(frozen=True)
class Execution:
    """How a member trains: the distribution strategy over ``replicas`` devices, the
    Keras precision policy, and whether the train step is XLA-compiled."""

    strategy: Any
    replicas: int
    policy: str  # float32 | mixed_float16
    jit: bool


def configure_tensorflow(threads: int, deterministic: bool) -> Execution:
    """Threads (0: TensorFlow's choice), determinism (CPU) and, from the GPUs found,
    the :class:`Execution`: float32 on one CPU device; mixed float16 with XLA on GPUs,
    ``MirroredStrategy`` over them when there are several.

    Mixed bfloat16 on CPUs with AMX was measured and not used: p19_tiny trains no faster
    with it (620 vs 632 images/s, 1 thread, batch 64), p19_cpu 19% faster.
    """
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already running in this process (library use)
            log.warning("TensorFlow is initialised already; keeping its thread settings")
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
    elif deterministic:
        tf.config.experimental.enable_op_determinism()
    devices = [f"/gpu:{k}" for k in range(len(gpus))]
    return execution_on(devices, mixed=bool(gpus), jit=bool(gpus))


def execution_on(devices: list[str], mixed: bool, jit: bool) -> Execution:
    """The :class:`Execution` over ``devices`` (``MirroredStrategy`` when more than one,
    else the default strategy), setting the global precision policy. Also how the tests
    exercise the GPU code path on CPU devices."""
    import keras
    import tensorflow as tf

    policy = "mixed_float16" if mixed else "float32"
    keras.mixed_precision.set_global_policy(policy)
    strategy = tf.distribute.MirroredStrategy(devices) if len(devices) > 1 else tf.distribute.get_strategy()
    return Execution(strategy, max(1, len(devices)), policy, jit)


def member_params(member_dir: str | Path) -> TrainParams:
    """The TrainParams a member was trained with (its params.json)."""
    return TrainParams.from_config(json.loads((Path(member_dir) / "params.json").read_text()))


def load_member(member_dir: str | Path):
    """(model with the member's final weights, its TrainParams), built under the current
    precision policy (:func:`configure_tensorflow`)."""
    from .networks import build_network

    params = member_params(member_dir)
    model = build_network(params.network, params.n_bins, params.output)
    model.load_weights(str(Path(member_dir) / "weights.weights.h5"))
    return model, params


def copy_layer_weights(source, target, skip_prefix: str | None = None) -> list[str]:
    """Copy each weighted layer of ``source`` into ``target``'s layer of the same name
    and weight shapes, except layers whose names start with ``skip_prefix``; return the
    names copied."""
    names = {layer.name for layer in target.layers}
    copied = []
    for layer in source.layers:
        if (
            not layer.weights
            or layer.name not in names
            or (skip_prefix and layer.name.startswith(skip_prefix))
        ):
            continue
        into = target.get_layer(layer.name)
        if [w.shape for w in into.weights] == [w.shape for w in layer.weights]:
            into.set_weights(layer.get_weights())
            copied.append(layer.name)
    return copied


def initialise_from(model, member_dir: str) -> None:
    """Start ``model`` from the member in ``member_dir``: every layer both have (same name
    and shapes); the rest (e.g. a different output module) keeps its initialisation."""
    source, _ = load_member(member_dir)
    copied = copy_layer_weights(source, model)
    if not copied:
        raise ValueError(f"{member_dir}: no layer matches the network being trained")
    log.info("initialised %d layers from %s", len(copied), member_dir)


def read_history(path: Path, up_to_step: int) -> list[dict]:
    """History rows up to ``up_to_step`` (none when the file does not exist)."""
    if not path.exists():
        return []
    history = pd.read_csv(path)
    return history[history["step"] <= up_to_step].to_dict("records")


def write_history(rows: list[dict], path: Path) -> None:
    """History rows to CSV, atomically."""
    with atomic_path(path) as tmp:
        pd.DataFrame(rows, columns=HISTORY_COLUMNS).to_csv(tmp, index=False)


def save_member(
    model, out: Path, history: list[dict], documents: dict[str, dict], keep_checkpoints: bool = False
) -> None:
    """A finished member in ``out``: its JSON ``documents`` (file name -> content), the
    weights and the history, each written atomically; then the checkpoints go (the
    final weights supersede them) unless ``keep_checkpoints`` (a job training several
    members drops them once all are saved: :func:`drop_checkpoints`)."""
    for name, document in documents.items():
        write_json(document, out / name)
    with atomic_path(out / "weights.weights.h5") as tmp:
        model.save_weights(str(tmp) + ".weights.h5")  # Keras insists on the suffix
        os.replace(str(tmp) + ".weights.h5", tmp)
    write_history(history, out / "history.csv")
    if not keep_checkpoints:
        drop_checkpoints(out)


def drop_checkpoints(member_dir: str | Path) -> None:
    """Remove a saved member's training checkpoints."""
    shutil.rmtree(Path(member_dir) / "checkpoints", ignore_errors=True)


def pdf_range(params: TrainParams) -> dict:
    """The redshift range of a member's PDFs and their point estimate (metadata of the
    prediction files)."""
    from .networks import POINT_ESTIMATE

    return {"z_min": params.z_min, "z_max": params.z_max, "point_estimate": POINT_ESTIMATE[params.output]}
