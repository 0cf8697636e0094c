"""Synthetic frames: file format, flux and centroid truth, and the frame index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_config

from photoz.catalog.query import query_catalog
from photoz.constants import EXTINCTION_COEFF
from photoz.frames.geometry import gnomonic_to_sky
from photoz.frames.index import index_synthetic
from photoz.frames.reader import background_rms, read_frame
from photoz.synthetic.footprint import FIRST_FIELD, build_geometry, gc_to_radec
from photoz.synthetic.render import FrameKey, FrameRenderer, floatcompress
from photoz.synthetic.survey import geometry_from_description
from photoz.tables import read_table_metadata


@pytest.fixture(scope="module")
def small_survey(tmp_path_factory):
    """A 200-galaxy survey with small (512 x 372) frames: catalog, metadata, geometry."""
    out = tmp_path_factory.mktemp("frames")
    cfg = small_config(n_galaxies=200, seed=21, reference_size=500)
    cfg["synthetic"].update(frame_width=512, frame_height=372, density_boost=50.0, deep_epochs=3)
    query_catalog(cfg, out / "cat.parquet", out / "rej.parquet")
    meta = read_table_metadata(out / "cat.parquet")
    return pd.read_parquet(out / "cat.parquet"), meta, geometry_from_description(meta["synthetic"]), out


def _isolated_renderer(survey, row: pd.Series) -> FrameRenderer:
    catalog, meta, geo, _ = survey
    return FrameRenderer(geo, pd.DataFrame([row]), meta["seed"], neighbours=False)


def _aperture_on_frame(geo, row: pd.Series, radius_px: float = 60.0) -> bool:
    """Whether a circle of ``radius_px`` around the galaxy lies on its frame in g, r, i."""
    run = geo.run_by_number(int(row["run"]))
    for band in ("g", "r", "i"):
        wcs = geo.frame_wcs(run, int(row["camcol"]), int(row["field"]), band)
        x0, y0 = wcs.all_world2pix(row["ra"], row["dec"], 0)
        height, width = wcs.pixel_shape[1], wcs.pixel_shape[0]
        if not (radius_px <= x0 <= width - 1 - radius_px and radius_px <= y0 <= height - 1 - radius_px):
            return False
    return True


@pytest.mark.parametrize("region", ["deep", "wide2"])
def test_isolated_galaxy_flux_and_centroid(small_survey, region):
    catalog, meta, geo, _ = small_survey
    candidates = catalog[catalog["sim_region"] == region].sort_values("sim_r_disk_arcsec")
    # A small galaxy whose 60-px aperture lies on the frame in every band (a Sersic
    # bulge's wings reach past 15 px: cut by the frame edge, they would move the centroid).
    row = next(r for _, r in candidates.iloc[len(catalog) // 20 :].iterrows() if _aperture_on_frame(geo, r))
    renderer = _isolated_renderer(small_survey, row)
    for band in ("g", "r", "i"):
        key = FrameKey(int(row["run"]), int(row["camcol"]), int(row["field"]), band)
        image, _ = renderer.render_image(key, noise=False)
        run = geo.run_by_number(key.run)
        x0, y0 = geo.frame_wcs(run, key.camcol, key.field, band).all_world2pix(row["ra"], row["dec"], 0)
        zero_point = geo.conditions(key.run, key.camcol, key.field, band).zero_point_mag
        true = sum(row[f"sim_flux_{c}_{band}"] for c in ("bulge", "disk", "knots")) * 10 ** (
            -0.4 * (EXTINCTION_COEFF[band] * row["sim_ebv_true"] + zero_point)
        )
        yy, xx = np.indices(image.shape)
        inside = np.hypot(xx - x0, yy - y0) < 60
        assert image[~inside].sum() < 1e-3 * true, "source light outside the aperture"
        flux = image[inside].sum()
        assert flux == pytest.approx(true, rel=0.01)
        cx = (image * xx)[inside].sum() / flux
        cy = (image * yy)[inside].sum() / flux
        assert abs(cx - x0) < 0.05 and abs(cy - y0) < 0.05, (cx - x0, cy - y0)


def test_synthetic_frames_pass_the_reader_with_sdss_layout(small_survey, tmp_path):
    catalog, meta, geo, _ = small_survey
    row = catalog[catalog["sim_region"] == "deep"].iloc[0]
    renderer = FrameRenderer(geo, catalog, meta["seed"])
    key = FrameKey(int(row["run"]), int(row["camcol"]), int(row["field"]), "r")
    path = tmp_path / "frame-r.fits.bz2"
    renderer.write(key, path)
    assert path.read_bytes()[:3] == b"BZh"
    frame = read_frame(path)
    h = frame.header
    assert frame.image.shape == (372, 512) and frame.image.dtype == np.float32
    assert h["BUNIT"] == "nanomaggy" and h["FILTER"] == "r" and h["RUN"] == key.run
    assert h["CAMCOL"] == key.camcol and h["FRAME"] == key.field and h["STRIPE"] == 82
    assert h["EXPTIME"] == "53.907456" and h["SYNTHETI"] is True
    # Equatorial drift scan: axis-swapped CD matrix, like the real frames.
    assert abs(h["CD1_1"]) < 1e-8 and abs(h["CD2_2"]) < 1e-8
    assert h["CD1_2"] == pytest.approx(0.396012 / 3600, rel=1e-6) and h["CD2_1"] > 0
    assert frame.calib.shape == (512,) and frame.header["NMGY"] == pytest.approx(frame.calib.mean(), rel=1e-5)
    # The datamodel noise recipe recovers the noise that was put in.
    err = frame.error_image(h["SIMGAIN"], h["SIMDARKV"])
    assert np.median(err) / background_rms(frame.image) == pytest.approx(1.0, abs=0.05)
    # FLOATCOMPRESS: 10 mantissa bits.
    mantissa = frame.image.view(np.uint32) & np.uint32((1 << 23) - 1)
    assert np.all(mantissa & np.uint32((1 << 13) - 1) == 0)
    # Deterministic: the same frame twice is the same file.
    renderer.write(key, tmp_path / "again.fits.bz2")
    assert (tmp_path / "again.fits.bz2").read_bytes() == path.read_bytes()
    # The pipeline's gzip (and plain) frames hold the same data, also byte-reproducibly.
    for name, magic in (("frame-r.fits.gz", b"\x1f\x8b"), ("frame-r.fits", b"SIM")):
        renderer.write(key, tmp_path / name)
        assert (tmp_path / name).read_bytes()[:3].startswith(magic)
        np.testing.assert_array_equal(read_frame(tmp_path / name).image, frame.image)
    renderer.write(key, tmp_path / "again.fits.gz")
    assert (tmp_path / "again.fits.gz").read_bytes() == (tmp_path / "frame-r.fits.gz").read_bytes()


def test_floatcompress_keeps_ten_bits():
    x = np.array([1.0, 3.14159265, -2.718281, 1e-3, 0.0], dtype=np.float32)
    y = floatcompress(x)
    np.testing.assert_allclose(y, x, rtol=2**-10)
    assert y[0] == 1.0 and y[4] == 0.0


def test_index_matches_brute_force_footprints():
    """Galaxies on field overlaps, camcol edges and in the multi-epoch area."""
    geo = build_geometry(3, 0.05, 0.5, 4, frame_width=256, frame_height=186)
    run = geo.runs_of("deep", 0)[0]
    rng = np.random.default_rng(0)
    pts = []
    for k in range(16):
        fld, camcol = FIRST_FIELD + 3 + k % 3, 1 + k % 6
        mu = float(geo.field_start_mu(run, fld)) + rng.uniform(-0.002, 0.002)
        mu += geo.field_step_deg if k % 2 else 0.0  # inside the 128-row overlap
        nu = float(geo.camcol_nu(run.strip, camcol))
        nu += (1 if k % 3 else -1) * (0.5 * geo.frame_width_deg + rng.uniform(-0.004, 0.004))
        pts.append((mu, nu))
    mu, nu = np.array(pts).T
    ra, dec = gc_to_radec(mu, nu, 0.0)
    galaxies = pd.DataFrame(
        {"objid": np.arange(1, 17, dtype=np.uint64), "ra": ra, "dec": dec, "sim_region": "deep"}
    )
    index = index_synthetic(galaxies, geo, 12, "cache", "http://sas")
    assert index["path"].str.endswith(".fits.gz").all()  # rendered frames are gzipped
    got = set(index[["objid", "band", "run", "camcol", "field"]].itertuples(index=False, name=None))

    # Brute force: every output pixel centre of each cutout (70x70 with the 3-px
    # Lanczos apron) against every frame of every run, camcol and nearby field.
    offsets = (np.arange(70) - 34.5) * 0.396 / 3600
    xi, eta = np.meshgrid(offsets, offsets)
    sky = [gnomonic_to_sky(a, d, xi.ravel(), eta.ravel()) for a, d in zip(ra, dec, strict=True)]
    s_ra = np.concatenate([s[0] for s in sky])
    s_dec = np.concatenate([s[1] for s in sky])
    owner = np.repeat(galaxies["objid"].to_numpy(), xi.size)
    want = set()
    for r in geo.runs_of("deep"):
        for camcol in range(1, 7):
            for fld in range(FIRST_FIELD + 1, FIRST_FIELD + 8):
                for band in "ugriz":
                    x, y = geo.frame_wcs(r, camcol, fld, band).all_world2pix(s_ra, s_dec, 0)
                    on = (x >= -0.5) & (x <= 255.5) & (y >= -0.5) & (y <= 185.5)
                    want |= {(o, band, r.run, camcol, fld) for o in np.unique(owner[on])}
    assert len(want) > 16 * 5 * 4, "every galaxy sees several epochs and overlaps"
    assert got == want
    # Every epoch of the deep region covers every galaxy.
    epochs = index.assign(epoch=[geo.run_by_number(r).epoch for r in index["run"]])
    assert (epochs.groupby("objid")["epoch"].nunique() == 4).all()


def test_same_seed_gives_byte_identical_frames(small_survey, tmp_path):
    """Two renderers of the same survey write the same bytes; another seed does not."""
    catalog, meta, geo, _ = small_survey
    row = catalog[catalog["sim_region"] == "deep"].iloc[0]
    key = FrameKey(int(row["run"]), int(row["camcol"]), int(row["field"]), "g")
    paths = []
    for i, seed in enumerate((meta["seed"], meta["seed"], meta["seed"] + 1)):
        paths.append(tmp_path / f"frame{i}.fits.bz2")
        FrameRenderer(geo, catalog, seed).write(key, paths[-1])
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
