"""Stage 2, ``plan_partitions``: split the catalog into compact sky partitions.

Downstream stages run once per partition, so a survey becomes hundreds of jobs rather
than one per galaxy. Galaxies that share frames must share a partition as often as
possible (each frame is then read once): the sky is cut into cells about a frame
across, the cells are ordered along a Hilbert curve (which keeps consecutive cells
adjacent), and the ordered cells are packed greedily into partitions of at most
``max_galaxies``. Deterministic for a given catalog and configuration.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import FromConfig
from .io import atomic_path
from .skycells import sky_cells
from .tables import read_table_metadata, write_table

log = logging.getLogger(__name__)

HILBERT_BITS = 16


@dataclass(frozen=True)
class PartitionParams(FromConfig):
    """The ``partitions`` config section."""

    config_section = "partitions"

    max_galaxies: int
    cell_arcmin: float


def hilbert_index(x: np.ndarray, y: np.ndarray, bits: int = HILBERT_BITS) -> np.ndarray:
    """Position along a Hilbert curve of integer cell coordinates in [0, 2**bits)."""
    x = np.asarray(x, dtype=np.int64).copy()
    y = np.asarray(y, dtype=np.int64).copy()
    d = np.zeros_like(x)
    n = 1 << bits
    s = n >> 1
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # Rotate the quadrant so the curve stays continuous.
        flip = ~ry
        swap_x = np.where(flip & rx, n - 1 - x, x)
        swap_y = np.where(flip & rx, n - 1 - y, y)
        x, y = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return d


def assign_partitions(catalog: pd.DataFrame, params: PartitionParams) -> np.ndarray:
    """Partition number of every row (0, 1, ...), in Hilbert order of sky cells."""
    if params.max_galaxies < 1:
        raise ValueError("partitions.max_galaxies: must be >= 1")
    x, y = sky_cells(catalog["ra"].to_numpy(), catalog["dec"].to_numpy(), params.cell_arcmin / 60.0)
    key = hilbert_index(x, y)
    order = np.lexsort((catalog["objid"].to_numpy(), key))
    cell_of_sorted = key[order]
    starts = np.flatnonzero(np.r_[True, cell_of_sorted[1:] != cell_of_sorted[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    part_sorted = np.empty(len(order), dtype=np.int64)
    part, filled = 0, 0
    for start, size in zip(starts, sizes, strict=True):
        if filled and filled + size > params.max_galaxies:
            part, filled = part + 1, 0
        # A cell alone above the bound is split in objid order (very dense cells only).
        for offset in range(0, size, params.max_galaxies):
            chunk = min(params.max_galaxies, size - offset)
            if filled and filled + chunk > params.max_galaxies:
                part, filled = part + 1, 0
            part_sorted[start + offset : start + offset + chunk] = part
            filled += chunk
    parts = np.empty(len(order), dtype=np.int64)
    parts[order] = part_sorted
    return parts


def partition_name(k: int) -> str:
    """File-name stem of partition ``k``."""
    return f"part{k:04d}"


def plan_partitions(catalog_path: str | Path, out_dir: str | Path, params: PartitionParams) -> np.ndarray:
    """Write one Parquet file of catalog rows per partition into ``out_dir``.

    Returns the partition number of every catalog row. The directory is filled under a
    temporary name and renamed, so a half-planned directory never looks complete.
    """
    catalog = pd.read_parquet(catalog_path)
    meta = read_table_metadata(catalog_path)
    parts = assign_partitions(catalog, params)
    out_dir = Path(out_dir)
    tmp_dir = out_dir.with_name(f".{out_dir.name}.tmp")
    if tmp_dir.exists():
        for f in tmp_dir.iterdir():
            f.unlink()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    for k in range(int(parts.max()) + 1 if len(parts) else 0):
        name = partition_name(k)
        sub = catalog[parts == k].reset_index(drop=True)
        write_table(sub, tmp_dir / f"{name}.parquet", {"partition": name, "catalog": meta})
    if out_dir.exists():
        for f in out_dir.iterdir():
            f.unlink()
        out_dir.rmdir()
    tmp_dir.rename(out_dir)
    return parts


def summarize_partitions(files: list[str | Path]) -> pd.DataFrame:
    """One row per partition file: name, galaxy count and sky extent."""
    rows = []
    for f in sorted(files, key=str):
        sub = pd.read_parquet(f, columns=["ra", "dec"])
        rows.append(
            {
                "partition": Path(f).stem,
                "n_galaxies": len(sub),
                "ra_min": float(sub["ra"].min()),
                "ra_max": float(sub["ra"].max()),
                "dec_min": float(sub["dec"].min()),
                "dec_max": float(sub["dec"].max()),
            }
        )
    return pd.DataFrame(rows)


def list_partitions(files: list[str | Path], out: str | Path) -> pd.DataFrame:
    """Write the :func:`summarize_partitions` table of ``files`` as TSV (``out``)."""
    summary = summarize_partitions(files)
    with atomic_path(out) as tmp:
        summary.to_csv(tmp, sep="\t", index=False, float_format="%.6f")
    log.info("\n%s", summary.to_string(index=False))
    return summary
