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
from .columns import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, missing_mask, valid_range
from .region import region_mask


@dataclass(frozen=True)
class SelectionParams(FromConfig):
    """Numbers of the P19 query (``catalog`` config section) and the sample's region."""

    config_section = "catalog"

    r_mag_limit: float
    z_min: float
    z_max: float
    region: dict | None  # photoz.catalog.region: a box, a cone or None (everywhere)


#: Cuts of the photometric (target) sample: no spectroscopic condition.
PHOTOMETRIC_CUTS = ("clean", "not_inside_mask", "dered_r_limit")
#: MGS targets without a spectrum (the synthetic sky's): the target bit as well.
MGS_TARGET_CUTS = ("mgs_target", *PHOTOMETRIC_CUTS)
#: The column each cut reads.
CUT_COLUMNS = {
    "z_range": "z",
    "zwarning_0": "zwarning",
    "class_galaxy": "class",
    "mgs_target": "primtarget",
    "clean": "clean",
    "not_inside_mask": "insidemask",
    "dered_r_limit": "dered_petro_r",
    "region": "ra",
}


def cuts(
    params: SelectionParams, names: tuple[str, ...] | None = None
) -> list[tuple[str, Callable[[pd.DataFrame], np.ndarray]]]:
    """Ordered (name, mask function) pairs mirroring the SQL WHERE clause (the P19 query,
    or only the cuts ``names``), then the region when one is set."""
    every = [
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
    chosen = [(n, fn) for n, fn in every if names is None or n in names]
    if params.region:
        chosen.append(("region", lambda d: region_mask(d["ra"], d["dec"], params.region)))
    return chosen


def passes_selection(
    params: SelectionParams, names: tuple[str, ...] | None = None
) -> Callable[[pd.DataFrame], pd.Series]:
    """A function giving the boolean mask of rows passing every cut (or the cuts ``names``)."""

    def mask(df: pd.DataFrame) -> pd.Series:
        ok = np.ones(len(df), dtype=bool)
        for _, fn in cuts(params, names):
            ok &= fn(df)
        return pd.Series(ok, index=df.index)

    return mask


def apply_selection(
    df: pd.DataFrame, params: SelectionParams, source: str, names: tuple[str, ...] | None = None
) -> tuple[pd.DataFrame, list[dict]]:
    """Apply every cut (or the cuts ``names``) in order; return the selected rows and
    per-cut counts.

    Columns a cut needs must be present; ``source`` names the table in the error.
    """
    chosen = cuts(params, names)
    absent = [CUT_COLUMNS[n] for n, _ in chosen if CUT_COLUMNS[n] not in df]
    if absent:
        raise CatalogError(f"{source}: missing column(s) needed by the selection: {absent}")
    counts = []
    for name, fn in chosen:
        before = len(df)
        df = df[fn(df)]
        counts.append({"cut": name, "before": before, "after": len(df)})
    return df, counts


def reject_unselectable(
    df: pd.DataFrame, params: SelectionParams, names: tuple[str, ...] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off, before the cuts, rows lacking a value a cut reads (a NaN redshift would
    otherwise vanish into the redshift cut): (kept, rejected with ``reject_reason``)."""
    reasons = pd.Series("", index=df.index, dtype=object)
    for name, _ in cuts(params, names):
        col = CUT_COLUMNS[name]
        if col in df:
            bad = missing_mask(df[col])
            reasons[bad] = reasons[bad] + f"missing {col}; "
    bad = reasons != ""
    return df[~bad], df[bad].assign(reject_reason=reasons[bad].str.rstrip("; "))


def reject_incomplete(
    df: pd.DataFrame, source: str, required: list[str] = REQUIRED_COLUMNS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off rows lacking ``required`` values, outside the valid range of a column or
    duplicating an objid.

    Returns (kept, rejected); ``rejected`` has a ``reject_reason`` column. Optional
    columns keep their rows, with SDSS's -9999 turned into NaN.
    """
    absent = [c for c in required if c not in df]
    if absent:
        raise CatalogError(f"{source}: missing required column(s): {absent}")
    df = df.copy()
    reasons = pd.Series("", index=df.index, dtype=object)
    for col in required:
        bad = missing_mask(df[col])
        reasons[bad] = reasons[bad] + f"missing {col}; "
        valid = valid_range(col)
        if valid is not None and df[col].dtype.kind in "iuf":
            values = df[col].to_numpy(np.float64)
            lo, hi, text = valid
            out = ~bad & ~((values >= lo) & (values < hi))
            reasons[out] = reasons[out] + [f"{col} {v:g} outside {text}; " for v in values[out]]
    for col in OPTIONAL_COLUMNS:
        if col in df and df[col].dtype.kind == "f":
            df.loc[missing_mask(df[col]), col] = np.nan
    incomplete = reasons != ""
    complete = df[~incomplete]
    # Several spectra of one photometric object: keep the science-primary one (then
    # the lowest specobjid) and record the others.
    order_by = [c for c in ("objid", "_primary", "specobjid") if c == "_primary" or c in complete]
    order = complete.assign(
        _primary=complete.get("scienceprimary", pd.Series(1, index=complete.index))
    ).sort_values(order_by, ascending=[c != "_primary" for c in order_by])
    dup = order.duplicated("objid", keep="first")
    dup_idx = order.index[dup.to_numpy()]
    what = "another spectrum" if "specobjid" in complete else "another row"
    reasons[dup_idx] = [f"duplicate objid {o}: {what} kept" for o in df.loc[dup_idx, "objid"]]
    rejected = df[reasons != ""].assign(reject_reason=reasons[reasons != ""].str.rstrip("; "))
    kept = df[reasons == ""]
    return kept, rejected
