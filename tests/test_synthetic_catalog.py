"""The synthetic MGS-like catalog against its acceptance numbers (sizes, cuts, ids, photometry)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from conftest import SURVEY_SIZE, small_config
from scipy.stats import gaussian_kde, spearmanr

from photoz.catalog.query import query_catalog
from photoz.constants import BANDS, EXTINCTION_COEFF
from photoz.evaluation.evaluated_galaxies import in_stripe82
from photoz.synthetic.footprint import FIRST_FIELD, build_geometry, gc_to_radec, radec_to_gc
from photoz.synthetic.galaxies import petrosian_flux
from photoz.synthetic.survey import geometry_from_description
from photoz.synthetic.templates import observed_maggies_ab, sdss_kcorrect, shifted_r_maggies


def test_nz_peak_median_and_tail(survey_catalog):
    df, _, _ = survey_catalog
    z = df["z"].to_numpy()
    grid = np.linspace(0.0, 0.4, 401)
    density = gaussian_kde(z, bw_method=0.01 / z.std())(grid)
    peak = grid[density.argmax()]
    assert 0.07 <= peak <= 0.13, peak
    assert 0.08 <= np.median(z) <= 0.12, np.median(z)
    tail = np.mean(z > 0.25)
    # The MGS tail needs luminosity evolution and K-corrections; measured ~0.5-0.6%.
    assert 0.003 <= tail <= 0.05, tail
    assert z.min() > 0.0 and z.max() <= 0.4


def test_magnitude_limit_and_reddening(survey_catalog):
    df, _, _ = survey_catalog
    assert (df["dered_petro_r"] <= 17.8).all()
    assert (df["e_bv_sfd"] > 0).all()
    for b, coeff in zip(BANDS, (5.155, 3.793, 2.751, 2.086, 1.479), strict=True):
        np.testing.assert_allclose(df[f"extinction_{b}"], coeff * df["e_bv_sfd"], rtol=1e-12)
        np.testing.assert_allclose(
            df[f"dered_petro_{b}"], df[f"petromag_{b}"] - df[f"extinction_{b}"], atol=1e-12
        )


def test_red_galaxy_colour_rises_with_redshift(survey_catalog):
    df, _, _ = survey_catalog
    red = df[df["sim_population"] == "red"]
    gr = red["dered_petro_g"] - red["dered_petro_r"]
    edges = [0.02, 0.06, 0.10, 0.14, 0.20]
    medians = [
        np.median(gr[(red["z"] >= lo) & (red["z"] < hi)])
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]
    assert np.all(np.diff(medians) > 0.05), medians
    rho = spearmanr(red["z"], gr).statistic
    assert rho > 0.6, rho
    # Blue galaxies are bluer than red ones at the same redshift.
    blue = df[(df["sim_population"] == "blue") & (df["z"].between(0.06, 0.12))]
    red_mid = red[red["z"].between(0.06, 0.12)]
    assert (
        np.median(blue["dered_petro_g"] - blue["dered_petro_r"])
        < np.median(red_mid["dered_petro_g"] - red_mid["dered_petro_r"]) - 0.15
    )


def test_photometric_errors_are_honest(survey_catalog):
    """Measured minus true Petrosian magnitude, in units of the quoted error, is ~N(0, 1)."""
    df, _, _ = survey_catalog
    geo = geometry_from_description(survey_catalog[1]["synthetic"])
    frames = df[["run", "camcol", "field"]].to_numpy()
    for band in ("g", "r", "i"):
        zero_point = np.array(
            [geo.conditions(int(r), int(c), int(f), band).zero_point_mag for r, c, f in frames]
        )
        a_true = EXTINCTION_COEFF[band] * df["sim_ebv_true"].to_numpy()
        true_mag = 22.5 - 2.5 * np.log10(petrosian_flux(df, band)) + a_true + zero_point
        pull = (df[f"petromag_{band}"] - true_mag) / df[f"petromagerr_{band}"]
        # Selection on measured r biases r slightly bright near the limit; g/i are clean.
        assert abs(np.median(pull)) < 0.15, (band, np.median(pull))
        mad_sigma = 1.4826 * np.median(np.abs(pull - np.median(pull)))
        assert 0.85 < mad_sigma < 1.15, (band, mad_sigma)


def test_cut_counts_and_metadata(survey_catalog):
    df, meta, _ = survey_catalog
    counts = meta["cut_counts"]
    assert [c["cut"] for c in counts] == [
        "z_range",
        "zwarning_0",
        "class_galaxy",
        "mgs_target",
        "clean",
        "not_inside_mask",
        "dered_r_limit",
    ]
    for prev, nxt in zip(counts[:-1], counts[1:], strict=True):
        assert prev["after"] == nxt["before"]
    assert counts[0]["before"] == meta["rows_raw"]
    assert counts[-1]["after"] == SURVEY_SIZE == len(df) == meta["rows_final"]
    assert all(c["after"] < c["before"] for c in counts), "every cut removes something"
    assert meta["backend"] == "synthetic" and meta["data_release"] == 12
    assert meta["seed"] == 20190101
    sql = meta["sql"]
    assert "(zi.primtarget & 64) > 0" in sql and "<= 17.8" in sql and "za.z <= 0.4" in sql
    assert "po.clean = 1 AND po.insideMask = 0" in sql


def test_objid_encodes_primary_field_and_is_unique(survey_catalog):
    df, _, _ = survey_catalog
    objid = df["objid"].to_numpy(np.uint64)
    assert len(np.unique(objid)) == len(objid)
    assert len(np.unique(df["specobjid"])) == len(df)
    assert np.all((objid >> np.uint64(32)) & np.uint64(0xFFFF) == df["run"].to_numpy(np.uint64))
    assert np.all((objid >> np.uint64(29)) & np.uint64(7) == df["camcol"].to_numpy(np.uint64))
    assert np.all((objid >> np.uint64(16)) & np.uint64(0xFFF) == df["field"].to_numpy(np.uint64))


def test_primary_frame_contains_the_galaxy(survey_catalog):
    df, meta, _ = survey_catalog
    geo = geometry_from_description(meta["synthetic"])
    runs = {r.run: r for r in geo.runs}
    for (run_id, camcol, field), sub in df.groupby(["run", "camcol", "field"]):
        run = runs[run_id]
        mu, nu = radec_to_gc(sub["ra"].to_numpy(), sub["dec"].to_numpy(), run.incl)
        start = run.mu_start + (field - FIRST_FIELD) * geo.field_step_deg
        assert np.all((mu >= start) & (mu < start + geo.frame_height * geo.pixel_deg))
        centre = geo.camcol_nu(run.strip, camcol) + run.nu_offset
        assert np.all(np.abs(nu - centre) <= 0.5 * geo.frame_width_deg)


def test_deep_region_is_multi_epoch(survey_catalog):
    df, meta, _ = survey_catalog
    geo = geometry_from_description(meta["synthetic"])
    deep = [r for r in geo.regions if r.deep]
    assert len(deep) == 1 and deep[0].stripe == 82 and deep[0].incl == 0.0
    assert {r.epoch for r in geo.runs_of(deep[0].name)} == set(range(8))
    frac = df["sim_deep"].mean()
    assert 0.15 < frac < 0.25, frac


def test_catalog_photoz_column_is_a_sane_photometric_estimate(survey_catalog):
    df, _, _ = survey_catalog
    dz = (df["zphot"] - df["z"]) / (1 + df["z"])
    sigma_mad = 1.4826 * np.median(np.abs(dz - np.median(dz)))
    assert 0.005 < sigma_mad < 0.03, sigma_mad
    assert abs(dz.mean()) < 0.005
    assert (df["dzphot"] > 0).all()


def test_same_seed_gives_identical_file(tmp_path):
    digests = []
    for k, seed in enumerate((11, 11, 12)):
        cfg = small_config(n_galaxies=150, seed=seed, reference_size=400)
        path = tmp_path / f"cat{k}.parquet"
        query_catalog(cfg, path, tmp_path / f"rej{k}.parquet")
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_k_corrections_are_kcorrects():
    """Our projection of the templates gives kcorrect's own K-corrections (^{0.1}r band)."""
    rng = np.random.default_rng(1)
    coeffs = rng.gamma(0.5, 1.0, (300, 5)) * 1e-9
    z = rng.uniform(0.01, 0.6, 300)
    ours = -2.5 * np.log10(observed_maggies_ab(coeffs, z)[:, 2] / shifted_r_maggies(coeffs))
    kc = sdss_kcorrect()
    import kcorrect.kcorrect

    shifted = kcorrect.kcorrect.KcorrectSDSS(
        redshift_range=[0.0, 1.3], nredshift=261, responses_out=["sdss_r0"], responses_map=["sdss_r0"]
    )
    theirs = shifted.kcorrect(redshift=z, coeffs=coeffs, band_shift=0.1)[:, 0]
    assert kc is sdss_kcorrect()
    np.testing.assert_allclose(ours, theirs, atol=2e-4)


def test_catalog_reddening_and_zero_points_carry_errors(survey_catalog):
    """E(B-V) in the catalog is the true one off by ~16% (SFD); frames have zero points."""
    df, meta, _ = survey_catalog
    ratio = np.log(df["e_bv_sfd"] / df["sim_ebv_true"])
    assert 0.08 < ratio.std() < 0.25, ratio.std()
    geo = geometry_from_description(meta["synthetic"])
    zp = np.array(
        [
            geo.conditions(int(r), int(c), int(f), "u").zero_point_mag
            for r, c, f in df[["run", "camcol", "field"]].drop_duplicates().to_numpy()
        ]
    )
    assert 0.008 < zp.std() < 0.04, zp.std()


def test_great_circle_round_trip():
    rng = np.random.default_rng(2)
    mu, nu = rng.uniform(100, 450, 1000), rng.uniform(-1.5, 1.5, 1000)
    for incl in (0.0, 5.0, 50.0):
        ra, dec = gc_to_radec(mu, nu, incl)
        mu2, nu2 = radec_to_gc(ra, dec, incl)
        np.testing.assert_allclose((mu2 - mu + 180) % 360 - 180, 0, atol=1e-9)
        np.testing.assert_allclose(nu2, nu, atol=1e-9)
    # On the equator (Stripe 82) mu is RA and nu is Dec.
    ra, dec = gc_to_radec(np.array([330.0]), np.array([0.5]), 0.0)
    assert ra[0] == pytest.approx(330.0) and dec[0] == pytest.approx(0.5)


def _inside(region, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    mu, nu = radec_to_gc(ra, dec, region.incl)
    mu = region.mu_min + (mu - region.mu_min) % 360.0
    return (mu <= region.mu_max) & (nu >= region.nu_min) & (nu <= region.nu_max)


@pytest.mark.parametrize(("area_deg2", "deep_fraction"), [(516_525 / 69.0, 0.038), (8_000.0, 0.03)])
def test_survey_scale_footprint_is_covered_once_and_never_wraps(area_deg2, deep_fraction):
    """P19's 516,525 galaxies at the real MGS density (~7,500 deg^2, 3.8% in Stripe 82)
    and 8,000 deg^2: every region is at most 120 deg long (a
    region once wrapped 4.4 times round its great circle, piling the galaxies up at
    4.4x the density), no two regions overlap, every position is on a first-epoch
    frame, and the deep region is exactly what the evaluation calls Stripe 82."""
    geo = build_geometry(7, area_deg2, deep_fraction, 3)
    assert sum(r.area_deg2 for r in geo.regions) == pytest.approx(area_deg2, rel=0.02)
    rng = np.random.default_rng(5)
    for region in geo.regions:
        assert region.mu_max - region.mu_min <= 120.0 + 1e-9
        mu = rng.uniform(region.mu_min, region.mu_max, 20_000)
        s_lo, s_hi = np.sin(np.radians([region.nu_min, region.nu_max]))
        nu = np.degrees(np.arcsin(rng.uniform(s_lo, s_hi, mu.size)))
        ra, dec = gc_to_radec(mu, nu, region.incl)
        for other in geo.regions:
            if other is not region:
                assert not _inside(other, ra, dec).any(), (region.name, other.name)
        nearest = np.min([geo.locate(run, mu, nu)[2] for run in geo.runs_of(region.name, 0)], axis=0)
        assert np.all(nearest <= 0.5 * geo.frame_width_deg), region.name
        assert np.all(in_stripe82(ra, dec) == region.deep), region.name


@pytest.mark.parametrize(
    ("area_deg2", "deep_fraction", "key"), [(11_000.0, 0.02, "n_galaxies"), (7_500.0, 0.05, "deep_fraction")]
)
def test_a_sky_larger_than_the_layout_holds_is_refused(area_deg2, deep_fraction, key):
    with pytest.raises(ValueError, match=f"synthetic.{key}"):
        build_geometry(7, area_deg2, deep_fraction, 3)
