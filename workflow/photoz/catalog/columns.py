"""The catalog's column contract (SDSS CAS names, lower case).

A user's own CasJobs export with these columns drops in unchanged through the
``file`` backend; the synthetic backend produces the same columns plus ``sim_*``
truth columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..constants import BANDS, SDSS_MISSING

ID_COLUMNS = ["objid", "specobjid"]
# CAS types: objID bigint (signed), specObjID numeric(20) (BOSS ids exceed 2**63)
ID_DTYPES = {"objid": np.int64, "specobjid": np.uint64}
REQUIRED_COLUMNS: list[str] = [
    *ID_COLUMNS,
    "ra",
    "dec",
    "z",
    "zerr",
    "run",
    "rerun",
    "camcol",
    "field",
    "e_bv_sfd",
    *[f"petromag_{b}" for b in BANDS],
    *[f"petromagerr_{b}" for b in BANDS],
    *[f"extinction_{b}" for b in BANDS],
    *[f"dered_petro_{b}" for b in BANDS],
]
#: Columns the query selects but a row may lack (kept as NaN when SDSS says -9999).
OPTIONAL_COLUMNS: list[str] = [
    *[f"psffwhm_{b}" for b in BANDS],
    *[f"sky_{b}" for b in BANDS],
    "expab_r",
    "devab_r",
    "zphot",
    "dzphot",
    "type",
    "flags",
]
#: What the target sample needs (photo-z from images): position, E(B-V) (a network
#: input) and r (L22 step 4's cells); the other magnitudes are kept when present.
TARGET_REQUIRED_COLUMNS: list[str] = ["objid", "ra", "dec", "e_bv_sfd", "dered_petro_r"]
#: Columns holding text; every other column of the contract must be numeric.
TEXT_COLUMNS = ("class",)
#: Valid [low, high) of a column (or of every band of a ``prefix_<band>`` family) with
#: the text naming it; a value outside is a rejected row.
VALID_RANGES: dict[str, tuple[float, float, str]] = {
    "ra": (0.0, 360.0, "[0, 360) deg"),
    "dec": (-90.0, np.nextafter(90.0, np.inf), "[-90, 90] deg"),
    "e_bv_sfd": (0.0, 10.0, "[0, 10) mag"),
    "petromag": (0.0, 40.0, "[0, 40) mag"),
    "petromagerr": (0.0, np.inf, ">= 0"),
}
#: Alternative spellings found in user exports, mapped to ours (after lower-casing).
ALIASES = {
    "bestobjid": "objid",
    "e_bv": "e_bv_sfd",
    "ebv": "e_bv_sfd",
    "photoz": "zphot",
    "photozerr": "dzphot",
    "zphoterr": "dzphot",
}


def normalise_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Lower-case names, apply :data:`ALIASES` and derive missing dereddened magnitudes."""
    df = df.rename(columns={c: c.lower() for c in df.columns})
    df = df.rename(columns={a: t for a, t in ALIASES.items() if a in df and t not in df})
    for b in BANDS:
        dered, mag, ext = f"dered_petro_{b}", f"petromag_{b}", f"extinction_{b}"
        if dered not in df and mag in df and ext in df:
            df[dered] = df[mag] - df[ext]
    for col, dtype in ID_DTYPES.items():
        if col in df and df[col].dtype != dtype and df[col].notna().all():
            try:
                df[col] = df[col].astype(dtype)
            except (TypeError, ValueError):
                pass  # text in an id column: require_numeric names the column and the row
    return df


def valid_range(column: str) -> tuple[float, float, str] | None:
    """The valid range of ``column`` (:data:`VALID_RANGES`), or ``None``."""
    family = column.rsplit("_", 1)[0] if column[-2:] in {f"_{b}" for b in BANDS} else column
    return VALID_RANGES.get(column, VALID_RANGES.get(family))


def require_numeric(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """The contract's columns of ``df`` as numbers; :class:`CatalogError` naming the column
    and the first row whose value is not a number (a text ``dec`` column would otherwise
    pass stage 1 and fail far downstream)."""
    from ..errors import CatalogError

    df = df.copy()
    for col in [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, "zwarning", "primtarget", "clean", "insidemask"]:
        if col not in df or col in TEXT_COLUMNS or df[col].dtype.kind in "iufb":
            continue
        numbers = pd.to_numeric(df[col], errors="coerce")
        bad = numbers.isna() & df[col].notna()
        if bad.any():
            k = int(np.flatnonzero(bad.to_numpy())[0])
            ident = f" (objid {df['objid'].iloc[k]})" if "objid" in df and col != "objid" else ""
            raise CatalogError(
                f"{source}: column {col!r} is not numeric: row {k + 1}{ident} has {df[col].iloc[k]!r}"
            )
        df[col] = numbers
    return df


def missing_mask(series: pd.Series) -> np.ndarray:
    """True where a value is absent: null, NaN or the SDSS -9999 sentinel."""
    values = series.to_numpy()
    if values.dtype.kind in "fc":
        return ~np.isfinite(values) | (values == SDSS_MISSING)
    if values.dtype.kind in "iu":
        return values == SDSS_MISSING
    return series.isna().to_numpy()
