"""L22 steps 2 and 3: retrain the redshift heads on the frozen step 1 representation.

Per (fold, member), docs/methods.md:

1. the model's training galaxies (every fold but k, validation galaxies excluded) and
   member m's near-balanced subset of them (:mod:`.subset`);
2. the step 1 member is restored; everything but the redshift heads stays frozen
   (convolutions, FC1/FC2 and the r head);
3. labels: step 2 the hard step 1 targets; step 3 (and 3a, 3b) the shifted and/or soft
   labels on the extended range, fitted on step 2's pre-estimates of the subset (mode
   as z_phot) (:mod:`.labels`); step 3 heads are new (Glorot, seeded), step 2 heads
   continue from step 1. Deviation from L22, on purpose: the pre-estimates are step 2's
   out-of-fold predictions (each subset galaxy predicted by the same member index of
   the fold model that never trained on it), not the step 2 model's predictions on
   its own training subset: on small surveys those are memorised (measured: fitted
   label dispersions ~0 bins and a zero scatter profile after ~100 epochs), and even at
   survey scale they understate the scatter the labels are meant to carry. (The other
   folds' models trained on fold k's galaxies, so fold k's label model, a few
   aggregate numbers, depends weakly on fold k's redshifts; no test galaxy's own
   prediction does.);
4. ``steps`` draws of ``batch_size`` galaxies uniformly with replacement from the subset,
   each with a random dihedral transform (L22 draw batches the same way). As the
   representation is frozen and has no dropout or batch statistics, its output for a
   (galaxy, transform) pair never changes: it is computed once for the distinct pairs
   drawn and the heads train on those features, which costs seconds instead of a
   forward pass through the network per step;
5. Adam at a constant rate (L22: 2e-5, batch 32, evaluated at 800 iterations), a
   checkpoint every ``checkpoint_every`` steps (rerun resumes), a validation row every
   ``validate_every`` steps; the full model (step 1 representation + new heads) is
   saved like any member, so ``predict`` and ``ensemble`` treat it like the baseline.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import FromConfig
from ..methods import method
from ..models.channels import N_CHANNELS, r_bins
from ..models.loop import ResumableTraining
from ..models.member import (
    HISTORY_COLUMNS,
    TrainParams,
    configure_tensorflow,
    copy_layer_weights,
    load_member,
    member_seed,
    save_member,
)
from .labels import (
    LabelModel,
    extended_range,
    fit_label_model,
    hard_labels,
    head_targets,
    label_shift_summary,
    step3_labels,
)
from .subset import balanced_subset, scaled_threshold

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadParams(FromConfig):
    """The ``lin2022`` config section: balancing and head training of steps 2-3."""

    config_section = "lin2022"

    balance_threshold: int  # L22 fth at survey scale
    balance_reference_size: int  # training-set size the threshold refers to
    steps: int  # L22: the iteration-800 checkpoint
    batch_size: int
    learning_rate: float
    seed: int
    epochs: float | None  # set: the length in passes over the member's subset instead

    def iterations(self, subset_size: int) -> int:
        """Head-training iterations: ``steps``, or ``epochs`` passes over a subset of
        ``subset_size`` galaxies (at least one iteration)."""
        if self.epochs is None:
            return self.steps
        return max(1, int(np.ceil(self.epochs * subset_size / self.batch_size)))


def training_galaxies(dataset_catalog: pd.DataFrame, fold: int) -> pd.DataFrame:
    """objid, z, r (dereddened Petrosian) of the training galaxies of fold ``fold``'s models."""
    cat = dataset_catalog
    rows = cat["in_dataset"] & (cat["fold"] != fold) & ~cat["validation"].astype(bool)
    out = pd.DataFrame(
        {
            "objid": cat.loc[rows, "objid"].to_numpy(np.int64),
            "z": cat.loc[rows, "z"].to_numpy(np.float64),
            "r": cat.loc[rows, "dered_petro_r"].to_numpy(np.float64),
        }
    )
    if out.empty:
        raise ValueError(f"fold {fold}: no training galaxies in the dataset catalog")
    return out.sort_values("objid", ignore_index=True)


def member_subset(
    galaxies: pd.DataFrame,
    params: HeadParams,
    train: TrainParams,
    fold: int,
    member: int,
    balanced: bool = True,
):
    """(subset table, r bins of the subset, the cell cap used) of one member; not
    ``balanced``: every training galaxy, cap None (L22's variant without balancing)."""
    rbin = r_bins(galaxies["r"].to_numpy())
    if not balanced:
        return galaxies.reset_index(drop=True), rbin, None
    cap = scaled_threshold(params.balance_threshold, len(galaxies), params.balance_reference_size)
    seed = int(np.random.SeedSequence([params.seed, fold]).generate_state(1)[0])  # same for all members
    rows = balanced_subset(
        galaxies["objid"].to_numpy(),
        galaxies["z"].to_numpy(),
        rbin,
        cap,
        member,
        seed,
        train.n_bins,
        train.z_max,
    )
    return galaxies.iloc[rows].reset_index(drop=True), rbin[rows], cap


def _images(examples: dict, rows: np.ndarray, transforms: np.ndarray, pixel_transform: str):
    import tensorflow as tf

    from ..dataset.reader import apply_pixel_transform, dihedral_transform

    cubes = tf.gather(examples["cube"], rows)
    images = dihedral_transform(cubes, tf.constant(transforms, tf.int32))
    return apply_pixel_transform(images, pixel_transform)


def representation_features(model, examples: dict, rows, transforms, pixel_transform: str, batch: int = 512):
    """FC2 output of the (frozen) network for each (example row, dihedral transform)."""
    import keras
    import tensorflow as tf

    from ..models.networks import REPRESENTATION

    encoder = keras.Model(model.inputs, model.get_layer(REPRESENTATION).output)
    out = []
    for lo in range(0, len(rows), batch):
        sl = slice(lo, lo + batch)
        images = _images(examples, rows[sl], transforms[sl], pixel_transform)
        ebv = tf.gather(examples["ebv"], rows[sl])[:, None]
        out.append(encoder({"image": images, "ebv": ebv}, training=False).numpy())
    width = encoder.output.shape[-1]
    return np.concatenate(out) if out else np.zeros((0, width), np.float32)


def pre_estimates(prediction_files: list[str], objids: np.ndarray) -> np.ndarray:
    """Step 2's z_phot (the mode of the mixture PDF, L22's estimator) of each galaxy in
    ``objids``, from step 2's out-of-fold predictions (every galaxy predicted by the
    fold model that did not train on it)."""
    from ..metrics.pdf import pdf_mode
    from ..tables import read_pdf_range, read_pdfs

    found = {}
    for path in prediction_files:
        ids, pdf = read_pdfs(path)
        z_min, z_max = read_pdf_range(path)
        found.update(zip(ids.tolist(), pdf_mode(pdf, z_min=z_min, z_max=z_max).tolist(), strict=True))
    missing = [int(i) for i in objids if int(i) not in found]
    if missing:
        raise ValueError(f"galaxies {missing[:3]} have no step 2 prediction in {prediction_files}")
    return np.array([found[int(i)] for i in objids])


def train_heads(
    method_name: str,
    train: TrainParams,
    heads: HeadParams,
    manifest_path: str,
    dataset_catalog: str,
    fold: int,
    member: int,
    step1_dir: str,
    out_dir: str,
    pre_estimate_files: list[str] | None = None,
) -> pd.DataFrame:
    """Train (or resume) the heads of one member of step 2 / 3 / 3a / 3b; write the full
    model's ``weights.weights.h5``, ``history.csv``, ``params.json`` (and the fitted
    ``labels.json`` for step 3)."""
    import keras
    import tensorflow as tf

    from ..dataset.reader import load_examples, validation_dataset
    from ..dataset.shards import verify_manifest
    from ..models.networks import build_network, channel_heads, input_size
    from ..models.train import validation_metrics

    spec = method(method_name)
    if spec.kind != "heads":
        raise ValueError(f"method {method_name!r} does not train heads")
    if spec.extended and not pre_estimate_files:
        raise ValueError(f"{method_name} needs step 2's out-of-fold predictions (its pre-estimates)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed = member_seed(heads.seed, fold, member)
    configure_tensorflow(train.threads, deterministic=True)
    manifest = verify_manifest(manifest_path, checksums=False)
    others = sorted(f for f in set(manifest["fold"]) if f != fold)

    step1, step1_params = load_member(step1_dir)
    if step1_params.output != "channels":
        raise ValueError(f"{step1_dir} is not a step 1 (multi-channel) member")
    galaxies = training_galaxies(pd.read_parquet(dataset_catalog), fold)
    subset, rbin, cap = member_subset(galaxies, heads, step1_params, fold, member, spec.balanced)
    crop = input_size(step1_params.network)

    label_model: LabelModel | None = None
    if spec.extended:
        zphot = pre_estimates(pre_estimate_files, subset["objid"].to_numpy())
        label_model = fit_label_model(
            subset["z"].to_numpy(), zphot, rbin, step1_params.n_bins, step1_params.z_max
        )
        labels, channels = step3_labels(
            subset["z"].to_numpy(), rbin, label_model, step1_params.z_max, shift=spec.shift, soft=spec.soft
        )
        n_bins, z_min, z_max = extended_range(step1_params.n_bins, step1_params.z_max)
    else:
        labels, channels = hard_labels(subset["z"].to_numpy(), rbin, step1_params.n_bins, step1_params.z_max)
        n_bins, z_min, z_max = step1_params.n_bins, step1_params.z_min, step1_params.z_max
    params = replace(step1_params, n_bins=n_bins, z_min=z_min, z_max=z_max, threads=train.threads)

    keras.utils.set_random_seed(seed)
    model = build_network(params.network, n_bins, "channels")
    skip = "zhead" if spec.extended else None
    copied = copy_layer_weights(step1, model, skip_prefix=skip)
    expected = [
        layer.name for layer in step1.layers if layer.weights and not (skip and layer.name.startswith(skip))
    ]
    if copied != expected:
        raise ValueError(
            f"{step1_dir}: layers {sorted(set(expected) - set(copied))} do not fit {method_name}"
        )
    head_layers = {f"zhead{m}": model.get_layer(f"zhead{m}") for m in range(N_CHANNELS)}
    head_layers["rhead"] = model.get_layer("rhead")
    features_in = keras.Input((model.get_layer("fc2").output.shape[-1],), name="features")
    head_model = keras.Model(features_in, channel_heads(features_in, n_bins, head_layers))
    trainable = [w for m in range(N_CHANNELS) for w in head_layers[f"zhead{m}"].trainable_weights]

    rng = np.random.default_rng(seed)
    n_steps = heads.iterations(len(subset))
    draws = rng.integers(0, len(subset), size=(n_steps, heads.batch_size))
    transforms = rng.integers(0, 8, size=draws.shape)
    pairs, pair_index = np.unique(draws * 8 + transforms, return_inverse=True)
    pair_index = pair_index.reshape(draws.shape)
    # only the drawn galaxies' images are read (at most steps x batch of a subset that
    # holds ~10^5 galaxies at survey scale); they come in shard order
    drawn = subset["objid"].to_numpy()[np.unique(draws)]
    examples = load_examples(manifest, others, ["train"], crop, objids=drawn)
    loaded = examples["objid"].numpy()
    if len(loaded) != len(drawn):
        missing = sorted(set(drawn) - set(loaded))[:3]
        raise ValueError(f"fold {fold}: subset galaxies {missing} are in the catalog but not in the shards")
    example_row = pd.Series(np.arange(len(loaded)), index=loaded)[subset["objid"].to_numpy()[pairs // 8]]
    t0 = time.perf_counter()
    features = representation_features(
        step1, examples, example_row.to_numpy(), pairs % 8, params.pixel_transform
    )
    log.info(
        "%s fold %d member %d: subset %d of %d training galaxies (cell cap %s), %d distinct (galaxy, "
        "transform) pairs -> FC2 features in %.1f s",
        method_name,
        fold,
        member,
        len(subset),
        len(galaxies),
        "none" if cap is None else cap,
        len(pairs),
        time.perf_counter() - t0,
    )

    optimizer = keras.optimizers.Adam(heads.learning_rate)
    optimizer.build(trainable)
    training = ResumableTraining(out, model, optimizer)

    @tf.function
    def train_step(feats, targets):
        with tf.GradientTape() as tape:
            z_probs = head_model(feats, training=True)["z_probs"]
            per_example = tf.reduce_sum(keras.losses.categorical_crossentropy(targets, z_probs), axis=1)
            loss = tf.reduce_mean(per_example)
        grads = tape.gradient(loss, trainable)
        optimizer.apply_gradients(zip(grads, trainable, strict=True))
        return loss

    def step_on_draw(step: int):
        rows = draws[step - 1]
        targets = head_targets(labels[rows], channels[rows])
        return train_step(tf.constant(features[pair_index[step - 1]]), tf.constant(targets))

    val_data = validation_dataset(manifest, fold, 256, params.pixel_transform, crop)
    history = training.run(
        step_on_draw,
        n_steps,
        train.validate_every,
        train.checkpoint_every,
        heads.batch_size,
        epoch_of=lambda step: step * heads.batch_size / len(subset),
        learning_rate_of=lambda step: heads.learning_rate,
        validate=lambda: validation_metrics(model, val_data, params),
    )

    record = {
        **asdict(params),
        "method": method_name,
        "fold": fold,
        "member": member,
        "seed": seed,
        "step1_dir": str(step1_dir),
        "pre_estimates": list(pre_estimate_files or []),
        "heads": asdict(heads),
        "subset_size": len(subset),
        "training_size": len(galaxies),
        "cell_cap": cap,
        "iterations": n_steps,
        "epochs": n_steps * heads.batch_size / len(subset),
    }
    documents = {"params.json": record}
    if label_model is not None:
        documents["labels.json"] = {
            **label_model.to_dict(),
            "shift_applied": spec.shift,
            "shift_by_z_spec": label_shift_summary(
                subset["z"].to_numpy(), zphot, rbin, label_model, step1_params.z_max
            ),
        }
    save_member(model, out, history, documents)
    return pd.DataFrame(history, columns=HISTORY_COLUMNS)
