"""Which SDSS fields overlap a set of galaxies: box queries on the CAS ``Field`` table.

``Field`` holds ramin/ramax/decmin/decmax of every field (whole frame, including the
128-row overlap; measured on run 2583 camcol 2 field 136). Galaxies are grouped in
sky boxes and each box is one SQL query through astroquery (retried on transient
errors, errors naming the box); the union of fields is de-duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import FromConfig
from ..errors import CatalogError
from ..skyserver_sql import run_sql

FIELD_COLUMNS = ["run", "rerun", "camcol", "field", "ramin", "ramax", "decmin", "decmax"]
#: Margin around each box: half a frame diagonal (0.14 deg) plus a cutout.
BOX_MARGIN_DEG = 0.16


@dataclass(frozen=True)
class FieldQueryParams(FromConfig):
    """The ``frames.field_query`` config section."""

    config_section = "frames.field_query"

    box_deg: float
    rerun: int
    timeout_s: float
    retries: int
    backoff_s: float


def field_sql(ra_lo: float, ra_hi: float, dec_lo: float, dec_hi: float, rerun: int) -> str:
    """SQL for the fields overlapping an RA/Dec box (no RA wrap inside the box)."""
    ra_lo, ra_hi, dec_lo, dec_hi = (round(float(v), 6) for v in (ra_lo, ra_hi, dec_lo, dec_hi))
    return (
        "SELECT run, rerun, camcol, field, ramin, ramax, decmin, decmax FROM Field "
        f"WHERE rerun = {rerun} AND decmax >= {dec_lo!r} AND decmin <= {dec_hi!r} "
        f"AND ramax >= {ra_lo!r} AND ramin <= {ra_hi!r}"
    )


def field_boxes(galaxies: pd.DataFrame, box_deg: float) -> list[tuple[float, float, float, float]]:
    """RA/Dec boxes (with margin) covering the galaxies, split at RA 0/360."""
    ra = galaxies["ra"].to_numpy() % 360.0
    dec = galaxies["dec"].to_numpy()
    key = np.stack([np.floor(dec / box_deg), np.floor(ra / box_deg)], axis=1)
    boxes = []
    for cell in np.unique(key, axis=0):
        sel = np.all(key == cell, axis=1)
        d_lo, d_hi = dec[sel].min() - BOX_MARGIN_DEG, dec[sel].max() + BOX_MARGIN_DEG
        cos_d = np.cos(np.radians(min(max(abs(d_lo), abs(d_hi)), 89.0)))
        r_lo, r_hi = ra[sel].min() - BOX_MARGIN_DEG / cos_d, ra[sel].max() + BOX_MARGIN_DEG / cos_d
        if r_lo < 0:
            boxes += [(r_lo + 360.0, 360.0, d_lo, d_hi), (0.0, r_hi, d_lo, d_hi)]
        elif r_hi > 360.0:
            boxes += [(r_lo, 360.0, d_lo, d_hi), (0.0, r_hi - 360.0, d_lo, d_hi)]
        else:
            boxes.append((r_lo, r_hi, d_lo, d_hi))
    return boxes


def query_fields(
    galaxies: pd.DataFrame,
    release: int,
    params: FieldQueryParams,
    sleep: Callable[[float], None] = time.sleep,
    base_url: str | None = None,
) -> pd.DataFrame:
    """All ``Field`` rows that may overlap the galaxies' cutouts (from the SkyServer at
    ``base_url``; None: astroquery's configured one)."""
    parts = []
    for ra_lo, ra_hi, dec_lo, dec_hi in field_boxes(galaxies, params.box_deg):
        what = f"Field query DR{release} box ra [{ra_lo:.3f}, {ra_hi:.3f}] dec [{dec_lo:.3f}, {dec_hi:.3f}]"
        sql = field_sql(ra_lo, ra_hi, dec_lo, dec_hi, params.rerun)
        parts.append(
            run_sql(sql, what, release, params.timeout_s, params.retries, params.backoff_s, sleep, base_url)
        )
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=FIELD_COLUMNS)
    fields = pd.concat(parts, ignore_index=True)
    missing = [c for c in FIELD_COLUMNS if c not in fields]
    if missing:
        raise CatalogError(f"Field query DR{release}: response lacks columns {missing}")
    return fields[FIELD_COLUMNS].drop_duplicates(["run", "rerun", "camcol", "field"]).reset_index(drop=True)
