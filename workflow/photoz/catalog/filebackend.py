"""``file`` backend: a catalog the user exported (CSV, FITS or Parquet)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from astropy.table import Table

from .columns import normalise_columns
from .selection import CatalogError


def read_user_catalog(path: str | Path, key: str = "catalog.file.path") -> pd.DataFrame:
    """Read ``path`` by extension and normalise its column names (``key``: the config key
    that named the file, for the error)."""
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"{key}: {path} does not exist")
    suffixes = "".join(path.suffixes).lower()
    try:
        if suffixes.endswith(".parquet"):
            df = pd.read_parquet(path)
        elif suffixes.endswith((".csv", ".csv.gz")):
            df = pd.read_csv(path, comment="#")
        elif suffixes.endswith((".fits", ".fit", ".fits.gz")):
            table = Table.read(path)
            multidim = [c for c in table.colnames if len(table[c].shape) > 1]
            df = table[[c for c in table.colnames if c not in multidim]].to_pandas()
        else:
            raise CatalogError(f"{path}: unknown catalog format (use .csv, .fits or .parquet)")
    except CatalogError:
        raise
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        raise CatalogError(f"{path}: cannot read catalog: {exc}") from exc
    return normalise_columns(df)
