"""Train one ensemble member (method, fold, member) of the P19 classifier.

Protocol (method-spec §2): Adam (TF defaults) at ``learning_rate``, divided by
``1 / lr_drop_factor`` after ``lr_drop_fraction`` of the steps (L22: 1e-4, /5 at 60k of
120k), cross-entropy on the redshift bin of z_spec, batches from every fold but k with
random dihedral transforms. Members differ only in their seed.

Resumable: a checkpoint (weights, optimizer state, step) is written every
``checkpoint_every`` steps; a rerun restores the latest one and continues at the next
batch of the same epoch (the reader is deterministic per (seed, epoch)), so on CPU the
final weights equal those of an uninterrupted run. The validation set is evaluated
every ``validate_every`` steps (loss, PIT KS statistic, sigma_MAD), logged to
``history.csv`` and TensorBoard. With a GPU: mixed float16 and XLA; with several GPUs
on the node: ``tf.distribute.MirroredStrategy``.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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
    """The ``training`` config section (what a training job needs)."""

    network: str = "p19"
    output: str = "single"  # "channels": L22's multi-channel output module (step 1)
    n_bins: int = 180
    z_min: float = 0.0
    z_max: float = 0.4
    steps: int = 120_000
    batch_size: int = 128
    learning_rate: float = 1e-4
    lr_drop_fraction: float = 0.5
    lr_drop_factor: float = 0.2
    checkpoint_every: int = 2000
    validate_every: int = 2000
    pixel_transform: str = "none"
    shuffle_buffer: int = 2048
    in_memory_mb: int = 1000
    seed: int = 1
    threads: int = 0

    @classmethod
    def from_config(cls, section: dict, method_name: str = "baseline") -> TrainParams:
        """The parameters of ``method_name`` (its output module) from the config section."""
        from ..methods import method

        values = {k: v for k, v in section.items() if k in cls.__dataclass_fields__}
        if "output" not in values:
            values["output"] = method(method_name).output
        return cls(**values)


def member_seed(seed: int, fold: int, member: int) -> int:
    """Seed of one member: weights init, shuffling and augmentation."""
    return int(np.random.SeedSequence([seed, fold, member]).generate_state(1)[0] % (2**31))


def configure_tensorflow(threads: int, deterministic: bool) -> tuple:
    """Threads, determinism (CPU), mixed float16 and strategy (GPU); returns
    (strategy, n_gpus, precision policy name).

    Mixed bfloat16 on CPUs with AMX was measured and not used: p19_tiny trains no faster
    with it (620 vs 632 images/s, 1 thread, batch 64), p19_cpu 19% faster.
    """
    import keras
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already running in this process (library use)
            log.warning("TensorFlow is initialised already; keeping its thread settings")
    gpus = tf.config.list_physical_devices("GPU")
    policy = "float32"
    if gpus:
        for gpu in gpus:
            tf.config.experimental.set_memory_growth(gpu, True)
        policy = "mixed_float16"
    elif deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_global_policy(policy)
    strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    return strategy, len(gpus), policy


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


def validation_metrics(model, dataset, params: TrainParams) -> dict[str, float]:
    """Loss, PIT KS statistic, sigma_MAD and bias of ``model`` on ``dataset``."""
    from scipy.stats import kstest

    from ..metrics.pdf import pit, point_estimate, redshift_to_bin
    from .networks import POINT_ESTIMATE, predict_dataset

    _, z, pdf = predict_dataset(model, dataset)
    if not len(z):
        return {"val_loss": np.nan, "val_pit_ks": np.nan, "val_sigma_mad": np.nan, "val_bias": np.nan}
    pdf, z = pdf.astype(np.float64), z.astype(np.float64)
    labels = redshift_to_bin(z, params.n_bins, params.z_max, params.z_min)
    loss = -np.mean(np.log(np.clip(pdf[np.arange(len(z)), labels], 1e-12, None)))
    dz = (point_estimate(pdf, POINT_ESTIMATE[params.output], params.z_max, params.z_min) - z) / (1 + z)
    return {
        "val_loss": float(loss),
        "val_pit_ks": float(kstest(pit(pdf, z, params.z_max, params.z_min), "uniform").statistic),
        "val_sigma_mad": float(1.4826 * np.median(np.abs(dz - np.median(dz)))),
        "val_bias": float(np.mean(dz)),
    }


def channel_loss(output: dict, labels, r, n_bins: int):
    """L22 step 1 loss per example: sum over the six redshift heads of the cross-entropy
    with the one-hot z label (heads whose channel holds the galaxy's r bin) or the
    uniform distribution (the others), plus the r head's cross-entropy with the
    normalised indicator of the galaxy's channels (method-spec §4.1)."""
    import keras
    import tensorflow as tf

    from ..lin2022.channels import N_RBINS, R_MIN, R_STEP, channel_map

    mapping = tf.constant(channel_map(), tf.float32)
    rbin = tf.cast(tf.floor((r - R_MIN) / R_STEP), tf.int32)
    # non-finite or negative r: the faintest bin (L22 use max(r), which is in it)
    rbin = tf.where(tf.math.is_finite(r) & (r >= 0), tf.clip_by_value(rbin, 0, N_RBINS - 1), N_RBINS - 1)
    inside = tf.gather(mapping, rbin)  # (B, 6)
    onehot = tf.one_hot(labels, n_bins)
    targets = inside[:, :, None] * onehot[:, None, :] + (1.0 - inside[:, :, None]) / n_bins
    z_loss = tf.reduce_sum(keras.losses.categorical_crossentropy(targets, output["z_probs"]), axis=1)
    r_targets = inside / tf.reduce_sum(inside, axis=1, keepdims=True)
    return z_loss + keras.losses.categorical_crossentropy(r_targets, output["r_probs"])


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
    from .predict import load_member

    source, _ = load_member(member_dir)
    copied = copy_layer_weights(source, model)
    if not copied:
        raise ValueError(f"{member_dir}: no layer matches the network being trained")
    log.info("initialised %d layers from %s", len(copied), member_dir)


def train_member(
    params: TrainParams,
    manifest_path: str,
    fold: int,
    member: int,
    out_dir: str,
    init_from: str | None = None,
) -> pd.DataFrame:
    """Train (or resume) one member; write ``weights.weights.h5`` and ``history.csv``.
    ``init_from``: a trained member whose same-named layers start this one (a fresh
    start only; a resumed run continues from its checkpoint)."""
    import keras
    import tensorflow as tf

    from ..dataset.reader import (
        count_examples,
        load_examples,
        training_dataset,
        training_examples_bytes,
        validation_dataset,
    )
    from ..dataset.shards import verify_manifest
    from .networks import build_network, input_size, model_inputs

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed = member_seed(params.seed, fold, member)
    strategy, n_gpus, policy = configure_tensorflow(params.threads, deterministic=True)
    # Sizes only: hashing every shard in each of the 30 jobs would read the whole dataset
    # 30 times at survey scale; TFRecord CRCs catch corrupted records as they are read.
    manifest = verify_manifest(manifest_path, checksums=False)
    folds = sorted(set(manifest["fold"]))
    others = [f for f in folds if f != fold]
    n_train = count_examples(manifest, others, ["train"])
    global_batch = params.batch_size
    steps_per_epoch = n_train // global_batch
    if steps_per_epoch == 0:
        raise ValueError(f"fold {fold}: {n_train} training examples, fewer than one batch of {global_batch}")

    keras.utils.set_random_seed(seed)
    with strategy.scope():
        model = build_network(params.network, params.n_bins, params.output)
        drop_at = max(1, int(params.lr_drop_fraction * params.steps))
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
            [drop_at], [params.learning_rate, params.learning_rate * params.lr_drop_factor]
        )
        optimizer = keras.optimizers.Adam(schedule)
        if policy == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(model.trainable_variables)
        step_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step_var)
    manager = tf.train.CheckpointManager(checkpoint, out / "checkpoints", max_to_keep=2)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        log.info("resumed from %s at step %d", manager.latest_checkpoint, int(step_var))
    elif init_from:
        initialise_from(model, init_from)
    start = int(step_var)
    # the history travels with the checkpoint: Snakemake deletes an interrupted job's
    # declared outputs (history.csv) before rerunning it, not the checkpoints directory
    history = read_history(out / "checkpoints" / "history.csv", start)

    n_bins, width = params.n_bins, params.z_max / params.n_bins

    def loss_fn(batch):
        labels = tf.clip_by_value(tf.cast(tf.floor(batch["z"] / width), tf.int32), 0, n_bins - 1)
        output = model(model_inputs(batch), training=True)
        if params.output == "channels":
            per_example = channel_loss(output, labels, batch["r"], n_bins)
        else:
            per_example = keras.losses.sparse_categorical_crossentropy(labels, output)
        return tf.reduce_sum(per_example) / global_batch

    def replica_step(batch):
        with tf.GradientTape() as tape:
            loss = loss_fn(batch)
            scaled = optimizer.scale_loss(loss) if policy == "mixed_float16" else loss
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    @tf.function(jit_compile=bool(n_gpus))
    def train_step(batch):
        losses = strategy.run(replica_step, args=(batch,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

    crop = input_size(params.network)
    in_memory = training_examples_bytes(manifest, fold, crop) <= params.in_memory_mb * 2**20
    examples = load_examples(manifest, others, ["train"], crop) if in_memory else None

    def batches():
        epoch, first = divmod(start, steps_per_epoch)
        while True:
            ds = training_dataset(
                manifest,
                fold,
                global_batch,
                seed,
                epoch=epoch,
                start_batch=first,
                pixel_transform=params.pixel_transform,
                shuffle_buffer=params.shuffle_buffer,
                examples=examples,
                crop=crop,
            )
            yield from strategy.experimental_distribute_dataset(ds) if n_gpus > 1 else ds
            epoch, first = epoch + 1, 0

    val_data = validation_dataset(manifest, fold, 256, params.pixel_transform, crop)
    writer = tf.summary.create_file_writer(str(out / "tensorboard"))
    log.info(
        "fold %d member %d: %s (%s), %d training examples (%s), %d steps of %d (%.1f epochs) from "
        "step %d, seed %d",
        fold,
        member,
        params.network,
        policy,
        n_train,
        "in memory" if in_memory else "streamed",
        params.steps,
        global_batch,
        params.steps / steps_per_epoch,
        start,
        seed,
    )
    running, n_running, t_last, step = 0.0, 0, time.perf_counter(), start
    iterator = batches()
    for step in range(start + 1, params.steps + 1):
        running += float(train_step(next(iterator)))
        n_running += 1
        if step % params.validate_every == 0 or step == params.steps:
            elapsed = time.perf_counter() - t_last
            row = {
                "step": step,
                "epoch": step / steps_per_epoch,
                "learning_rate": float(schedule(step - 1)),
                "train_loss": running / n_running,
                **validation_metrics(model, val_data, params),
                "images_per_s": n_running * global_batch / elapsed,
            }
            history.append(row)
            with writer.as_default(step=step):
                for name, value in row.items():
                    if name != "step":
                        tf.summary.scalar(name, value)
            log.info("step %d: %s", step, {k: round(v, 5) for k, v in row.items() if k != "step"})
            running, n_running, t_last = 0.0, 0, time.perf_counter()
        if step % params.checkpoint_every == 0 or step == params.steps:
            save_checkpoint(manager, step_var, step, history, out)
    writer.flush()
    record = {**asdict(params), "fold": fold, "member": member, "seed": seed}
    save_member(model, out, history, {"params.json": record})
    return pd.DataFrame(history, columns=HISTORY_COLUMNS)


def save_checkpoint(manager, step_var, step: int, history: list[dict], out: Path) -> None:
    """Checkpoint at ``step``, the history so far beside it (Snakemake deletes an
    interrupted job's declared outputs, history.csv among them, not the checkpoints)."""
    step_var.assign(step)
    manager.save(checkpoint_number=step)
    write_history(history, out / "checkpoints" / "history.csv")


def save_member(model, out: Path, history: list[dict], documents: dict[str, dict]) -> None:
    """A finished member in ``out``: its JSON ``documents`` (file name -> content), the
    weights and the history, each written atomically; then the checkpoints go (the
    final weights supersede them)."""
    for name, document in documents.items():
        write_json(document, out / name)
    with atomic_path(out / "weights.weights.h5") as tmp:
        model.save_weights(str(tmp) + ".weights.h5")  # Keras insists on the suffix
        os.replace(str(tmp) + ".weights.h5", tmp)
    write_history(history, out / "history.csv")
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
