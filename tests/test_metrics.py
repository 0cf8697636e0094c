"""Metric functions against hand-computed values (docs/stages.md, stages 10-11)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from photoz.metrics import diagnostics as dg
from photoz.metrics.pdf import bin_midpoints, crps, pdf_mean, pdf_width68, pit, point_estimate
from photoz.metrics.point import bias, outlier_fraction, residual, sigma_mad

Z_MAX, N_BINS = 0.4, 180
WIDTH = Z_MAX / N_BINS


def test_point_metrics_by_hand():
    z_spec = np.zeros(5)
    z_phot = np.array([0.01, 0.02, 0.03, 0.04, 0.10])
    # dz = z_phot; median 0.03; |dz - 0.03| = .02 .01 0 .01 .07 -> median 0.01
    assert sigma_mad(z_phot, z_spec) == pytest.approx(1.4826 * 0.01)
    assert bias(z_phot, z_spec) == pytest.approx(0.04)
    assert outlier_fraction(z_phot, z_spec) == pytest.approx(0.2)
    # (1 + z_spec) in the denominator
    np.testing.assert_allclose(residual([0.33], [0.1]), [0.23 / 1.1])


def test_sigma_mad_is_the_p19_formula_on_a_known_array():
    rng = np.random.default_rng(3)
    z_spec = rng.uniform(0.02, 0.3, 1001)
    z_phot = z_spec + rng.normal(0.004, 0.02, 1001) * (1 + z_spec)
    dz = (z_phot - z_spec) / (1 + z_spec)
    expected = 1.4826 * np.median(np.abs(dz - np.median(dz)))
    assert sigma_mad(z_phot, z_spec) == pytest.approx(expected, rel=1e-12)
    # The median is subtracted (P19 footnote 5): a constant offset does not change it.
    assert sigma_mad(z_phot + 0.05 * (1 + z_spec), z_spec) == pytest.approx(expected, rel=1e-9)
    assert sigma_mad(z_phot, z_spec) == pytest.approx(0.02, rel=0.1)


def test_crps_of_a_one_hot_pdf_is_the_distance_to_the_bin_centre():
    pdf = np.zeros((3, N_BINS))
    pdf[:, 50] = 1.0
    centre = bin_midpoints(N_BINS, z_max=Z_MAX)[50]
    z_spec = np.array([0.1003, centre, 0.2])
    np.testing.assert_allclose(crps(pdf, z_spec, z_max=Z_MAX), np.abs(centre - z_spec), atol=1e-12)


def test_pit_mean_and_width_of_a_uniform_pdf():
    pdf = np.full((4, N_BINS), 1.0 / N_BINS)
    z_spec = np.array([0.0, 0.1, 0.2333, 0.4])
    np.testing.assert_allclose(pit(pdf, z_spec, z_max=Z_MAX), z_spec / Z_MAX, atol=1e-12)
    np.testing.assert_allclose(pdf_mean(pdf, z_max=Z_MAX), 0.2)
    np.testing.assert_allclose(pdf_width68(pdf, z_max=Z_MAX), 0.68 * Z_MAX, atol=1e-12)
    # and the CRPS of a uniform PDF on [0, 0.4] at z = 0.2: 2 * int_0^0.2 (z/0.4)^2 dz
    # = 0.4/12 - midpoint discretisation (the mass sits at bin centres): within a bin width
    # The integral of (CDF - step)^2 of the 180 equal masses at the bin midpoints, by
    # brute force on a 0.1 nano-z grid (the continuous uniform's 0.4 / 12 differs by 2e-6).
    grid = np.linspace(-0.1, 0.5, 6_000_001)
    steps = np.searchsorted(bin_midpoints(N_BINS, z_max=Z_MAX), grid, side="right") / N_BINS
    exact = np.trapezoid((steps - (grid >= 0.2)) ** 2, grid)
    assert crps(pdf, [0.2], z_max=Z_MAX)[0] == pytest.approx(exact, rel=1e-7)


def test_point_estimates_mean_and_mode():
    # a bimodal PDF: 0.6 in bin 20, 0.4 in bin 150; the mean lies between, the mode on the peak
    pdf = np.zeros((1, N_BINS))
    pdf[0, 20], pdf[0, 150] = 0.6, 0.4
    mid = bin_midpoints(N_BINS, z_max=Z_MAX)
    assert point_estimate(pdf, "mean", z_max=Z_MAX)[0] == pytest.approx(0.6 * mid[20] + 0.4 * mid[150])
    assert point_estimate(pdf, "mode", z_max=Z_MAX)[0] == pytest.approx(mid[20])
    # on the extended range [-0.2, 0.6) of L22 step 3
    assert point_estimate(pdf, "mode", z_min=-0.2, z_max=0.6)[0] == pytest.approx(-0.2 + 20.5 * 0.8 / N_BINS)
    with pytest.raises(ValueError, match="median"):
        point_estimate(pdf, "median", z_max=Z_MAX)


def test_pit_histogram_and_ks():
    n = 1000
    values = (np.arange(n) + 0.5) / n
    np.testing.assert_allclose(dg.pit_histogram(values, 20), np.ones(20))
    assert dg.pit_ks(values) == pytest.approx(0.5 / n)
    assert dg.pit_ks(np.full(10, 0.5)) == pytest.approx(0.5)
    under = dg.pit_histogram(np.r_[np.zeros(50), np.ones(50)], 10)  # U shape
    assert under[0] == under[-1] == pytest.approx(5.0) and under[1:-1].sum() == 0


def test_binned_residuals_by_hand():
    # Three galaxies in (0.10, 0.11), one in (0.20, 0.21).
    z_spec = np.array([0.101, 0.105, 0.109, 0.205])
    z_phot = z_spec + np.array([0.011, -0.0005, 0.00, 0.02])
    v = np.array([1e-4, 4e-4, 1e-6, 1e-4])  # the last but one is clipped at 1e-5
    table = dg.binned_residuals_zspec(z_phot, z_spec, v)
    row = table.iloc[10]
    assert row["z"] == pytest.approx(0.105) and row["n"] == 3
    dz = (z_phot - z_spec) / (1 + z_spec)
    w = (1 + z_spec[:3]) ** 2 / np.array([1e-4, 4e-4, 1e-5])
    assert row["mean_residual"] == pytest.approx(np.sum(w * dz[:3]) / w.sum())
    assert row["error"] == pytest.approx(np.sqrt(1 / w.sum()))
    assert table["n"].sum() == 4 and table.iloc[20]["n"] == 1 and np.isnan(table.iloc[0]["mean_residual"])

    by_phot = dg.binned_residuals_zphot(z_phot, z_spec)
    row = by_phot.iloc[10]  # z_phot in (0.10, 0.11): 0.1045 and 0.109 (0.112 is in the next)
    assert row["n"] == 2
    assert row["mean_residual"] == pytest.approx(dz[1:3].mean())
    assert row["error"] == pytest.approx(dz[1:3].std() / np.sqrt(1))


def test_residual_slope_recovers_a_line():
    z = np.arange(40) * 0.01 + 0.005
    binned = pd.DataFrame({"z": z, "n": 10, "mean_residual": 0.1 * z - 0.02, "error": 0.001})
    slope, err = dg.residual_slope(binned)
    assert slope == pytest.approx(0.1) and 0 < err < 0.01
    binned.loc[binned["z"] < 0.15, "mean_residual"] = 5.0  # only z > 0.15 counts
    assert dg.residual_slope(binned)[0] == pytest.approx(0.1)


def test_tv_distance_extremes_and_reference():
    z = np.random.default_rng(0).uniform(0.01, 0.39, 2000)
    assert dg.tv_distance(z, z, n_boot=20) == (0.0, 0.0)
    tv, err = dg.tv_distance(np.full_like(z, 0.001), np.full_like(z, 0.3), n_boot=20)
    assert tv == pytest.approx(1.0) and err == 0.0
    # Half the galaxies moved to another bin: TV = 1/2.
    a = np.r_[np.full(500, 0.101), np.full(500, 0.201)]
    tv, err = dg.tv_distance(np.full(1000, 0.101), a, n_boot=50)
    assert tv == pytest.approx(0.5, abs=0.05) and err < 0.05
    # Mode collapse: z_phot piles up on every fourth histogram bin; the no-collapse
    # reference (the same binned bias and scatter, no piling up) is far closer to n(z_spec).
    collapsed = (np.floor(z / (4 * WIDTH)) + 0.5) * 4 * WIDTH
    tv, _ = dg.tv_distance(collapsed, z)
    ref, _ = dg.tv_reference(collapsed, z)
    assert tv > 0.7 and ref < 0.5 * tv
    # Honest Gaussian scatter: the TV is what the reference expects.
    noisy = z + np.random.default_rng(1).normal(0, 0.01, len(z)) * (1 + z)
    tv, err = dg.tv_distance(noisy, z)
    ref, ref_err = dg.tv_reference(noisy, z)
    assert abs(tv - ref) < 3 * np.hypot(err, ref_err)


def test_tv_distance_counts_photo_z_beyond_the_grid():
    """Step 3's z_phot can leave [0, z_max]: that mass is a difference between the two
    distributions, not dropped (it was: both histograms were renormalised inside)."""
    z = np.random.default_rng(2).uniform(0.02, 0.38, 4000)
    beyond = z.copy()
    beyond[:400] = -0.05  # 10% below the grid
    tv, _ = dg.tv_distance(beyond, z, n_boot=10)
    assert tv == pytest.approx(0.10, abs=0.01)
    pdf = np.zeros((4, 360))
    pdf[:, 80] = 1.0  # a bin centre below 0 on [-0.2, 0.6)
    pdf[2:, 200] = 3.0  # half the galaxies put 3/4 of it inside
    assert dg.pdf_mass_outside(pdf, -0.2, 0.6, 0.4) == pytest.approx((1 + 1 + 0.25 + 0.25) / 4)


def test_sigma_mad_in_bins_and_variances():
    rng = np.random.default_rng(1)
    r = rng.uniform(14, 17.7, 3000)
    z_spec = rng.uniform(0.02, 0.3, 3000)
    z_phot = z_spec + rng.normal(0, 1, 3000) * (r - 13) * 0.004 * (1 + z_spec)
    table = dg.sigma_mad_in_bins(r, dg.R_MAG_EDGES, z_phot, z_spec, n_boot=30)
    assert len(table) == 11 and table["n"].sum() == 3000
    inside = (r > 16.5) & (r <= 17.0)
    row = table[table["lo"] == 16.5].iloc[0]
    assert row["n"] == inside.sum()
    assert row["sigma_mad"] == pytest.approx(sigma_mad(z_phot[inside], z_spec[inside]))
    assert 0 < row["error"] < 0.2 * row["sigma_mad"] and 16.5 < row["median"] <= 17.0
    assert table["sigma_mad"].iloc[4:].is_monotonic_increasing  # error grows with r
    # A constant squared residual in every window is returned as the variance.
    v = dg.residual_variances(z_spec + 0.01, z_spec, r)
    np.testing.assert_allclose(v, 1e-4, rtol=1e-9)


def test_mean_redshift_offsets_find_an_injected_offset():
    rng = np.random.default_rng(2)
    z_spec = rng.uniform(0.0, 0.4, 20000)
    edges = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    for shift, meets in ((0.003, False), (0.001, True)):
        z_phot = z_spec + shift
        table = dg.mean_redshift_offsets(z_phot, z_spec, edges)
        inner = table.iloc[1:3]  # edge bins lose galaxies shifted across 0 or 0.4
        np.testing.assert_allclose(inner["delta_mean_z"], shift / (1 + inner["mean_z_spec"]), rtol=1e-9)
        assert (inner["meets"] == meets).all()
        assert (inner["error"] < 1e-9).all()  # z_phot - z_spec is constant
