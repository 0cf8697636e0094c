"""Exports for photo-z users: FITS table with units, qp ensemble, FITS cutouts with WCS."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from photoz.models.ensemble import summarise
from photoz.tables import read_photoz, write_cubes, write_photoz

N_BINS, Z_MAX = 180, 0.4


@pytest.fixture
def photoz_table(tmp_path):
    rng = np.random.default_rng(3)
    n = 50
    z = rng.uniform(0.02, 0.3, n)
    centres = (np.arange(N_BINS) + 0.5) * Z_MAX / N_BINS
    pdf = np.exp(-0.5 * ((centres[None] - z[:, None]) / 0.02) ** 2)
    pdf /= pdf.sum(axis=1, keepdims=True)
    table = summarise(np.arange(n) + 1237650000000000000, np.arange(n) % 5, z, pdf, z_max=Z_MAX)
    path = tmp_path / "baseline.parquet"
    write_photoz(table, path, {"method": "baseline"})
    return path


def test_fits_table_has_units_and_the_bin_edges(photoz_table, tmp_path):
    import astropy.units as u
    from astropy.table import Table

    from photoz.export import photoz_fits_table

    source = read_photoz(photoz_table)
    catalog = tmp_path / "catalog.parquet"
    ra = np.linspace(1, 50, len(source))
    pd.DataFrame({"objid": source["objid"][::-1], "ra": ra[::-1], "dec": -ra[::-1]}).to_parquet(catalog)
    out = tmp_path / "baseline.fits"
    photoz_fits_table(str(photoz_table), out, str(catalog))
    table = Table.read(out, hdu=1)
    assert table["ra"].unit == u.deg and table["dec"].unit == u.deg and len(table) == len(source)
    np.testing.assert_array_equal(table["ra"], ra)  # joined on objid, not on row order
    np.testing.assert_array_equal(table["objid"], source["objid"])
    np.testing.assert_allclose(table["pdf"], np.stack(source["pdf"]), rtol=0, atol=0)
    edges = Table.read(out, hdu="Z_EDGES")["z_edges"]
    assert len(edges) == N_BINS + 1 and edges[0] == 0.0 and edges[-1] == pytest.approx(Z_MAX, abs=1e-15)
    assert table.meta["NBINS"] == N_BINS


def test_qp_ensemble_reads_back_the_same_pdfs_and_edges(photoz_table, tmp_path):
    import qp

    from photoz.export import export_photoz

    out = tmp_path / "baseline.hdf5"
    export_photoz(str(photoz_table), out_qp=str(out))
    back = qp.read(str(out))
    source = read_photoz(photoz_table)
    edges = np.asarray(source.attrs["z_edges"])
    np.testing.assert_allclose(np.ravel(back.metadata["bins"]), edges, rtol=0, atol=1e-12)
    probabilities = back.objdata["pdfs"] * np.diff(edges)
    np.testing.assert_allclose(probabilities, np.stack(source["pdf"]), rtol=0, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(back.ancil["objid"], source["objid"])
    # qp's own mean of a galaxy matches the table's z_phot (the PDF mean at bin centres)
    assert back.mean()[0, 0] == pytest.approx(source["z_phot"][0], abs=1e-4)


def test_cutouts_carry_the_cube_and_its_tan_wcs(tmp_path):
    from astropy.io import fits
    from astropy.wcs import WCS

    from photoz.resample.lanczos import output_sky

    rng = np.random.default_rng(1)
    n = 3
    objid = np.array([11, 12, 13])
    ra, dec = np.array([10.0, 200.5, 359.99]), np.array([0.5, -1.2, 60.0])
    cubes = rng.normal(size=(n, 5, 64, 64)).astype(np.float32)
    weights = rng.uniform(1, 2, size=(n, 5, 64, 64)).astype(np.float32)
    table = pd.DataFrame({"objid": objid, "flags": np.zeros(n, np.int64)})
    write_cubes(table, cubes, weights, tmp_path / "part0000.parquet", {})
    pd.DataFrame({"objid": objid, "ra": ra, "dec": dec}).to_parquet(tmp_path / "catalog.parquet")
    out = tmp_path / "cutouts"
    args = ["--cubes", str(tmp_path / "part0000.parquet"), "--catalog", str(tmp_path / "catalog.parquet")]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "photoz.cli",
            "export_cutouts",
            *args,
            "--objids",
            "12",
            "13",
            "--out-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    sky_ra, sky_dec = output_sky(ra, dec)
    for k in (1, 2):
        with fits.open(out / f"{objid[k]}.fits") as hdus:
            assert hdus[0].header["OBJID"] == objid[k]
            for b, band in enumerate("UGRIZ"):
                np.testing.assert_array_equal(hdus[band].data, cubes[k, b])
                np.testing.assert_array_equal(hdus[f"{band}_WEIGHT"].data, weights[k, b])
            wcs = WCS(hdus["R"].header)
        x, y = wcs.world_to_pixel_values(ra[k], dec[k])
        assert (x + 1, y + 1) == pytest.approx((32.5, 32.5), abs=1e-9)  # 1-based FITS pixel
        # every pixel centre where the resampler put it (rows are FITS y)
        rows, cols = np.mgrid[0:64, 0:64]
        wra, wdec = wcs.pixel_to_world_values(cols, rows)
        dra = (wra - sky_ra[k] + 180.0) % 360.0 - 180.0
        assert np.abs(dra * np.cos(np.radians(dec[k]))).max() < 1e-10
        assert np.abs(wdec - sky_dec[k]).max() < 1e-10
    assert not (out / "11.fits").exists()


def test_a_galaxy_not_in_the_cubes_is_one_line(tmp_path, capsys):
    from photoz.cli import main

    table = pd.DataFrame({"objid": [1], "flags": [0]})
    cube = np.zeros((1, 5, 64, 64), np.float32)
    write_cubes(table, cube, cube, tmp_path / "c.parquet", {})
    pd.DataFrame({"objid": [1], "ra": [1.0], "dec": [1.0]}).to_parquet(tmp_path / "cat.parquet")
    args = ["--cubes", str(tmp_path / "c.parquet"), "--catalog", str(tmp_path / "cat.parquet")]
    assert main(["export_cutouts", *args, "--objids", "7", "--out-dir", str(tmp_path / "o")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "galaxies [7] are in none of the cube files" in lines[0]
