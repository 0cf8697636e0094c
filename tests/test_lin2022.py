"""L22 steps 1-4 (docs/methods.md): channels, balanced subset, step 3 labels, step 4
calibration, the step 1 loss and the head training on a small dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from photoz.lin2022.calibration import calibrate_photoz, calibration_offsets, round_half_up, shift_pdfs
from photoz.lin2022.labels import (
    LabelModel,
    blur,
    extended_range,
    fit_label_model,
    fit_sigma,
    head_targets,
    label_row,
    scatter_profile,
    shifted_centre,
    step3_labels,
)
from photoz.lin2022.subset import balanced_subset, scaled_threshold
from photoz.metrics.pdf import bin_midpoints, pdf_mean, redshift_to_bin
from photoz.models.channels import channel_map, magnitude_targets, r_bins


def test_channels_interlace_the_eleven_r_bins():
    mapping = channel_map()
    assert [list(np.flatnonzero(mapping[:, m])) for m in range(6)] == [
        [0, 1],
        [1, 2, 3],
        [3, 4, 5],
        [5, 6, 7],
        [7, 8, 9],
        [9, 10],
    ]
    assert list(r_bins(np.array([12.0, 12.6, 13.2, 17.49, 17.8, np.nan, -1.0]))) == [0, 0, 1, 9, 10, 10, 10]
    targets = magnitude_targets(np.array([0, 1, 10]))
    np.testing.assert_allclose(targets[0], [1, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(targets[1], [0.5, 0.5, 0, 0, 0, 0])
    np.testing.assert_allclose(targets[2], [0, 0, 0, 0, 0, 1])


def _survey(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    z = np.clip(rng.gamma(6, 0.018, n), 0.001, 0.399)
    rbin = np.clip(rng.normal(8.5, 1.5, n).astype(int), 0, 10)
    return np.arange(10_000, 10_000 + n, dtype=np.int64) * 7, z, rbin


def test_balanced_subset_caps_cells_and_is_deterministic():
    objid, z, rbin = _survey()
    cell = redshift_to_bin(z, 180, z_max=0.4) * 11 + rbin
    counts = pd.Series(cell).value_counts()
    cap = 3
    rows = balanced_subset(objid, z, rbin, cap, member=0, seed=11)
    chosen = pd.Series(cell[rows]).value_counts()
    assert (chosen <= cap).all()
    # every cell gives min(count, cap): small cells entirely, full ones exactly the cap
    np.testing.assert_array_equal(chosen.sort_index(), np.minimum(counts, cap).sort_index())
    assert len(np.unique(rows)) == len(rows)
    # deterministic, and independent of the input order
    np.testing.assert_array_equal(rows, balanced_subset(objid, z, rbin, cap, 0, 11))
    order = np.random.default_rng(1).permutation(len(objid))
    shuffled = balanced_subset(objid[order], z[order], rbin[order], cap, 0, 11)
    assert set(objid[order][shuffled]) == set(objid[rows])
    # members take different slices of the over-full cells, the same small cells
    other = balanced_subset(objid, z, rbin, cap, member=1, seed=11)
    assert set(objid[other]) != set(objid[rows])
    small = counts.index[counts <= cap]
    assert set(objid[rows][np.isin(cell[rows], small)]) == set(objid[other][np.isin(cell[other], small)])
    assert scaled_threshold(200, 393_219) == 200 and scaled_threshold(200, 912) == 1
    assert scaled_threshold(200, 98_305) == 50


def test_soft_label_integrates_to_one_and_shift_moves_away_from_the_denser_side():
    n = 360
    row = label_row(200.3, 4.0, n, soft=True)
    assert row.sum() == pytest.approx(1.0)
    assert (np.arange(n) * row).sum() == pytest.approx(200.3, abs=1e-6)
    # density rising to the right: the centre of mass lies right of z_index, so the label
    # moves left by the same amount
    density = np.linspace(0.0, 2.0, n)
    z_index, scatter = 150, 6.0
    k = np.arange(n)
    g = np.exp(-0.5 * ((k - z_index) / scatter) ** 2) * density
    centre_of_mass = (k * g).sum() / g.sum()
    assert centre_of_mass > z_index
    shifted = shifted_centre(z_index, scatter, density)
    assert shifted == pytest.approx(2 * z_index - centre_of_mass)
    assert z_index - shifted == pytest.approx(centre_of_mass - z_index)
    # a flat density or a one-hot (scatter < 0.1) does not move the label
    assert shifted_centre(z_index, scatter, np.ones(n)) == pytest.approx(z_index)
    assert shifted_centre(z_index, 0.05, density) == z_index


def _histogram(z: np.ndarray) -> np.ndarray:
    h = np.histogram(np.clip(z, 0, 0.3999), bins=180, range=(0, 0.4))[0].astype(float)
    return h / h.sum()


@pytest.mark.parametrize("n", [1000, 3000])
def test_sigma_fit_recovers_a_known_gaussian_blur(n):
    """On the label model itself (spec = blur(phot, sigma)) with phot a histogram of n
    galaxies, survey10k's channel sizes: within 10% (measured within 3%)."""
    phot = _histogram(np.random.default_rng(3).gamma(6, 0.018, n))
    for sigma in (2.0, 4.5, 9.0):
        assert fit_sigma(blur(phot, sigma), phot, n) == pytest.approx(sigma, rel=0.10)


def test_sigma_fit_is_unbiased_on_sampled_blurs():
    """z_spec = z_phot + N(0, sigma bins) for 3,000 galaxies: each fit scatters by
    ~20% (the samples' noise), their mean over 8 draws is within 10% (measured 5%)."""
    for sigma in (2.0, 4.5, 9.0):
        fits = []
        for seed in range(8):
            rng = np.random.default_rng(100 + seed)
            z_phot = rng.gamma(6, 0.018, 3000)
            z_spec = z_phot + rng.normal(0, sigma * 0.4 / 180, 3000)
            fits.append(fit_sigma(_histogram(z_spec), _histogram(z_phot), 3000))
        assert np.mean(fits) == pytest.approx(sigma, rel=0.10)


def test_sigma_fit_is_zero_without_collapse():
    """z_phot = z_spec + N(0, 0.01): the photometric n(z) is not narrower, so no label
    width (<= 1 bin). L22's plain cross-entropy fit returned 1.8-3.8 bins here (the
    histograms' sampling noise paid for width); pre-smoothed, 0."""
    for seed, n in ((0, 1000), (1, 1000), (2, 3000)):
        rng = np.random.default_rng(seed)
        z_spec = rng.gamma(6, 0.018, n)
        z_phot = z_spec + rng.normal(0, 0.01, n)
        assert fit_sigma(_histogram(z_spec), _histogram(z_phot), n) <= 1.0


def test_channels_with_too_few_galaxies_keep_one_hot_labels():
    """Below MIN_CHANNEL_GALAXIES a channel's width is not fitted (0, profile NaN); the
    fitted channels' objective profiles are recorded for labels.json."""
    from photoz.lin2022.labels import MIN_CHANNEL_GALAXIES, SIGMA_GRID

    _, z, rbin = _survey(3000, seed=2)
    rng = np.random.default_rng(5)
    zphot = np.clip(z + rng.normal(0, 0.01, len(z)), 0, 0.399)
    model = fit_label_model(z, zphot, rbin, 180, 0.4)
    few = model.channel_galaxies < MIN_CHANNEL_GALAXIES
    assert few.any() and (~few).any(), model.channel_galaxies
    assert (model.sigma[few] == 0).all() and np.isnan(model.profile[few]).all()
    assert np.isfinite(model.profile[~few]).all() and model.profile.shape[1] == len(SIGMA_GRID)
    document = model.to_dict()
    assert len(document["sigma_profile"]) == len(model.sigma) and document["min_channel_galaxies"] == 100


def test_scatter_profile_and_step3_labels():
    # constant 2-bin scatter inside bins 50-80: S = 4 there, sigma outside
    zs = np.repeat(np.arange(50, 81), 10)
    profile = scatter_profile(zs, np.tile([2.0, -2.0], len(zs) // 2), 180, sigma=1.5)
    np.testing.assert_allclose(profile[60:71], np.sqrt(4 + 1.5**2), rtol=1e-6)  # ends: renormalised kernel
    np.testing.assert_allclose(profile[:40], 1.5)
    # labels on the extended grid: soft labels sum to 1, one per channel of the galaxy
    n_ext, z_lo, z_hi = extended_range(180, 0.4)
    assert (n_ext, z_lo, z_hi) == (360, pytest.approx(-0.2), pytest.approx(0.6))
    objid, z, rbin = _survey(3000, seed=2)
    rng = np.random.default_rng(4)
    zphot = np.clip(z + rng.normal(0, 0.01, len(z)), 0, 0.399)
    model = fit_label_model(z, zphot, rbin, 180, 0.4)
    # z_phot = z + N(0, 0.01) does not collapse: no fitted channel gets a label width
    assert isinstance(model, LabelModel) and (model.sigma <= 1.0).all()
    labels, channels = step3_labels(z, rbin, model, 0.4)
    assert labels.shape == (len(z), 2, 360)
    used = channels >= 0
    np.testing.assert_allclose(labels[used].sum(axis=1), 1.0, rtol=1e-5)
    assert ((channels[:, 1] >= 0) == (rbin % 2 == 1)).all()  # odd r bins: two channels
    hard, _ = step3_labels(z, rbin, model, 0.4, shift=False, soft=False)
    assert (hard[used].max(axis=1) == 1).all()
    np.testing.assert_array_equal(hard[:, 0].argmax(axis=1), redshift_to_bin(z, 180, z_max=0.4) + 90)
    targets = head_targets(labels[:5], channels[:5])
    np.testing.assert_allclose(targets.sum(axis=2), 1.0, rtol=1e-5)
    assert np.allclose(targets[0, [m for m in range(6) if m not in channels[0]]], 1 / 360)


def test_calibration_recovers_injected_offsets_per_cell():
    rng = np.random.default_rng(7)
    n = 40_000
    r = rng.uniform(14.0, 17.8, n)
    z_spec = rng.uniform(0.02, 0.3, n)
    z_edges = np.linspace(0, 0.4, 41)
    # an offset that depends on the (r row, z_phot bin) cell: +0.01 bright, -0.006 faint
    offset = np.where(r > 16.5, -0.006, 0.01)
    z_phot = z_spec + offset + rng.normal(0, 0.001, n)
    fold = np.arange(n) % 5
    table = pd.DataFrame(
        {"objid": np.arange(n, dtype=np.uint64), "fold": fold, "z_spec": z_spec, "z_phot": z_phot}
    )
    inner = (z_phot > 0.04) & (z_phot < 0.28)  # away from the range ends
    for resample in (False, True):  # direct cell means, and after L22's resampling
        found = calibrate_photoz(table, pd.Series(r, index=table["objid"]), 0, z_edges, resample)
        np.testing.assert_allclose(found[inner], offset[inner], atol=0.0015)
        corrected = z_phot - found
        for bright in (True, False):
            sel = inner & ((r <= 16.5) == bright)
            assert abs(np.mean(corrected[sel] - z_spec[sel])) < 2e-4
    # without resampling the offset of a cell is exactly the calibration galaxies' mean
    target = fold == 0
    cell = (z_phot > 0.1) & (z_phot <= 0.11) & (r > 16.5) & (r <= 17.0)
    direct = calibrate_photoz(table, pd.Series(r, index=table["objid"]), 0, z_edges, resample=False)
    expected = np.mean(z_phot[cell & ~target] - z_spec[cell & ~target])
    np.testing.assert_allclose(direct[cell & target], expected, rtol=1e-12)
    resampled = calibrate_photoz(table, pd.Series(r, index=table["objid"]), 0, z_edges, resample=True)
    assert not np.allclose(resampled[cell & target], expected, rtol=1e-12, atol=0)
    # the target's own distribution drives the resampling: round half up as L22
    np.testing.assert_array_equal(round_half_up(np.array([0.49, 0.5, 1.5, 2.2])), [0, 1, 2, 2])
    assert (
        calibration_offsets(z_phot[:10], r[:10], z_spec[:0], z_phot[:0], r[:0], 0, z_edges).tolist()
        == [0.0] * 10
    )


def test_shift_pdfs_moves_the_mean_exactly():
    rng = np.random.default_rng(0)
    pdf = np.zeros((3, 360))
    pdf[:, 150:200] = rng.uniform(size=(3, 50))
    pdf /= pdf.sum(axis=1, keepdims=True)
    delta = np.array([0.0123, -0.0301, 0.0])
    moved = shift_pdfs(pdf, delta, -0.2, 0.6)
    np.testing.assert_allclose(moved.sum(axis=1), 1.0)
    np.testing.assert_allclose(
        pdf_mean(moved, z_min=-0.2, z_max=0.6) - pdf_mean(pdf, z_min=-0.2, z_max=0.6), delta, atol=1e-12
    )
    assert bin_midpoints(360, z_min=-0.2, z_max=0.6)[0] == pytest.approx(-0.2 + 0.4 / 360)


@pytest.mark.parametrize("resample", [False, True])
def test_calibrate_stage_applies_the_configured_calibration(tmp_path, resample):
    """workflow/scripts/calibrate.py on a step 3-like table (mode estimates on the extended
    range): z_phot moves by the cell offsets; lin2022.calibration_resample is honoured."""
    import json
    import subprocess
    import sys

    import yaml
    from conftest import REPO

    from photoz.models.ensemble import summarise
    from photoz.tables import read_photoz, read_table_metadata, write_photoz, write_table

    rng = np.random.default_rng(3)
    n = 5000
    objid = np.arange(1, n + 1, dtype=np.uint64)
    z_spec = rng.uniform(0.02, 0.3, n)
    r = rng.uniform(14.0, 17.8, n)
    pdf = np.zeros((n, 360))
    pdf[np.arange(n), redshift_to_bin(z_spec + 0.01, 360, z_min=-0.2, z_max=0.6)] = 1.0  # biased by +0.01
    table = summarise(objid, np.arange(n) % 5, z_spec, pdf, z_min=-0.2, z_max=0.6, estimator="mode")
    write_photoz(table, tmp_path / "step3.parquet", {"z_min": -0.2, "z_max": 0.6, "point_estimate": "mode"})
    write_table(pd.DataFrame({"objid": objid, "dered_petro_r": r}), tmp_path / "catalog.parquet")
    lin2022 = {
        **yaml.safe_load((REPO / "config.yaml").read_text())["lin2022"],
        "calibration_resample": resample,
    }
    script = REPO / "workflow/scripts/calibrate.py"
    result = subprocess.run(
        [sys.executable, str(script), "--configfile", str(REPO / "config.yaml")]
        + ["--params-json", json.dumps({"lin2022": lin2022})]
        + [
            "--photoz",
            str(tmp_path / "step3.parquet"),
            "--dataset-catalog",
            str(tmp_path / "catalog.parquet"),
        ]
        + ["--out", str(tmp_path / "step4.parquet")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    step4 = read_photoz(tmp_path / "step4.parquet")
    np.testing.assert_allclose(step4["z_phot"], table["z_phot"] - step4["calibration_offset"], atol=1e-12)
    inner = table["z_phot"].between(0.05, 0.28)
    assert abs(np.mean(step4["z_phot"][inner] - z_spec[inner])) < 1e-3  # the +0.01 is gone
    assert read_table_metadata(tmp_path / "step4.parquet")["resample"] is resample


def test_rule_method_lists_come_from_the_library_and_the_schema_matches():
    """common.smk's wildcard alternations are built from photoz.methods (no copy to
    drift), the lists split the methods by kind, and the schema's enum is the table."""
    import re

    import yaml
    from conftest import REPO

    from photoz.methods import CALIBRATION_METHODS, HEAD_METHODS, METHODS, NETWORK_METHODS

    rules = (REPO / "workflow/rules/common.smk").read_text()
    assert '"|".join(photoz_methods.NETWORK_METHODS)' in rules
    assert '"|".join(photoz_methods.HEAD_METHODS)' in rules
    assert not re.search(r'"(baseline|step\d\w*)\|', rules), "a hand-written method list in common.smk"
    assert NETWORK_METHODS == ("baseline", "step1")
    assert HEAD_METHODS == ("step2", "step3", "step3a", "step3b", "step3_unbalanced")
    assert CALIBRATION_METHODS == ("step4", "baseline_calibrated")
    assert '"|".join(photoz_methods.CALIBRATION_METHODS)' in rules
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    assert schema["properties"]["methods"]["items"]["enum"] == list(METHODS)


def test_head_training_length_in_epochs_of_the_subset():
    """lin2022.epochs sets the head training in passes over each member's subset: the
    iterations follow the subset's size (steps otherwise)."""
    from photoz.lin2022.heads import HeadParams

    by_steps = HeadParams.from_config(steps=800, batch_size=32)
    assert by_steps.epochs is None and by_steps.iterations(100_000) == 800
    by_epochs = HeadParams.from_config(epochs=0.5, batch_size=32)
    assert by_epochs.iterations(3200) == 50 and by_epochs.iterations(320_000) == 5000
    assert by_epochs.iterations(10) == 1


def test_label_shift_summary_is_minus_slope_times_scatter_squared():
    """On a density exp(a k) a Gaussian of scatter s has its centre of mass at +a s^2, so
    every label moves by -a s^2 bins (away from the denser side); the summary reports it
    per z_spec bin in redshift, with the pre-estimates' median residual beside it."""
    from photoz.lin2022.labels import label_shift_summary
    from photoz.models.channels import N_CHANNELS, N_RBINS

    n_bins, z_max, a, s = 180, 0.4, -0.02, 6.0
    k = np.arange(n_bins)
    density = np.exp(a * k)
    model = LabelModel(
        n_bins,
        np.zeros(N_CHANNELS),
        np.full((N_CHANNELS, n_bins), s),
        np.repeat((density / density.sum())[:, None], N_RBINS, axis=1),
    )
    rng = np.random.default_rng(0)
    z = rng.uniform(0.1, 0.3, 2000)
    rbin = rng.integers(0, N_RBINS, len(z))
    rows = label_shift_summary(z, z - 0.003, rbin, model, z_max)
    inner = [r for r in rows if 0.1 <= r["z_lo"] and r["z_hi"] <= 0.3]
    assert len(inner) == 4 and sum(r["n"] for r in inner) == len(z)
    for r in inner:
        assert r["mean_label_shift"] == pytest.approx(-a * s**2 * z_max / n_bins, rel=1e-3)
        assert r["median_pre_estimate_residual"] == pytest.approx(-0.003)
    assert all(r["n"] == 0 and r["mean_label_shift"] is None for r in rows if r["z_hi"] <= 0.1)
