"""Train one ensemble member (method, fold, member) of the P19 classifier.

Protocol (docs/methods.md): Adam (TF defaults) at ``learning_rate``, divided by
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
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from .loop import ResumableTraining
from .member import (
    HISTORY_COLUMNS,
    Execution,
    TrainParams,
    configure_tensorflow,
    drop_checkpoints,
    initialise_from,
    member_seed,
    save_member,
)

log = logging.getLogger(__name__)


def redshift_labels(z, n_bins: int, z_min: float, z_max: float):
    """Class labels of a batch's redshifts (TensorFlow): floor((z - z_min) / width),
    clipped to the grid, as :func:`photoz.metrics.pdf.redshift_to_bin` (was z / width,
    right only while z_min is 0)."""
    import tensorflow as tf

    width = (z_max - z_min) / n_bins
    return tf.clip_by_value(tf.cast(tf.floor((z - z_min) / width), tf.int32), 0, n_bins - 1)


def validation_metrics(model, dataset, params: TrainParams) -> dict[str, float]:
    """Loss, PIT KS statistic, sigma_MAD and bias of ``model`` on ``dataset``."""
    from scipy.stats import kstest

    from ..metrics.pdf import pit, point_estimate, redshift_to_bin
    from .networks import POINT_ESTIMATE, predict_dataset

    _, z, pdf = predict_dataset(model, dataset)
    if not len(z):
        return {"val_loss": np.nan, "val_pit_ks": np.nan, "val_sigma_mad": np.nan, "val_bias": np.nan}
    pdf, z = pdf.astype(np.float64), z.astype(np.float64)
    labels = redshift_to_bin(z, params.n_bins, z_min=params.z_min, z_max=params.z_max)
    loss = -np.mean(np.log(np.clip(pdf[np.arange(len(z)), labels], 1e-12, None)))
    dz = (point_estimate(pdf, POINT_ESTIMATE[params.output], z_min=params.z_min, z_max=params.z_max) - z) / (
        1 + z
    )
    return {
        "val_loss": float(loss),
        "val_pit_ks": float(kstest(pit(pdf, z, z_min=params.z_min, z_max=params.z_max), "uniform").statistic),
        "val_sigma_mad": float(1.4826 * np.median(np.abs(dz - np.median(dz)))),
        "val_bias": float(np.mean(dz)),
    }


def train_member(
    params: TrainParams,
    manifest_path: str,
    fold: int,
    member: int,
    out_dir: str,
    init_from: str | None = None,
    execution: Execution | None = None,
) -> pd.DataFrame:
    """Train (or resume) one member; write ``weights.weights.h5`` and ``history.csv``
    (:func:`train_members` for one member)."""
    return train_members(params, manifest_path, fold, [member], [out_dir], [init_from], execution)[0]


def train_members(
    params: TrainParams,
    manifest_path: str,
    fold: int,
    members: list[int],
    out_dirs: list[str],
    init_froms: list[str | None] | None = None,
    execution: Execution | None = None,
) -> list[pd.DataFrame]:
    """Train (or resume) ``members`` of fold ``fold`` one after the other in this
    process, each into its directory of ``out_dirs``: weights, ``history.csv``,
    ``params.json``. ``init_froms``: per member, a trained member whose same-named layers
    start it (a fresh start only; a resumed run continues from its checkpoint).
    ``execution``: devices, precision and XLA (default: :func:`configure_tensorflow`'s
    choice from the GPUs).

    The members share one model, optimizer and traced train step, reset to each
    member's own seeded initialisation, and the training examples, read once: a member
    gets the weights it would get in a process of its own, without paying again for
    the imports, the data and the tracing. With several members the checkpoints are kept
    until the last one is saved, so a killed job resumes every member where it stopped
    (Snakemake deletes the finished members' outputs of an incomplete job)."""
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
    from .channels import channel_loss
    from .networks import build_network, input_size, model_inputs

    init_froms = list(init_froms or [None] * len(members))
    if not (len(members) == len(out_dirs) == len(init_froms)):
        raise ValueError(
            f"fold {fold}: {len(members)} members, {len(out_dirs)} output directories and "
            f"{len(init_froms)} starting members do not match"
        )
    if execution is None:
        execution = configure_tensorflow(params.threads, deterministic=True)
    strategy, policy = execution.strategy, execution.policy
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
    optimizer_start = [v.numpy() for v in optimizer.variables]  # zero moments, step 0, loss scale

    n_bins = params.n_bins

    def loss_fn(batch):
        labels = redshift_labels(batch["z"], n_bins, params.z_min, params.z_max)
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

    @tf.function(jit_compile=execution.jit)
    def train_step(batch):
        losses = strategy.run(replica_step, args=(batch,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

    crop = input_size(params.network)
    in_memory = training_examples_bytes(manifest, fold, crop) <= params.in_memory_mb * 2**20
    examples = load_examples(manifest, others, ["train"], crop) if in_memory else None
    val_data = validation_dataset(manifest, fold, 256, params.pixel_transform, crop)

    histories = []
    for member, out_dir, init_from in zip(members, out_dirs, init_froms, strict=True):
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        seed = member_seed(params.seed, fold, member)
        # the member's own initialisation: a model built after seeding, as in a fresh process
        keras.utils.set_random_seed(seed)
        model.set_weights(build_network(params.network, params.n_bins, params.output).get_weights())
        for variable, value in zip(optimizer.variables, optimizer_start, strict=True):
            variable.assign(value)
        training = ResumableTraining(out, model, optimizer, strategy)
        if not training.resumed and init_from:
            initialise_from(model, init_from)

        def batches(start=training.start, seed=seed):
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
                yield from strategy.experimental_distribute_dataset(ds) if execution.replicas > 1 else ds
                epoch, first = epoch + 1, 0

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
            training.start,
            seed,
        )
        iterator = batches()
        history = training.run(
            lambda step, iterator=iterator: train_step(next(iterator)),
            params.steps,
            params.validate_every,
            params.checkpoint_every,
            global_batch,
            epoch_of=lambda step: step / steps_per_epoch,
            learning_rate_of=lambda step: float(schedule(step - 1)),
            validate=lambda: validation_metrics(model, val_data, params),
        )
        record = {**asdict(params), "fold": fold, "member": member, "seed": seed}
        save_member(model, out, history, {"params.json": record}, keep_checkpoints=len(members) > 1)
        histories.append(pd.DataFrame(history, columns=HISTORY_COLUMNS))
    if len(members) > 1:  # every member saved: the kept checkpoints go
        for out_dir in out_dirs:
            drop_checkpoints(out_dir)
    return histories
