"""Stage 6, ``build_dataset``: folds, TFRecord shards, their Parquet twins, the catalog.

Streaming: partitions are read one at a time (one partition of cubes in memory), each
galaxy goes to its (fold, role) shard stream, and shards roll over at the size target.
Galaxies missing a whole band (a frame that could not be fetched) get a fold like every
other galaxy but stay out of the shards; the dataset catalog says why for each.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from ..constants import BANDS
from ..errors import DatasetInputError  # noqa: F401  (raised here; re-exported)
from ..tables import read_cubes, read_table, write_table
from .folds import assign_folds, hash_objids, select_validation
from .shards import ROLES, ShardStream, write_manifest

log = logging.getLogger(__name__)

#: Catalog columns that become the example's scalar labels.
LABEL_COLUMNS = {"ebv": "e_bv_sfd", "z": "z", "r": "dered_petro_r"}


def _cube_index(cube_paths: list[str]) -> pd.DataFrame:
    """objid, flags and source file of every galaxy in the cube files (no cubes read)."""
    frames = []
    for path in cube_paths:
        table = read_table(path, "cubes", columns=["objid", "flags"]).frame
        table["cube_file"] = str(path)
        frames.append(table)
    index = pd.concat(frames, ignore_index=True)
    dup = index[index["objid"].duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        files = sorted(dup.loc[dup["objid"] == first["objid"], "cube_file"])
        raise DatasetInputError(f"galaxy {first['objid']} has cubes in several files: {files}")
    return index


def _exclusion_reasons(catalog: pd.DataFrame) -> np.ndarray:
    """Why a galaxy cannot be a training example ('' if it can)."""
    reasons = np.full(len(catalog), "", dtype=object)
    flags = catalog["flags_cube"].to_numpy()
    for b, band in enumerate(BANDS):
        empty = (flags & (1 << b)) != 0
        reasons[empty] = [f"{r}no data in band {band}; " for r in reasons[empty]]
    for label, column in LABEL_COLUMNS.items():
        bad = ~np.isfinite(catalog[column].to_numpy(dtype=float))
        reasons[bad] = [f"{r}{column} ({label}) is not finite; " for r in reasons[bad]]
    return np.array([r.rstrip("; ") for r in reasons], dtype=object)


def build_dataset(
    cfg: dict[str, Any],
    catalog_path: str,
    cube_paths: list[str],
    out_catalog: str,
    manifest_path: str,
    shards_dir: str,
    parquet_dir: str,
) -> pd.DataFrame:
    """Build the dataset; return the dataset catalog (also written to ``out_catalog``)."""
    params = cfg["dataset"]
    seed, n_folds = int(params["seed"]), int(params["n_folds"])
    catalog = pd.read_parquet(catalog_path)
    missing = [c for c in LABEL_COLUMNS.values() if c not in catalog]
    if missing:
        raise DatasetInputError(f"catalog {catalog_path} lacks the label columns {missing}")
    cubes_index = _cube_index(sorted(cube_paths))
    known = set(catalog["objid"].to_numpy())
    stray = cubes_index.loc[~cubes_index["objid"].isin(known)]
    if len(stray):
        raise DatasetInputError(
            f"{len(stray)} galaxies of the cubes are not in {catalog_path}, e.g. objid "
            f"{stray['objid'].iloc[0]} in {stray['cube_file'].iloc[0]}"
        )
    absent = catalog.loc[~catalog["objid"].isin(set(cubes_index["objid"])), "objid"]
    if len(absent):
        raise DatasetInputError(
            f"{len(absent)} catalog galaxies have no cube (e.g. objid {absent.iloc[0]}); "
            "rerun resample_cubes for their partitions"
        )
    catalog = catalog.merge(cubes_index.rename(columns={"flags": "flags_cube"}), on="objid", how="left")

    objids = catalog["objid"].to_numpy()
    catalog["fold"] = assign_folds(objids, n_folds, seed)
    catalog["validation"] = select_validation(
        objids, catalog["fold"].to_numpy(), params["validation_fraction"], seed
    )
    catalog["exclude_reason"] = _exclusion_reasons(catalog)
    catalog["in_dataset"] = catalog["exclude_reason"] == ""
    empty = [k for k in range(n_folds) if not (catalog["in_dataset"] & (catalog["fold"] == k)).any()]
    if empty:
        raise DatasetInputError(
            f"{catalog_path}: {int(catalog['in_dataset'].sum())} usable galaxies cannot fill "
            f"{n_folds} cross-validation folds (dataset.n_folds): fold(s) {empty} would be empty"
        )
    for name in ("tfrecord", "parquet"):
        catalog[name] = ""
    catalog["record"] = -1

    root = Path(manifest_path).resolve().parent
    streams = {
        (k, role): ShardStream(
            Path(shards_dir), Path(parquet_dir), root, k, role, int(params["shard_mb"] * 1e6)
        )
        for k in range(n_folds)
        for role in ROLES
    }
    row_of = pd.Series(np.arange(len(catalog)), index=objids)
    locations: dict[int, tuple] = {}
    try:
        for cube_file in tqdm(sorted(cube_paths), desc="partitions", mininterval=5):
            table, cubes, weights = read_cubes(cube_file)
            # Shuffled within the partition (sky neighbours would otherwise sit together);
            # only each stream's rows are copied out of the partition's arrays.
            order = np.argsort(hash_objids(table["objid"].to_numpy(), seed + 7), kind="stable")
            part = catalog.iloc[row_of.loc[table["objid"].to_numpy()[order]].to_numpy()]
            for (k, role), stream in streams.items():
                selected = np.flatnonzero(
                    part["in_dataset"].to_numpy()
                    & (part["fold"].to_numpy() == k)
                    & (part["validation"].to_numpy() == (role == "valid"))
                )
                if not len(selected):
                    continue
                take = order[selected]
                columns = {label: part[col].to_numpy()[selected] for label, col in LABEL_COLUMNS.items()}
                columns["objid"] = part["objid"].to_numpy()[selected]
                columns["validation"] = part["validation"].to_numpy()[selected]
                for objid, loc in zip(
                    columns["objid"], stream.write(columns, cubes[take], weights[take]), strict=True
                ):
                    locations[int(objid)] = loc
            del table, cubes, weights
            pa.default_memory_pool().release_unused()
        for stream in streams.values():
            stream.close()
    except BaseException:
        for stream in streams.values():
            stream.abort()
        raise

    placed = catalog["objid"].map(lambda o: locations.get(int(o)))
    has = placed.notna().to_numpy()
    catalog.loc[has, "tfrecord"] = [p[0] for p in placed[has]]
    catalog.loc[has, "parquet"] = [p[1] for p in placed[has]]
    catalog.loc[has, "record"] = [p[2] for p in placed[has]]
    if (has != catalog["in_dataset"].to_numpy()).any():
        raise RuntimeError("internal error: a galaxy in the dataset was not written to a shard")

    manifest = write_manifest([row for s in streams.values() for row in s.manifest], manifest_path)
    counts = {
        f"fold{k}": {
            "test": int(((catalog["fold"] == k) & catalog["in_dataset"]).sum()),
            "validation": int(((catalog["fold"] == k) & catalog["in_dataset"] & catalog["validation"]).sum()),
        }
        for k in range(n_folds)
    }
    excluded = catalog.loc[~catalog["in_dataset"], ["objid", "exclude_reason"]]
    metadata = {
        "dataset": params,
        "n_galaxies": len(catalog),
        "n_in_dataset": int(catalog["in_dataset"].sum()),
        "n_excluded": len(excluded),
        "folds": counts,
        "n_shards": int((manifest["format"] == "tfrecord").sum()),
        "shard_bytes": int(manifest["n_bytes"].sum()),
        "labels": LABEL_COLUMNS,
    }
    write_table(catalog.drop(columns=["cube_file"]), out_catalog, metadata)
    for row in excluded.itertuples():
        log.warning("galaxy %s is not a training example: %s", row.objid, row.exclude_reason)
    log.info(
        "dataset: %d galaxies in %d folds (%s), %d excluded; %d shards, %.1f MB -> %s",
        metadata["n_in_dataset"],
        n_folds,
        ", ".join(str(c["test"]) for c in counts.values()),
        len(excluded),
        metadata["n_shards"],
        metadata["shard_bytes"] / 1e6,
        os.path.dirname(manifest_path),
    )
    return catalog
