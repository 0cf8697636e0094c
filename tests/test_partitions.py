"""plan_partitions: bounded, complete, deterministic and spatially compact partitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from photoz.partitions import (
    PartitionParams,
    assign_partitions,
    hilbert_index,
    plan_partitions,
    summarize_partitions,
)


def _xyz(df: pd.DataFrame) -> np.ndarray:
    ra, dec = np.radians(df["ra"]), np.radians(df["dec"])
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=1)


def test_partitions_cover_everyone_once_and_respect_the_bound(survey_catalog):
    df, _, _ = survey_catalog
    parts = assign_partitions(df, PartitionParams.from_config(max_galaxies=700))
    sizes = np.bincount(parts)
    assert sizes.sum() == len(df) and sizes.max() <= 700 and sizes.min() > 0
    assert len(sizes) <= 2 * int(np.ceil(len(df) / 700)), "packing wastes partitions"
    again = assign_partitions(
        df.sample(frac=1.0, random_state=3), PartitionParams.from_config(max_galaxies=700)
    )
    # Same assignment whatever the row order (it depends on positions and objids only).
    shuffled = pd.Series(again, index=df.sample(frac=1.0, random_state=3)["objid"].to_numpy())
    np.testing.assert_array_equal(shuffled.loc[df["objid"].to_numpy()].to_numpy(), parts)


def test_galaxies_sharing_frames_share_partitions(survey_catalog):
    """Pairs closer than a frame's half width are rarely split between partitions."""
    df, _, _ = survey_catalog
    parts = assign_partitions(df, PartitionParams.from_config(max_galaxies=700, cell_arcmin=15.0))
    tree = cKDTree(_xyz(df))
    pairs = tree.query_pairs(np.radians(5.0 / 60.0), output_type="ndarray")
    split = np.mean(parts[pairs[:, 0]] != parts[pairs[:, 1]])
    random_parts = np.random.default_rng(0).permutation(parts)
    split_random = np.mean(random_parts[pairs[:, 0]] != random_parts[pairs[:, 1]])
    assert split < 0.15, split
    assert split_random > 0.8


def test_plan_partitions_writes_files_atomically(survey_catalog, tmp_path):
    df, _, path = survey_catalog
    out = tmp_path / "partitions"
    parts = plan_partitions(path, out, PartitionParams.from_config(max_galaxies=4000))
    files = sorted(out.glob("*.parquet"))
    assert [f.stem for f in files] == [f"part{k:04d}" for k in range(parts.max() + 1)]
    assert not (tmp_path / ".partitions.tmp").exists()
    summary = summarize_partitions(files)
    assert summary["n_galaxies"].sum() == len(df)
    back = pd.concat([pd.read_parquet(f) for f in files])
    assert sorted(back["objid"]) == sorted(df["objid"])
    # Re-planning replaces the directory (no stale partition survives).
    plan_partitions(path, out, PartitionParams.from_config(max_galaxies=20000))
    assert [f.name for f in out.glob("*.parquet")] == ["part0000.parquet"]


def test_hilbert_curve_visits_neighbours_in_order():
    x, y = np.meshgrid(np.arange(16), np.arange(16))
    d = hilbert_index(x.ravel(), y.ravel(), bits=4)
    assert sorted(d) == list(range(256))
    order = np.argsort(d)
    steps = np.abs(np.diff(x.ravel()[order])) + np.abs(np.diff(y.ravel()[order]))
    assert np.all(steps == 1)
