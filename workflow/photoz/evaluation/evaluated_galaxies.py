"""The evaluated galaxies of every method, on one footing.

Each method's table has one row per test galaxy: objid, fold, z_spec, z_phot and, when
the method gives PDFs, pdf, width68, pit, crps; plus the galaxy's dereddened r
magnitude, r-band Petrosian SNR and whether it lies in the deep (Stripe 82) area.
Methods are compared on the same galaxies: those every method predicted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..constants import STRIPE82_DEC, STRIPE82_RA
from ..tables import read_photoz

CATALOG_METHOD = "catalog"  # the catalog's own photo-z column (SDSS Photoz table analogue)
CATALOG_PHOTOZ_COLUMN = "zphot"


def in_stripe82(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Whether each position lies in the Stripe 82 footprint (the deep area; the
    synthetic deep region is placed inside it, so the same test holds for both)."""
    ra, dec = np.asarray(ra, np.float64) % 360.0, np.asarray(dec, np.float64)
    return (np.abs(dec) < STRIPE82_DEC) & ((ra > STRIPE82_RA[0]) | (ra < STRIPE82_RA[1]))


def galaxy_properties(dataset_catalog: pd.DataFrame) -> pd.DataFrame:
    """objid-indexed r (dereddened Petrosian), snr_r (1.0857 / petroMagErr_r), deep."""
    cat = dataset_catalog
    err = cat["petromagerr_r"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "r": cat["dered_petro_r"].to_numpy(np.float64),
            "snr_r": np.where(err > 0, 2.5 / np.log(10) / np.where(err > 0, err, 1.0), np.inf),
            "deep": in_stripe82(cat["ra"], cat["dec"]),
        },
        index=pd.Index(cat["objid"].to_numpy(np.int64), name="objid"),
    )


def catalog_method(dataset_catalog: pd.DataFrame) -> pd.DataFrame:
    """The catalog photo-z column as a method without PDFs, on the dataset galaxies."""
    if CATALOG_PHOTOZ_COLUMN not in dataset_catalog:
        raise ValueError(f"the dataset catalog has no {CATALOG_PHOTOZ_COLUMN!r} column")
    usable = dataset_catalog[dataset_catalog["in_dataset"]]
    return pd.DataFrame(
        {
            "objid": usable["objid"].to_numpy(np.int64),
            "fold": usable["fold"].to_numpy(np.int8),
            "z_spec": usable["z"].to_numpy(np.float64),
            "z_phot": usable[CATALOG_PHOTOZ_COLUMN].to_numpy(np.float64),
        }
    )


def load_methods(photoz_files: dict[str, str], dataset_catalog_path: str) -> dict[str, pd.DataFrame]:
    """``{method: table}`` for every photo-z file and the catalog column, restricted to
    the galaxies all methods share, in one objid order, with r, snr_r and deep."""
    catalog = pd.read_parquet(dataset_catalog_path)
    tables = {name: read_photoz(path) for name, path in photoz_files.items()}
    tables[CATALOG_METHOD] = catalog_method(catalog)
    for name, table in tables.items():
        bad = ~np.isfinite(table["z_phot"].to_numpy(np.float64))
        if bad.any():
            raise ValueError(f"method {name}: galaxy {table['objid'][bad].iloc[0]} has a non-finite z_phot")
    common = set.intersection(*(set(t["objid"].astype(np.int64)) for t in tables.values()))
    if not common:
        raise ValueError(f"the methods {sorted(tables)} share no galaxy")
    order = np.sort(np.fromiter(common, np.int64))
    props = galaxy_properties(catalog)
    out = {}
    for name, table in tables.items():
        table = table.set_index(table["objid"].astype(np.int64)).loc[order].reset_index(drop=True)
        out[name] = pd.concat([table, props.loc[order].reset_index(drop=True)], axis=1)
        out[name].attrs = dict(tables[name].attrs)  # pdf_range of the PDFs
    return out
