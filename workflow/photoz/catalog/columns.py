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
#: Columns the selection cuts need.
SELECTION_COLUMNS = ["z", "zwarning", "class", "primtarget", "clean", "insidemask", "dered_petro_r"]
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
            df[col] = df[col].astype(dtype)
    return df


def missing_mask(series: pd.Series) -> np.ndarray:
    """True where a value is absent: null, NaN or the SDSS -9999 sentinel."""
    values = series.to_numpy()
    if values.dtype.kind in "fc":
        return ~np.isfinite(values) | (values == SDSS_MISSING)
    if values.dtype.kind in "iu":
        return values == SDSS_MISSING
    return series.isna().to_numpy()
