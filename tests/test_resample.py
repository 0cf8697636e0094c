"""The Lanczos-3 resampler against the SWarp binary, and its science checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from test_frames_download import FIXTURES

from photoz.frames.reader import background_rms, read_frame
from photoz.resample.lanczos import (
    combine,
    map_approx,
    map_exact,
    output_sky,
    resample_frame,
)
from photoz.resample.swarp import available, decompress, swarp_cutout

needs_swarp = pytest.mark.skipif(not available(), reason="SWarp binary (Debian package swarp) not installed")
needs_fixtures = pytest.mark.skipif(not (FIXTURES / "dr12").is_dir(), reason=f"no SDSS frames in {FIXTURES}")
FRAME = "dr12/boss/photoObj/frames/301/2583/2/frame-{}-002583-2-0136.fits.bz2"
S = 0.396 / 3600


def _assert_matches_swarp(ours, weight, ref, ref_weight):
    peak = np.abs(ref).max()
    assert np.abs(ours - ref).max() <= 1e-4 * peak
    assert np.array_equal(weight == 0, ref_weight == 0)
    good = ref_weight > 0
    np.testing.assert_allclose(weight[good], ref_weight[good], rtol=1e-5)


@needs_swarp
@needs_fixtures
@pytest.mark.slow
def test_real_frames_match_swarp_at_60_positions(tmp_path):
    rng = np.random.default_rng(7)
    # 40 interior positions and 20 within 5 px of an edge (x or y), 1-based pixels.
    x = np.r_[
        rng.uniform(40, 2008, 40),
        rng.uniform(-2, 5, 5),
        rng.uniform(2044, 2051, 5),
        rng.uniform(30, 2000, 10),
    ]
    y = np.r_[
        rng.uniform(40, 1450, 40),
        rng.uniform(30, 1450, 10),
        rng.uniform(-2, 5, 5),
        rng.uniform(1485, 1492, 5),
    ]
    for band in "ugriz":
        frame = read_frame(FIXTURES / FRAME.format(band))
        raw = decompress(FIXTURES / FRAME.format(band), tmp_path)
        positions = range(60) if band == "r" else range(0, 60, 6)
        ra, dec = frame.wcs.all_pix2world(x, y, 1)
        values, weights = resample_frame(frame.image, frame.wcs, ra, dec)
        for k in positions:
            ref, ref_w = swarp_cutout([raw], float(ra[k]), float(dec[k]))
            _assert_matches_swarp(values[k], weights[k], ref, ref_w)
        # Edge cutouts really lose pixels, interior ones do not.
        assert (weights[40:50] == 0).any(axis=(1, 2)).all()
        assert (weights[:40] > 0).all()


def _write_frame(path, image, crval, angle_deg, parity=-1):
    """An SDSS-like frame: TAN WCS rotated by ``angle_deg`` with SDSS's parity."""
    t = np.radians(angle_deg)
    cd = S * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    if parity > 0:
        cd[:, 0] *= -1
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crpix = [image.shape[1] / 2 + 1, (image.shape[0] + 1) / 2]
    w.wcs.crval = crval
    w.wcs.cd = cd
    fits.PrimaryHDU(image.astype(np.float32), header=w.to_header()).writeto(path)
    return WCS(fits.getheader(path))


def _scene(shape, rng, n=40):
    """Noise plus Gaussian blobs: structure on all scales for the kernel to move around."""
    yy, xx = np.indices(shape)
    img = rng.normal(0, 0.05, shape)
    for _ in range(n):
        x0, y0 = rng.uniform(0, shape[1]), rng.uniform(0, shape[0])
        img += rng.uniform(1, 50) * np.exp(
            -((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * rng.uniform(1.2, 4) ** 2)
        )
    return img


@needs_swarp
@pytest.mark.parametrize("method", ["MEDIAN", "WEIGHTED"])
def test_multi_epoch_stacks_match_swarp(tmp_path, method):
    rng = np.random.default_rng(11)
    centre = [150.0, 30.0]
    paths, frames = [], []
    for k, angle in enumerate([90.0, 55.0, 12.0, 93.0]):  # four epochs, different scan angles
        path = tmp_path / f"epoch{k}.fits"
        shift = rng.normal(0, 5 * S, 2)
        wcs = _write_frame(path, _scene((300, 400), rng), [centre[0] + shift[0], centre[1] + shift[1]], angle)
        paths.append(path)
        frames.append((fits.getdata(path).astype(np.float64), wcs))
    targets = [(150.0, 30.0), (150.0 + 0.004, 30.0 - 0.002), (150.0 - 0.015, 30.012)]  # last near edges
    for ra, dec in targets:
        vals, wts = zip(*(resample_frame(img, w, [ra], [dec]) for img, w in frames), strict=True)
        ours, ours_w = combine(np.concatenate(vals), np.concatenate(wts), method)
        ref, ref_w = swarp_cutout(paths, ra, dec, method)
        _assert_matches_swarp(ours, ours_w, ref, ref_w)


def _star_frame(tmp_path, ra_star, dec_star):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crpix = [201.0, 150.5]
    wcs.wcs.crval = [200.0, 10.0]
    wcs.wcs.cd = [[0.0, S], [S, 0.0]]  # SDSS orientation on the equator
    x, y = wcs.all_world2pix(ra_star, dec_star, 0)
    yy, xx = np.indices((300, 400))
    image = np.zeros((300, 400))
    for xs, ys in zip(np.atleast_1d(x), np.atleast_1d(y), strict=True):
        image += np.exp(-((xx - xs) ** 2 + (yy - ys) ** 2) / (2 * 1.5**2))
    return image, wcs


def _centroid(img):
    yy, xx = np.indices(img.shape)
    core = img > 0.02 * img.max()
    return (img * yy)[core].sum() / img[core].sum(), (img * xx)[core].sum() / img[core].sum()


def test_point_source_lands_on_the_central_corner_and_moves_with_offsets(tmp_path):
    ra0, dec0 = 200.0021, 10.0013
    image, wcs = _star_frame(tmp_path, ra0, dec0)
    values, _ = resample_frame(image, wcs, [ra0], [dec0])
    row, col = _centroid(values[0])
    assert abs(row - 31.5) < 0.02 and abs(col - 31.5) < 0.02, (row, col)
    north = dec0 + 8 / 3600
    east = ra0 + 6 / 3600 / np.cos(np.radians(dec0))
    # 8"/0.396" = 20.20 rows up (north), 6"/0.396" = 15.15 columns left (east): the
    # expected "+20.2" and "-15.2", here held to 0.02 px of the exact geometry.
    for ra_s, dec_s, d_row, d_col in ((ra0, north, 8 / 0.396, 0.0), (east, dec0, 0.0, -6 / 0.396)):
        image, wcs = _star_frame(tmp_path, ra_s, dec_s)
        values, _ = resample_frame(image, wcs, [ra0], [dec0])
        row, col = _centroid(values[0])
        assert row - 31.5 == pytest.approx(d_row, abs=0.02)
        assert col - 31.5 == pytest.approx(d_col, abs=0.02)


def isolated_galaxy_frames(tmp_path):
    """(galaxy row, noise-free r frame with only that galaxy, the frame's WCS, the
    galaxy's true r flux on it) for the compact galaxies of a small synthetic survey."""
    from conftest import small_config

    from photoz.catalog.query import query_catalog
    from photoz.synthetic.galaxies import frame_flux
    from photoz.synthetic.render import FrameKey, FrameRenderer
    from photoz.synthetic.survey import geometry_from_description
    from photoz.tables import read_table_metadata

    cfg = small_config(n_galaxies=120, seed=31, reference_size=400)
    cfg["synthetic"].update(frame_width=512, frame_height=372)
    query_catalog(cfg, tmp_path / "c.parquet", tmp_path / "r.parquet")
    catalog = pd.read_parquet(tmp_path / "c.parquet")
    meta = read_table_metadata(tmp_path / "c.parquet")
    geo = geometry_from_description(meta["synthetic"])
    compact = catalog[(catalog["sim_r_disk_arcsec"] < 1.8) & (catalog["sim_r_bulge_arcsec"] < 0.9)]
    for _, row in compact.iterrows():
        renderer = FrameRenderer(geo, pd.DataFrame([row]), meta["seed"], neighbours=False)
        key = FrameKey(int(row["run"]), int(row["camcol"]), int(row["field"]), "r")
        image, _ = renderer.render_image(key, noise=False)
        wcs = geo.frame_wcs(geo.run_by_number(key.run), key.camcol, key.field, "r")
        zero_point = geo.conditions(key.run, key.camcol, key.field, "r").zero_point_mag
        yield row, image, wcs, frame_flux(pd.DataFrame([row]), "r", zero_point)[0]


def test_flux_of_an_isolated_galaxy_is_conserved(tmp_path):
    checked = 0
    for row, image, wcs, true in isolated_galaxy_frames(tmp_path):
        values, weights = resample_frame(image, wcs, [row["ra"]], [row["dec"]], backsig=1.0)
        if not (weights[0] > 0).all():
            continue  # cutout crosses the frame edge: not a whole galaxy on this frame
        assert values[0].sum() == pytest.approx(true, rel=0.005)
        checked += 1
        if checked == 3:
            break
    assert checked == 3


@needs_fixtures
def test_approximate_mapping_is_exact_to_a_micro_pixel():
    frame = read_frame(FIXTURES / FRAME.format("r"))
    ra0, dec0 = frame.wcs.all_pix2world([100.0, 1900.0], [100.0, 1400.0], 1)
    x, y = map_approx(frame.wcs, ra0, dec0)
    xe, ye = map_exact(frame.wcs, *output_sky(ra0, dec0))
    assert np.abs(x - xe).max() < 1e-6 and np.abs(y - ye).max() < 1e-6


@needs_fixtures
def test_background_sigma_is_swarps():
    """sep reproduces SWarp's global background RMS (values measured with the binary)."""
    swarp = {"u": 0.0553803, "g": 0.0209979, "r": 0.032831, "i": 0.0546476, "z": 0.211054}
    for band, value in swarp.items():
        assert background_rms(read_frame(FIXTURES / FRAME.format(band)).image) == pytest.approx(
            value, rel=2e-5
        )


def test_median_combine_weights_follow_swarp():
    w = np.array([4.0, 1.0, 9.0])[:, None, None] * np.ones((3, 2, 2))
    v = np.array([1.0, 5.0, 2.0])[:, None, None] * np.ones((3, 2, 2))
    out, wout = combine(v, w, "MEDIAN")
    n, c = 3, np.pi / 2 - 1
    expected = 2 * (2 + 1 + 3) ** 2 * (n + c) / (np.pi * n**2)
    np.testing.assert_allclose(out, 2.0)
    np.testing.assert_allclose(wout, expected, rtol=1e-6)
    out2, wout2 = combine(v[:2], w[:2], "MEDIAN")
    np.testing.assert_allclose(out2, 3.0)
    np.testing.assert_allclose(wout2, 4 / (1 / 4 + 1), rtol=1e-6)
    out3, wout3 = combine(v, w, "WEIGHTED")
    np.testing.assert_allclose(out3, (4 + 5 + 18) / 14, rtol=1e-6)
    np.testing.assert_allclose(wout3, 14.0)
    none, wnone = combine(v, np.zeros_like(w), "MEDIAN")
    assert (none == 0).all() and (wnone == 0).all()


def rendered_partition(tmp_path, n_wide: int = 2):
    """(galaxies, frame index, manifest, renderer) of a small rendered partition: 3
    galaxies of the multi-epoch region and ``n_wide`` others of a 60-galaxy synthetic
    survey, frames in ``tmp_path / "part"``."""
    from conftest import small_config

    from photoz.catalog.query import query_catalog
    from photoz.frames.fetch import fetch_partition
    from photoz.frames.index import index_synthetic
    from photoz.synthetic.render import FrameRenderer
    from photoz.synthetic.survey import geometry_from_description
    from photoz.tables import read_table_metadata

    cfg = small_config(n_galaxies=60, seed=41, reference_size=300)
    cfg["synthetic"].update(frame_width=512, frame_height=372, deep_epochs=3)
    query_catalog(cfg, tmp_path / "c.parquet", tmp_path / "r.parquet")
    catalog = pd.read_parquet(tmp_path / "c.parquet")
    meta = read_table_metadata(tmp_path / "c.parquet")
    geo = geometry_from_description(meta["synthetic"])
    galaxies = pd.concat([catalog[catalog["sim_region"] == "deep"].head(3), catalog.tail(n_wide)])
    index = index_synthetic(galaxies, geo, 12, str(tmp_path / "part"), "http://sas")
    index["relpath"] = [str(Path(p).relative_to(tmp_path / "part")) for p in index["path"]]
    renderer = FrameRenderer(geo, catalog, meta["seed"])
    manifest = fetch_partition(index, None, tmp_path / "m.parquet", renderer=renderer, workers=2)
    return galaxies, index, manifest, renderer


@needs_swarp
@pytest.mark.slow
def test_partition_cubes_with_both_backends_agree(tmp_path):
    """resample_partition end to end on rendered frames: lanczos and swarp backends."""
    from photoz.resample.cubes import ResampleParams, resample_partition
    from photoz.tables import read_cubes, write_cubes

    galaxies, index, manifest, _ = rendered_partition(tmp_path)
    results = {}
    for backend in ("lanczos", "swarp"):
        table, cubes, weights, missing = resample_partition(
            galaxies, index, manifest, ResampleParams(backend=backend, threads=2)
        )
        assert missing.empty and (table["flags"] == 0).all()
        results[backend] = (table, cubes, weights)
    (t1, c1, w1), (t2, c2, w2) = results["lanczos"], results["swarp"]
    pd.testing.assert_frame_equal(t1, t2)
    assert (t1.loc[:2, [f"n_frames_{b}" for b in "ugriz"]] >= 3).all().all()  # multi-epoch
    for k in range(len(galaxies)):
        for b in range(5):
            _assert_matches_swarp(c1[k, b], w1[k, b], c2[k, b], w2[k, b])
    write_cubes(t1, c1, w1, tmp_path / "cubes.parquet", {"backend": "lanczos"})
    back, cubes_back, weights_back = read_cubes(tmp_path / "cubes.parquet")
    pd.testing.assert_frame_equal(back, t1)
    assert np.array_equal(cubes_back, c1) and np.array_equal(weights_back, w1)
