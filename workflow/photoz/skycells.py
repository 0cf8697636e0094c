"""The sky-cell grid shared by partitioning and the synthetic sky's neighbour cells.

Rows are Dec bands ``cell_deg`` high; within a row, columns are ``cell_deg`` wide on
the sky (RA steps of cell_deg / cos(Dec at the row centre)), so cells are roughly
square and of roughly equal area.
"""

from __future__ import annotations

import numpy as np


def _row_cos(row, cell_deg: float):
    return np.cos(np.radians(-90.0 + (row + 0.5) * cell_deg))


def sky_cells(ra: np.ndarray, dec: np.ndarray, cell_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer (column, row) of the cells containing (ra, dec)."""
    row = np.floor((np.asarray(dec) + 90.0) / cell_deg).astype(np.int64)
    col = np.floor(np.asarray(ra) % 360.0 * _row_cos(row, cell_deg) / cell_deg)
    return col.astype(np.int64), row


def cell_bounds(row: int, col: int, cell_deg: float) -> tuple[float, float, float, float]:
    """(ra_min, ra_max, dec_min, dec_max) of a cell."""
    dec_lo = -90.0 + row * cell_deg
    cos_dec = _row_cos(row, cell_deg)
    ra_lo = col * cell_deg / cos_dec
    return ra_lo, ra_lo + cell_deg / cos_dec, dec_lo, dec_lo + cell_deg


def cells_covering(
    ra_min: float, ra_max: float, dec_min: float, dec_max: float, cell_deg: float
) -> list[tuple[int, int]]:
    """(row, column) of every cell touching an RA/Dec box (no RA wrap-around)."""
    out = []
    for row in range(
        int(np.floor((dec_min + 90.0) / cell_deg)), int(np.floor((dec_max + 90.0) / cell_deg)) + 1
    ):
        scale = _row_cos(row, cell_deg) / cell_deg
        for col in range(int(np.floor(ra_min * scale)), int(np.floor(ra_max * scale)) + 1):
            out.append((row, col))
    return out


def unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Unit vectors (..., 3) of sky positions in degrees (for chord distances)."""
    a, d = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)], axis=-1)
