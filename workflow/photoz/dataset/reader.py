"""``tf.data`` input pipelines over the TFRecord shards.

* :func:`training_dataset`: one epoch of "train on every fold but k": the training
  shards of the other folds, interleaved in parallel, shuffled, batched, parsed, with
  a random dihedral transform per image (the 8 combinations of 90-degree rotations and
  flips, uniformly; P19 §3.8) and an optional pixel transform. Deterministic for a
  (seed, epoch): shard order and shuffle are seeded, and the transforms use stateless
  random numbers keyed by (seed, epoch, batch), so a run resumed at a batch of an
  epoch sees exactly the batches an uninterrupted run would have seen. Sets that fit
  in memory are parsed once (:func:`load_examples`) and permuted per epoch instead.
* :func:`validation_dataset`: the validation galaxies outside fold k, no augmentation.
* :func:`evaluation_dataset`: every dataset galaxy of fold k in shard order, no augmentation.

Every element is a dict of batched tensors: ``image`` (B, crop, crop, 5) float32 channels
last (bands u, g, r, i, z; ``crop`` central pixels, default the whole 64), ``ebv``, ``z``,
``r`` (B,) float32 and ``objid`` (B,) int64.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import tensorflow as tf

from .example import CUBE_SHAPE, CUBE_SIZE
from .shards import read_manifest

CUTOUT = CUBE_SHAPE[-1]

PIXEL_TRANSFORMS = ("none", "sqrt")
N_DIHEDRAL = 8

_SCALARS = {
    "objid": tf.io.FixedLenFeature([], tf.int64),
    "ebv": tf.io.FixedLenFeature([], tf.float32),
    "z": tf.io.FixedLenFeature([], tf.float32),
    "r": tf.io.FixedLenFeature([], tf.float32),
}
_CUBE = {"cube": tf.io.FixedLenFeature([CUBE_SIZE], tf.float32)}
_EXTRA = {
    "weight": tf.io.FixedLenFeature([CUBE_SIZE], tf.float32),
    "fold": tf.io.FixedLenFeature([], tf.int64),
    "validation": tf.io.FixedLenFeature([], tf.int64),
}


def parse_examples(serialized: tf.Tensor, with_all: bool = False, crop: int = CUTOUT) -> dict[str, tf.Tensor]:
    """Parse a batch of serialized examples; cube (and weight) as (B, 5, crop, crop),
    the central ``crop`` pixels of the 64x64 cutout."""
    spec = {**_SCALARS, **_CUBE, **(_EXTRA if with_all else {})}
    parsed = tf.io.parse_example(serialized, spec)
    lo = (CUTOUT - crop) // 2
    for name in ("cube", "weight"):
        if name in parsed:
            parsed[name] = tf.reshape(parsed[name], (-1, *CUBE_SHAPE))[:, :, lo : lo + crop, lo : lo + crop]
    return parsed


def dihedral_transform(cubes: tf.Tensor, k: tf.Tensor) -> tf.Tensor:
    """Cubes (B, 5, H, W) -> images (B, H, W, 5), image i under dihedral element k[i].

    Element k = (transpose if bit 0) then (flip rows if bit 1) then (flip columns if
    bit 2): the 8 elements of the square's symmetry group, each exactly once. Images
    are grouped by k so that each group needs one transpose and one reverse (~5x
    faster than selecting between transformed copies of the whole batch).
    """
    k = tf.cast(k, tf.int32)
    groups = tf.dynamic_partition(cubes, k, N_DIHEDRAL)
    positions = tf.dynamic_partition(tf.range(tf.shape(cubes)[0]), k, N_DIHEDRAL)
    out = []
    for element, group in enumerate(groups):
        image = tf.transpose(group, [0, 3, 2, 1] if element & 1 else [0, 2, 3, 1])
        axes = [axis for axis, bit in ((1, 2), (2, 4)) if element & bit]
        out.append(tf.reverse(image, axes) if axes else image)
    return tf.dynamic_stitch(positions, out)


def apply_pixel_transform(images: tf.Tensor, name: str) -> tf.Tensor:
    """``none`` (P19: pixels as stored) or ``sqrt``: sign(x)(sqrt(|x|+1)-1) (L22)."""
    if name == "none":
        return images
    if name == "sqrt":
        return tf.sign(images) * (tf.sqrt(tf.abs(images) + 1.0) - 1.0)
    raise ValueError(f"unknown pixel transform {name!r}; expected one of {PIXEL_TRANSFORMS}")


def _tfrecord_rows(manifest: pd.DataFrame, folds: list[int], roles: list[str]) -> pd.DataFrame:
    return manifest[
        (manifest["format"] == "tfrecord") & manifest["fold"].isin(folds) & manifest["role"].isin(roles)
    ]


def shard_files(manifest: pd.DataFrame, folds: list[int], roles: list[str]) -> list[str]:
    """TFRecord files of the given folds and roles, in manifest order."""
    return list(_tfrecord_rows(manifest, folds, roles)["abspath"])


def count_examples(manifest: pd.DataFrame, folds: list[int], roles: list[str]) -> int:
    """Number of examples in the given folds and roles."""
    return int(_tfrecord_rows(manifest, folds, roles)["n_records"].sum())


def _other_folds(manifest: pd.DataFrame, fold: int) -> list[int]:
    folds = sorted(set(manifest["fold"]))
    if fold not in folds:
        raise ValueError(f"fold {fold} is not in the dataset (folds {folds})")
    return [f for f in folds if f != fold]


def _finish(parsed: dict[str, tf.Tensor], images: tf.Tensor, pixel_transform: str) -> dict[str, tf.Tensor]:
    out = {name: parsed[name] for name in _SCALARS}
    out["image"] = apply_pixel_transform(images, pixel_transform)
    return out


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def load_examples(
    manifest: pd.DataFrame | str | os.PathLike,
    folds: list[int],
    roles: list[str],
    crop: int = CUTOUT,
    objids: np.ndarray | None = None,
) -> dict:
    """Every example of the given folds and roles (only those in ``objids`` if given)
    parsed into memory, in manifest order (dict of tensors as :func:`parse_examples`
    returns them)."""
    if not isinstance(manifest, pd.DataFrame):
        manifest = read_manifest(manifest)
    files = shard_files(manifest, folds, roles)
    ds = tf.data.TFRecordDataset(files, buffer_size=8 << 20).batch(512)
    ds = ds.map(
        lambda s: parse_examples(s, crop=crop), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    parts = []
    for part in ds.as_numpy_iterator():
        if objids is not None:
            keep = np.isin(part["objid"], objids)
            part = {name: values[keep] for name, values in part.items()}
        parts.append(part)
    if not parts or not sum(len(part["objid"]) for part in parts):
        raise ValueError(f"no examples in folds {folds}, roles {roles}")
    return {name: tf.constant(np.concatenate([part[name] for part in parts])) for name in parts[0]}


def training_examples_bytes(manifest: pd.DataFrame, fold: int, crop: int = CUTOUT) -> int:
    """Memory the training examples of fold ``fold``'s model take once parsed."""
    return count_examples(manifest, _other_folds(manifest, fold), ["train"]) * (5 * crop * crop * 4 + 28)


def training_dataset(
    manifest: pd.DataFrame | str | os.PathLike,
    fold: int,
    batch_size: int,
    seed: int,
    epoch: int = 0,
    start_batch: int = 0,
    augment: bool = True,
    pixel_transform: str = "none",
    shuffle_buffer: int = 2048,
    cycle_length: int = 8,
    examples: dict | None = None,
    crop: int = CUTOUT,
) -> tf.data.Dataset:
    """One epoch of training batches for the model whose test fold is ``fold``.

    Streams the shards through a ``shuffle_buffer``, or, given ``examples`` (the
    training examples of :func:`load_examples`, for sets that fit in memory), draws a
    full permutation of them: parsing once instead of every epoch makes small-set
    training ~25% faster on CPU. ``start_batch`` skips the first batches of the epoch
    (resuming); the last partial batch is dropped so every step sees ``batch_size`` images.
    Images are the central ``crop`` pixels (``examples`` must have been loaded with it).
    """
    if not isinstance(manifest, pd.DataFrame):
        manifest = read_manifest(manifest)
    epoch_seed = _epoch_seed(seed, epoch)
    key = tf.constant([seed, epoch], dtype=tf.int64)
    if examples is None:
        files = shard_files(manifest, _other_folds(manifest, fold), ["train"])
        if not files:
            raise ValueError(f"no training shards outside fold {fold}")
        order = np.random.default_rng(epoch_seed).permutation(len(files))
        ds = tf.data.Dataset.from_tensor_slices([files[i] for i in order])
        ds = ds.interleave(
            lambda f: tf.data.TFRecordDataset(f, buffer_size=8 << 20),
            cycle_length=min(cycle_length, len(files)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        ds = ds.shuffle(shuffle_buffer, seed=epoch_seed % (2**31), reshuffle_each_iteration=False)
        ds = ds.batch(batch_size, drop_remainder=True).enumerate().skip(start_batch)

        def take(index, serialized):
            return index, parse_examples(serialized, crop=crop)
    else:
        n = int(examples["objid"].shape[0])
        n_batches = n // batch_size
        order = np.random.default_rng(epoch_seed).permutation(n)[: n_batches * batch_size]
        ds = tf.data.Dataset.from_tensor_slices(order.reshape(n_batches, batch_size))
        ds = ds.enumerate().skip(start_batch)

        def take(index, rows):
            return index, {name: tf.gather(values, rows) for name, values in examples.items()}

    def transform(index, parsed):
        cubes = parsed["cube"]
        if augment:
            batch_seed = tf.stack([key[0], key[1] * 1_000_003 + index])
            k = tf.random.stateless_uniform(
                [tf.shape(cubes)[0]], batch_seed, maxval=N_DIHEDRAL, dtype=tf.int32
            )
        else:
            k = tf.zeros([tf.shape(cubes)[0]], tf.int32)
        return _finish(parsed, dihedral_transform(cubes, k), pixel_transform)

    ds = ds.map(
        lambda index, item: transform(*take(index, item)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return ds.prefetch(tf.data.AUTOTUNE)


def _ordered(files: list[str], batch_size: int, pixel_transform: str, crop: int) -> tf.data.Dataset:
    def parse(serialized):
        parsed = parse_examples(serialized, crop=crop)
        return _finish(parsed, tf.transpose(parsed["cube"], [0, 2, 3, 1]), pixel_transform)

    ds = tf.data.TFRecordDataset(files, buffer_size=8 << 20).batch(batch_size)
    return ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)


def validation_dataset(
    manifest: pd.DataFrame | str | os.PathLike,
    fold: int,
    batch_size: int,
    pixel_transform: str = "none",
    crop: int = CUTOUT,
) -> tf.data.Dataset:
    """The validation galaxies outside fold ``fold``, in shard order, not augmented."""
    if not isinstance(manifest, pd.DataFrame):
        manifest = read_manifest(manifest)
    return _ordered(
        shard_files(manifest, _other_folds(manifest, fold), ["valid"]), batch_size, pixel_transform, crop
    )


def evaluation_dataset(
    manifest: pd.DataFrame | str | os.PathLike,
    fold: int,
    batch_size: int,
    pixel_transform: str = "none",
    crop: int = CUTOUT,
) -> tf.data.Dataset:
    """Every dataset galaxy of fold ``fold`` (training and validation shards), in order."""
    if not isinstance(manifest, pd.DataFrame):
        manifest = read_manifest(manifest)
    _other_folds(manifest, fold)
    return _ordered(shard_files(manifest, [fold], ["train", "valid"]), batch_size, pixel_transform, crop)
