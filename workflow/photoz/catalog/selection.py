"""The P19 Appendix A selection applied to a table, and the bookkeeping of what it removes.

The same cuts run server-side in the SQL (real backends) and here (synthetic and file
backends, and as a check on server results), so row counts before and after each cut
are always recorded. Rows that pass the cuts but lack a required value are not dropped
silently: they are returned with a reason and written to ``rejected.parquet``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import FromConfig
from ..constants import PRIMTARGET_GALAXY
from ..errors import CatalogError  # noqa: F401  (raised here; re-exported)
from .columns import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, SELECTION_COLUMNS, missing_mask


@dataclass(frozen=True)
class SelectionParams(FromConfig):
    """Numbers of the P19 query (``catalog`` config section)."""

    config_section = "catalog"

    r_mag_limit: float
    z_min: float
    z_max: float


def cuts(params: SelectionParams) -> list[tuple[str, Callable[[pd.DataFrame], np.ndarray]]]:
    """Ordered (name, mask function) pairs mirroring the SQL WHERE clause."""
    return [
        ("z_range", lambda d: ((d["z"] > params.z_min) & (d["z"] <= params.z_max)).to_numpy()),
        ("zwarning_0", lambda d: (d["zwarning"] == 0).to_numpy()),
        ("class_galaxy", lambda d: (d["class"].astype(str).str.upper() == "GALAXY").to_numpy()),
        (
            "mgs_target",
            lambda d: (d["primtarget"].astype(np.int64) & PRIMTARGET_GALAXY).to_numpy() > 0,
        ),
        ("clean", lambda d: (d["clean"] == 1).to_numpy()),
        ("not_inside_mask", lambda d: (d["insidemask"] == 0).to_numpy()),
        ("dered_r_limit", lambda d: (d["dered_petro_r"] <= params.r_mag_limit).to_numpy()),
    ]


def passes_selection(params: SelectionParams) -> Callable[[pd.DataFrame], pd.Series]:
    """A function giving the boolean mask of rows passing every cut."""

    def mask(df: pd.DataFrame) -> pd.Series:
        ok = np.ones(len(df), dtype=bool)
        for _, fn in cuts(params):
            ok &= fn(df)
        return pd.Series(ok, index=df.index)

    return mask


def apply_selection(
    df: pd.DataFrame, params: SelectionParams, source: str
) -> tuple[pd.DataFrame, list[dict]]:
    """Apply every cut in order; return the selected rows and per-cut counts.

    Columns a cut needs must be present; ``source`` names the table in the error.
    """
    absent = [c for c in SELECTION_COLUMNS if c not in df]
    if absent:
        raise CatalogError(f"{source}: missing column(s) needed by the selection: {absent}")
    counts = []
    for name, fn in cuts(params):
        before = len(df)
        df = df[fn(df)]
        counts.append({"cut": name, "before": before, "after": len(df)})
    return df, counts


def reject_incomplete(df: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off rows lacking required values or duplicating an objid.

    Returns (kept, rejected); ``rejected`` has a ``reject_reason`` column. Optional
    columns keep their rows, with SDSS's -9999 turned into NaN.
    """
    absent = [c for c in REQUIRED_COLUMNS if c not in df]
    if absent:
        raise CatalogError(f"{source}: missing required column(s): {absent}")
    df = df.copy()
    reasons = pd.Series("", index=df.index, dtype=object)
    for col in REQUIRED_COLUMNS:
        bad = missing_mask(df[col])
        reasons[bad] = reasons[bad] + f"missing {col}; "
    for col in OPTIONAL_COLUMNS:
        if col in df and df[col].dtype.kind == "f":
            df.loc[missing_mask(df[col]), col] = np.nan
    incomplete = reasons != ""
    complete = df[~incomplete]
    # Several spectra of one photometric object: keep the science-primary one (then
    # the lowest specobjid) and record the others.
    order = complete.assign(
        _primary=complete.get("scienceprimary", pd.Series(1, index=complete.index))
    ).sort_values(["objid", "_primary", "specobjid"], ascending=[True, False, True])
    dup = order.duplicated("objid", keep="first")
    dup_idx = order.index[dup.to_numpy()]
    reasons[dup_idx] = [f"duplicate objid {o}: another spectrum kept" for o in df.loc[dup_idx, "objid"]]
    rejected = df[reasons != ""].assign(reject_reason=reasons[reasons != ""].str.rstrip("; "))
    kept = df[reasons == ""]
    return kept, rejected
