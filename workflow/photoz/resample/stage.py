"""Config-level entry point of ``resample_cubes`` (called by the script)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ..io import atomic_path
from ..tables import write_cubes
from .cubes import ResampleParams, resample_partition

log = logging.getLogger(__name__)


def resample_cubes(
    cfg: dict[str, Any],
    partition_path: str,
    index_path: str,
    manifest_path: str,
    out_cubes: str,
    out_missing: str,
) -> pd.DataFrame:
    """Resample a partition's frames into cubes; write the cubes and the missing table."""
    params = ResampleParams(**cfg["resample"])
    galaxies = pd.read_parquet(partition_path)
    index = pd.read_parquet(index_path)
    manifest = pd.read_parquet(manifest_path)
    table, cubes, weights, missing = resample_partition(galaxies, index, manifest, params)
    write_cubes(table, cubes, weights, out_cubes, {"backend": params.backend, "combine": params.combine})
    with atomic_path(out_missing) as tmp:
        missing.to_csv(tmp, sep="\t", index=False)
    log.info(
        "cubes: %d galaxies, %d (galaxy, band) pairs without data, frames per band: %s",
        len(table),
        len(missing),
        table.filter(like="n_frames_").mean().round(2).to_dict(),
    )
    return table
