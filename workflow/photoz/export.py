"""Photo-z and cutouts in the formats their users open: a FITS binary table with units
(astropy), a ``qp`` ensemble of the PDFs (histogram representation with the model's
bin edges, readable by RAIL) and FITS cutouts with their TAN WCS (DS9).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .constants import BANDS
from .errors import PhotozError
from .io import atomic_path
from .resample.lanczos import cutout_wcs
from .tables import read_cubes, read_photoz

#: Units of the FITS table's columns (redshifts, widths and probabilities have none).
UNITS = {"ra": "deg", "dec": "deg", "e_bv_sfd": "mag", "dered_petro_r": "mag"}
#: Catalog columns joined into the FITS table when a catalog is given.
CATALOG_COLUMNS = ("ra", "dec", "dered_petro_r", "e_bv_sfd")


class ExportError(PhotozError, ValueError):
    """What was asked for cannot be exported; the message names the galaxy or file."""


def cutout_hdulist(objid: int, ra: float, dec: float, cube: np.ndarray, weight: np.ndarray):
    """One galaxy's cube as FITS: an image extension per band (``U`` ... ``Z``,
    nanomaggies per pixel) and its weight map (``U_WEIGHT`` ...), each with the TAN WCS."""
    from astropy.io import fits

    header = cutout_wcs(ra, dec, cube.shape[-1]).to_header()
    primary = fits.PrimaryHDU()
    primary.header["OBJID"] = (int(objid), "SDSS objID")
    primary.header["RA"] = (float(ra), "[deg] cutout centre")
    primary.header["DEC"] = (float(dec), "[deg] cutout centre")
    hdus = [primary]
    for kind, data in (("", cube), ("_WEIGHT", weight)):
        for b, band in enumerate(BANDS):
            hdu = fits.ImageHDU(
                np.asarray(data[b], dtype=np.float32), header=header, name=f"{band.upper()}{kind}"
            )
            hdu.header["BUNIT"] = "nanomaggy" if not kind else "1/nanomaggy^2"
            hdus.append(hdu)
    return fits.HDUList(hdus)


def export_cutouts(cube_files: list[str], catalog: str, objids: list[int], out_dir: str) -> list[Path]:
    """``out_dir/<objid>.fits`` for each galaxy of ``objids`` found in ``cube_files``
    (positions from ``catalog``); :class:`ExportError` naming the galaxies not found."""
    positions = pd.read_parquet(catalog, columns=["objid", "ra", "dec"]).set_index("objid")
    wanted, written = {int(i) for i in objids}, []
    for path in cube_files:
        table, cubes, weights = read_cubes(path)
        for row in np.flatnonzero(table["objid"].isin(wanted).to_numpy()):
            objid = int(table["objid"].iloc[row])
            if objid not in positions.index:
                raise ExportError(f"galaxy {objid} of {path} is not in {catalog}")
            ra, dec = positions.loc[objid, ["ra", "dec"]]
            out = Path(out_dir) / f"{objid}.fits"
            with atomic_path(out) as tmp:
                cutout_hdulist(objid, ra, dec, cubes[row], weights[row]).writeto(tmp, overwrite=True)
            written.append(out)
            wanted.discard(objid)
    if wanted:
        raise ExportError(f"galaxies {sorted(wanted)[:5]} are in none of the cube files")
    return written


def photoz_fits_table(photoz_path: str, out_path: str | os.PathLike, catalog: str | None = None) -> None:
    """The photo-z table as a FITS binary table, with position, r magnitude and E(B-V)
    from ``catalog`` (with their units) when given; the PDFs' bin edges in the header
    (``ZMIN``, ``ZMAX``, ``NBINS``) and in a ``Z_EDGES`` extension."""
    from astropy.io import fits
    from astropy.table import Table

    df = read_photoz(photoz_path)
    attrs = dict(df.attrs)
    if catalog:
        cat = pd.read_parquet(catalog)
        cat = cat[["objid", *[c for c in CATALOG_COLUMNS if c in cat and c not in df]]]
        missing = sorted(set(df["objid"]) - set(cat["objid"]))
        if missing:
            raise ExportError(f"galaxy {missing[0]} of {photoz_path} is not in {catalog}")
        df = df.merge(cat, on="objid", how="left", validate="one_to_one")
    table = Table()
    for name in df.columns:
        table[name] = np.stack(df[name]) if name in ("pdf", "z_phot_members") else df[name].to_numpy()
        if name in UNITS:
            table[name].unit = UNITS[name]
    edges = np.asarray(attrs["z_edges"])
    table.meta.update(ZMIN=edges[0], ZMAX=edges[-1], NBINS=len(edges) - 1, ZPHOT=attrs["point_estimate"])
    table.meta["SOURCE"] = str(photoz_path)
    hdus = fits.HDUList([fits.PrimaryHDU(), fits.table_to_hdu(table)])
    hdus.append(fits.BinTableHDU(Table({"z_edges": edges}), name="Z_EDGES"))
    with atomic_path(out_path) as tmp:
        hdus.writeto(tmp, overwrite=True)


def photoz_qp_ensemble(photoz_path: str):
    """The PDFs of a photo-z table as a ``qp`` ensemble (histogram representation on the
    table's bin edges, ``objid`` and ``z_phot`` as ancillary data)."""
    import qp

    df = read_photoz(photoz_path)
    pdfs = np.stack(df["pdf"]).astype(np.float64)
    edges = np.asarray(df.attrs["z_edges"], dtype=np.float64)
    widths = np.diff(edges)
    # qp's hist takes densities: probability per bin over the bin width
    ensemble = qp.Ensemble(
        qp.hist, data={"bins": edges, "pdfs": pdfs / pdfs.sum(axis=1, keepdims=True) / widths}
    )
    ensemble.set_ancil({"objid": df["objid"].to_numpy(np.int64), "z_phot": df["z_phot"].to_numpy()})
    return ensemble


def export_photoz(
    photoz_path: str, out_fits: str | None = None, out_qp: str | None = None, catalog: str | None = None
) -> None:
    """Command ``export_photoz``: the FITS table and / or the qp file (``.hdf5``)."""
    if out_fits:
        photoz_fits_table(photoz_path, out_fits, catalog)
    if out_qp:
        ensemble = photoz_qp_ensemble(photoz_path)
        final = Path(out_qp)
        # qp chooses the format by suffix: write under a temporary name with the same one
        tmp = final.with_name(f".{final.stem}.tmp{final.suffix}")
        ensemble.write_to(str(tmp))
        from .io import publish

        publish(tmp, final)
