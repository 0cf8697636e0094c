"""Stage 6, build_dataset: folds, shards (TFRecord + Parquet), manifest, tf.data readers."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import tensorflow as tf
import yaml
from conftest import small_config
from cube_factory import build_dataset, build_dataset_command, write_random_partitions

from photoz.dataset.example import encode_example
from photoz.dataset.folds import assign_folds, select_validation
from photoz.dataset.reader import (
    apply_pixel_transform,
    count_examples,
    dihedral_transform,
    evaluation_dataset,
    load_examples,
    parse_examples,
    training_dataset,
    validation_dataset,
)
from photoz.dataset.shards import DatasetError, read_manifest, verify_manifest
from photoz.dataset.stage import DatasetInputError
from photoz.tables import read_cubes, read_table_metadata

N_PARTS, PER_PART = 3, 70
#: Galaxy 5 lacks the g band, galaxy 150 the z band (as after failed frame fetches).
MISSING_BAND = {5: 1, 150: 4}


def _dataset_config(shard_mb: float = 1.0, seed: int = 11) -> dict:
    cfg = small_config()
    cfg["dataset"].update(seed=seed, shard_mb=shard_mb, validation_fraction=0.1)
    return cfg


def _build(tmp_path, cfg, catalog, cubes):
    out = tmp_path / "dataset"
    return out, build_dataset(cfg, catalog, cubes, out)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A dataset of 3 random partitions (210 galaxies, 2 of them missing a band)."""
    tmp = tmp_path_factory.mktemp("dataset")
    catalog, cubes = write_random_partitions(tmp / "in", N_PARTS, PER_PART, seed=3, missing_band=MISSING_BAND)
    out, table = _build(tmp, _dataset_config(), catalog, cubes)
    return out, table, catalog, cubes


def _read_all_tfrecords(manifest: pd.DataFrame) -> dict[int, dict]:
    records = {}
    for row in manifest[manifest["format"] == "tfrecord"].itertuples():
        for batch in tf.data.TFRecordDataset(row.abspath).batch(64):
            parsed = {k: v.numpy() for k, v in parse_examples(batch, with_all=True).items()}
            for i, objid in enumerate(parsed["objid"]):
                assert int(objid) not in records, f"galaxy {objid} in two shards"
                records[int(objid)] = {k: v[i] for k, v in parsed.items()} | {"file": row.path, "index": i}
    return records


# --- folds ------------------------------------------------------------------------------


def test_folds_are_balanced_deterministic_and_order_independent():
    rng = np.random.default_rng(0)
    objids = rng.choice(2**62, size=10_007, replace=False).astype(np.uint64)
    folds = assign_folds(objids, 5, seed=1)
    sizes = np.bincount(folds)
    assert len(sizes) == 5 and sizes.max() - sizes.min() <= 1
    assert (sizes.max() - sizes.min()) / sizes.mean() <= 0.01
    assert np.array_equal(folds, assign_folds(objids, 5, seed=1))
    perm = rng.permutation(len(objids))
    assert np.array_equal(assign_folds(objids[perm], 5, seed=1), folds[perm])
    other = assign_folds(objids, 5, seed=2)
    assert 0.7 < (other != folds).mean() < 0.9  # a new seed reshuffles (~80% move)

    val = select_validation(objids, folds, 0.05, seed=1)
    for k in range(5):
        assert abs(val[folds == k].sum() - round(0.05 * sizes[k])) == 0
    assert np.array_equal(val, select_validation(objids[perm], folds[perm], 0.05, seed=1)[np.argsort(perm)])


def test_duplicate_objids_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        assign_folds(np.array([1, 2, 2], dtype=np.uint64), 5, seed=0)


# --- examples ---------------------------------------------------------------------------


def test_hand_encoded_example_is_the_protobuf_message():
    rng = np.random.default_rng(1)
    cube = rng.normal(size=(5, 64, 64)).astype(np.float32)
    weight = rng.uniform(size=(5, 64, 64)).astype(np.float32)
    objid = 1237648720693755918
    raw = encode_example(objid, cube, weight, 0.031, 0.1234, 17.2, 3, True)
    ref = tf.train.Example(
        features=tf.train.Features(
            feature={
                "objid": tf.train.Feature(int64_list=tf.train.Int64List(value=[objid])),
                "cube": tf.train.Feature(float_list=tf.train.FloatList(value=cube.ravel().tolist())),
                "weight": tf.train.Feature(float_list=tf.train.FloatList(value=weight.ravel().tolist())),
                "ebv": tf.train.Feature(float_list=tf.train.FloatList(value=[0.031])),
                "z": tf.train.Feature(float_list=tf.train.FloatList(value=[0.1234])),
                "r": tf.train.Feature(float_list=tf.train.FloatList(value=[17.2])),
                "fold": tf.train.Feature(int64_list=tf.train.Int64List(value=[3])),
                "validation": tf.train.Feature(int64_list=tf.train.Int64List(value=[1])),
            }
        )
    )
    assert tf.train.Example.FromString(raw) == ref
    with pytest.raises(ValueError, match="int64"):
        encode_example(2**63, cube, weight, 0.0, 0.1, 17.0, 0, False)


# --- the built dataset ------------------------------------------------------------------


def test_every_galaxy_is_in_one_fold_and_sizes_balance(built):
    out, table, catalog, cubes = built
    written = pd.read_parquet(out / "catalog.parquet")
    cube_ids = np.concatenate([read_cubes(c)[0]["objid"].to_numpy() for c in cubes])
    assert sorted(written["objid"]) == sorted(cube_ids)
    assert written["objid"].is_unique and written["fold"].between(0, 4).all()
    sizes = written["fold"].value_counts()
    assert sizes.max() - sizes.min() <= 1
    # The galaxies without a band keep their fold but are not examples, with a reason.
    objids = pd.read_parquet(catalog)["objid"].to_numpy()
    excluded = written.set_index("objid").loc[objids[list(MISSING_BAND)]]
    assert not excluded["in_dataset"].any()
    assert list(excluded["exclude_reason"]) == ["no data in band g", "no data in band z"]
    assert written["in_dataset"].sum() == N_PARTS * PER_PART - 2
    meta = read_table_metadata(out / "catalog.parquet")
    assert meta["n_excluded"] == 2 and meta["dataset"]["seed"] == 11


def test_same_seed_gives_identical_dataset(built, tmp_path):
    out, _, catalog, cubes = built
    again, _ = _build(tmp_path, _dataset_config(), catalog, cubes)
    first, second = read_manifest(out / "manifest.tsv"), read_manifest(again / "manifest.tsv")
    assert list(first["sha256"]) == list(second["sha256"])
    cols = ["objid", "fold", "validation", "tfrecord", "record"]
    assert pd.read_parquet(out / "catalog.parquet")[cols].equals(
        pd.read_parquet(again / "catalog.parquet")[cols]
    )


def test_round_trip_is_bit_exact_in_tfrecord_and_parquet(built):
    out, _, catalog, cubes = built
    manifest = verify_manifest(out / "manifest.tsv")
    labels = pd.read_parquet(catalog).set_index("objid")
    written = pd.read_parquet(out / "catalog.parquet").set_index("objid")
    records = _read_all_tfrecords(manifest)
    assert set(records) == set(written.index[written["in_dataset"]])
    for cube_file in cubes:
        table, cube, weight = read_cubes(cube_file)
        for k, objid in enumerate(table["objid"]):
            if not written.loc[objid, "in_dataset"]:
                continue
            rec = records[int(objid)]
            assert np.array_equal(rec["cube"].view(np.uint32), cube[k].view(np.uint32))
            assert np.array_equal(rec["weight"].view(np.uint32), weight[k].view(np.uint32))
            for name, col in (("z", "z"), ("ebv", "e_bv_sfd"), ("r", "dered_petro_r")):
                assert rec[name] == np.float32(labels.loc[objid, col])
            row = written.loc[objid]
            assert rec["fold"] == row["fold"] and rec["validation"] == row["validation"]
            assert rec["file"] == row["tfrecord"] and rec["index"] == row["record"]
    # The Parquet twins hold the same rows in the same order.
    for row in manifest[manifest["format"] == "parquet"].itertuples():
        twin = pq.read_table(row.abspath)
        tf_path = row.path.replace("parquet/", "shards/", 1).replace(".parquet", ".tfrecord")
        same = sorted((r for r in records.values() if r["file"] == tf_path), key=lambda r: r["index"])
        assert twin.column("objid").to_pylist() == [int(r["objid"]) for r in same]
        flat = twin.column("cube").combine_chunks().flatten().to_numpy().reshape(-1, 5, 64, 64)
        assert np.array_equal(flat.view(np.uint32), np.stack([r["cube"] for r in same]).view(np.uint32))
        wflat = twin.column("weight").combine_chunks().flatten().to_numpy().reshape(-1, 5, 64, 64)
        assert np.array_equal(wflat, np.stack([r["weight"] for r in same]))
        assert twin.column("z").to_pylist() == [float(r["z"]) for r in same]


def test_shards_respect_the_size_target(built):
    out, *_ = built
    manifest = read_manifest(out / "manifest.tsv")
    tfr = manifest[manifest["format"] == "tfrecord"]
    one_record = 2 * 4 * 5 * 64 * 64 + 200
    assert (tfr["n_bytes"] <= 1e6 + one_record).all()
    assert (tfr.groupby(["fold", "role"])["shard"].max() >= 1).any(), "rollover was exercised"
    assert not list(out.rglob("*.tmp"))


def test_manifest_check_names_truncated_and_corrupted_shards(built, tmp_path):
    out, *_ = built
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    manifest = read_manifest(copy / "manifest.tsv")
    victim = manifest[manifest["format"] == "tfrecord"].iloc[1]["abspath"]
    data = open(victim, "rb").read()
    with open(victim, "r+b") as fh:  # flip one byte of pixel data, size unchanged
        fh.seek(len(data) // 2)
        fh.write(bytes([data[len(data) // 2] ^ 0xFF]))
    with pytest.raises(DatasetError, match=rf"{victim}.*corrupted"):
        verify_manifest(copy / "manifest.tsv")
    with open(victim, "wb") as fh:
        fh.write(data[: len(data) - 1000])
    with pytest.raises(DatasetError, match=rf"{victim}.*truncated"):
        verify_manifest(copy / "manifest.tsv", checksums=False)


def test_mismatched_catalog_and_cubes_are_named(tmp_path):
    catalog, cubes = write_random_partitions(tmp_path / "in", 2, 10, seed=4)
    table = pd.read_parquet(catalog)
    table.iloc[:-1].to_parquet(tmp_path / "short.parquet")
    with pytest.raises(DatasetInputError, match=rf"objid {table['objid'].iloc[-1]}.*part0001"):
        _build(tmp_path, _dataset_config(), tmp_path / "short.parquet", cubes)
    with pytest.raises(DatasetInputError, match="no cube"):
        _build(tmp_path, _dataset_config(), catalog, cubes[:1])


def test_too_few_galaxies_for_the_folds_is_one_clear_error(tmp_path):
    """A one-row catalog (or any with fewer usable galaxies than folds) stops the dataset
    stage naming the catalog and dataset.n_folds, and writes nothing."""
    catalog, cubes = write_random_partitions(tmp_path / "in", 1, 1, seed=4)
    with pytest.raises(DatasetInputError, match=r"1 usable galaxies cannot fill 5 cross-validation folds"):
        _build(tmp_path, _dataset_config(), catalog, cubes)
    assert not (tmp_path / "dataset" / "manifest.tsv").exists()
    catalog, cubes = write_random_partitions(tmp_path / "in5", 1, 5, seed=4)
    out, _ = _build(tmp_path, _dataset_config(), catalog, cubes)  # one galaxy per fold is enough
    assert (out / "manifest.tsv").exists()


# --- readers ----------------------------------------------------------------------------


def _ids(ds) -> list[int]:
    return [int(o) for batch in ds for o in batch["objid"].numpy()]


def test_readers_split_train_validation_and_test(built):
    out, *_ = built
    manifest = read_manifest(out / "manifest.tsv")
    written = pd.read_parquet(out / "catalog.parquet")
    usable = written[written["in_dataset"]]
    for fold in range(5):
        test = set(usable.loc[usable["fold"] == fold, "objid"])
        train = set(usable.loc[(usable["fold"] != fold) & ~usable["validation"], "objid"])
        valid = set(usable.loc[(usable["fold"] != fold) & usable["validation"], "objid"])
        assert valid and not valid & test and not valid & train
        batch = 16
        in_memory = load_examples(manifest, [f for f in range(5) if f != fold], ["train"])
        assert sorted(in_memory["objid"].numpy()) == sorted(train)
        for examples in (None, in_memory):
            seen = _ids(training_dataset(manifest, fold, batch, seed=1, examples=examples))
            assert len(seen) == len(set(seen)) == len(train) // batch * batch
            assert set(seen) <= train
        assert count_examples(manifest, [f for f in range(5) if f != fold], ["train"]) == len(train)
        assert set(_ids(validation_dataset(manifest, fold, 7))) == valid
        ordered = _ids(evaluation_dataset(manifest, fold, 9))
        assert len(ordered) == len(test) and set(ordered) == test
        assert ordered == _ids(evaluation_dataset(manifest, fold, 9))


@pytest.mark.parametrize("in_memory", [False, True], ids=["streamed", "in_memory"])
def test_training_reader_is_deterministic_and_resumable(built, in_memory):
    out, *_ = built
    manifest = read_manifest(out / "manifest.tsv")
    examples = load_examples(manifest, [0, 1, 3, 4], ["train"]) if in_memory else None

    def batches(**kw):
        return [
            (b["objid"].numpy(), b["image"].numpy())
            for b in training_dataset(manifest, 2, 16, examples=examples, **kw)
        ]

    full = batches(seed=5, epoch=3)
    again = batches(seed=5, epoch=3)
    assert all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(full, again, strict=True)
    )
    resumed = batches(seed=5, epoch=3, start_batch=4)
    assert len(resumed) == len(full) - 4
    assert all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        for a, b in zip(full[4:], resumed, strict=True)
    )
    other_epoch = batches(seed=5, epoch=4)
    assert not np.array_equal(full[0][0], other_epoch[0][0])


def _numpy_dihedral(cube: np.ndarray) -> list[np.ndarray]:
    """The 8 symmetries of a (5, H, W) cube as (H, W, 5) images, by rotations and a flip."""
    image = np.moveaxis(cube, 0, -1)
    return [np.rot90(im, r, axes=(0, 1)) for im in (image, image[:, ::-1]) for r in range(4)]


def test_augmentation_is_exactly_the_eight_dihedral_transforms(built):
    rng = np.random.default_rng(2)
    cube = rng.normal(size=(5, 64, 64)).astype(np.float32)
    expected = _numpy_dihedral(cube)
    assert len({e.tobytes() for e in expected}) == 8
    got = dihedral_transform(tf.constant(np.repeat(cube[None], 8, 0)), tf.range(8)).numpy()
    matches = [[np.array_equal(g, e) for e in expected] for g in got]
    assert all(sum(row) == 1 for row in matches)
    assert sorted(row.index(True) for row in matches) == list(range(8))

    # Through the training reader: every image is one of its cube's 8 transforms, and
    # all 8 occur about equally often.
    out, *_ = built
    manifest = read_manifest(out / "manifest.tsv")
    stored = {}
    for cube_file in built[3]:
        table, cubes, _ = read_cubes(cube_file)
        stored.update({int(o): cubes[k] for k, o in enumerate(table["objid"])})
    counts = np.zeros(8, int)
    in_memory = load_examples(manifest, [1, 2, 3, 4], ["train"])
    for epoch in range(4):
        examples = in_memory if epoch % 2 else None
        for batch in training_dataset(manifest, 0, 32, seed=9, epoch=epoch, examples=examples):
            for objid, image in zip(batch["objid"].numpy(), batch["image"].numpy(), strict=True):
                which = [np.array_equal(image, e) for e in _numpy_dihedral(stored[int(objid)])]
                assert sum(which) == 1
                counts[which.index(True)] += 1
    assert counts.sum() >= 400 and counts.min() > 0.6 * counts.mean() and counts.max() < 1.4 * counts.mean()
    # Without augmentation the image is the cube, channels last.
    batch = next(iter(training_dataset(manifest, 0, 8, seed=9, augment=False)))
    for objid, image in zip(batch["objid"].numpy(), batch["image"].numpy(), strict=True):
        assert np.array_equal(image, np.moveaxis(stored[int(objid)], 0, -1))


def test_readers_crop_the_central_pixels_before_augmenting(built):
    """A central crop commutes with the dihedral transforms: every cropped, augmented image
    is one of the 8 transforms of the stored cube's centre."""
    out, *_ = built
    manifest = read_manifest(out / "manifest.tsv")
    stored = {}
    for cube_file in built[3]:
        table, cubes, _ = read_cubes(cube_file)
        stored.update({int(o): cubes[k, :, 16:48, 16:48] for k, o in enumerate(table["objid"])})
    examples = load_examples(manifest, [1, 2, 3, 4], ["train"], crop=32)
    assert tuple(examples["cube"].shape[1:]) == (5, 32, 32)
    for kw in ({}, {"examples": examples}):
        batch = next(iter(training_dataset(manifest, 0, 16, seed=3, crop=32, **kw)))
        assert batch["image"].shape == (16, 32, 32, 5)
        for objid, image in zip(batch["objid"].numpy(), batch["image"].numpy(), strict=True):
            assert sum(np.array_equal(image, e) for e in _numpy_dihedral(stored[int(objid)])) == 1
    batch = next(iter(evaluation_dataset(manifest, 0, 8, crop=32)))
    for objid, image in zip(batch["objid"].numpy(), batch["image"].numpy(), strict=True):
        assert np.array_equal(image, np.moveaxis(stored[int(objid)], 0, -1))


def test_pixel_transforms():
    x = tf.constant([-8.0, -1.0, 0.0, 3.0, 15.0])
    assert np.array_equal(apply_pixel_transform(x, "none").numpy(), x.numpy())
    expected = np.sign(x.numpy()) * (np.sqrt(np.abs(x.numpy()) + 1) - 1)
    np.testing.assert_allclose(apply_pixel_transform(x, "sqrt").numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="unknown pixel transform"):
        apply_pixel_transform(x, "log")


# --- memory -----------------------------------------------------------------------------


def _peak_rss_mb(cmd: list[str]) -> float:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read().decode()[-3000:]
    return usage.ru_maxrss / 1024


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_the_number_of_partitions(tmp_path):
    """Streaming: 6x more partitions (+490 MB of cubes) must not raise the peak RSS.

    Measured (200 galaxies per partition): 3 partitions ~1010-1030 MB (TensorFlow alone
    ~0.8 GB), 18 partitions ~1040-1055 MB; the spread is the transient of one partition."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"dataset": {"shard_mb": 20}}))
    peaks = {}
    for n_parts in (3, 18):
        catalog, cubes = write_random_partitions(tmp_path / f"in{n_parts}", n_parts, 200, seed=n_parts)
        out = tmp_path / f"out{n_parts}"
        peaks[n_parts] = _peak_rss_mb(build_dataset_command(cfg, catalog, cubes, out))
    extra_data_mb = 15 * 200 * 2 * 5 * 64 * 64 * 4 / 1e6
    assert peaks[18] - peaks[3] < 0.15 * extra_data_mb, (peaks, extra_data_mb)
