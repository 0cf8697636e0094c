"""The synthetic sky against real SDSS galaxies: the acceptance numbers of its calibration.

The real side is the validation half (RA >= 180 deg) of the SDSS spectroscopic
galaxies that the ``kcorrect`` package ships; the sky is calibrated on the other half
only. Both sides are compared at the same (r, z) distribution: the kcorrect galaxies
are 2MASS-matched and lack the faint low-redshift galaxies of the MGS (see
``realism.match_distribution``). Criteria the sky does not meet yet are strict xfails
with the measured value, so that meeting one fails loudly and gets promoted.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml
from conftest import REPO

from photoz import realism
from photoz.config import load_config
from photoz.synthetic.calibration import (
    CALIBRATION_RA_MAX,
    CalibrationError,
    fit_population,
    read_real_galaxies,
    resolve_calibration_file,
)

SEED = 20190101  # benchmarks/bench_realism.py prints these numbers for the default config
SYNTHETIC_SIZE = 15000  # ~3x the real half, so that every (r, z) cell finds partners


@pytest.fixture(scope="module")
def calibration_path():
    try:
        return resolve_calibration_file(None)
    except CalibrationError as exc:
        pytest.skip(f"the real SDSS galaxies shipped with kcorrect are absent: {exc}")


@pytest.fixture(scope="module")
def real_galaxies(calibration_path):
    return read_real_galaxies(calibration_path)


@pytest.fixture(scope="module")
def synthetic_catalog(calibration_path):
    return realism.synthetic_sample(load_config(REPO / "config.yaml")["synthetic"], SYNTHETIC_SIZE, SEED)


@pytest.fixture(scope="module")
def matched(real_galaxies, synthetic_catalog) -> realism.Comparison:
    return realism.compare(realism.real_catalog(real_galaxies), synthetic_catalog, match="rz")


@pytest.fixture(scope="module")
def as_drawn(real_galaxies, synthetic_catalog) -> realism.Comparison:
    return realism.compare(realism.real_catalog(real_galaxies), synthetic_catalog, match=None)


def test_samples_are_equal_and_large(matched):
    assert matched.n > 4000
    assert (matched.r_hist[1] == matched.r_hist[2]).all()


def test_knn_photometry_is_as_hard_as_sdss(matched):
    real, syn = matched.stats["knn_sigma_mad"]
    assert abs(syn / real - 1.0) <= 0.10, (real, syn)
    real, syn = matched.stats["knn_outlier_fraction"]
    assert 1 / 1.3 <= syn / real <= 1.3, (real, syn)


def test_red_sequence_width(matched):
    assert 0.035 <= matched.stats["red_sequence_gr_width"][1] <= 0.050


def test_high_redshift_tail(matched):
    real, syn = matched.stats["fraction_z_gt_025"]
    assert 1 / 1.5 <= syn / real <= 1.5, (real, syn)


@pytest.mark.parametrize("colour", realism.COLOURS)
def test_colour_medians_per_redshift_bin(matched, colour):
    offsets = matched.colour_offsets()
    assert (offsets[f"d_median_{colour}"].abs() <= 0.03).all(), offsets[["z_lo", f"d_median_{colour}"]]


@pytest.mark.parametrize("colour", realism.COLOURS)
def test_colour_widths_per_redshift_bin(matched, colour):
    ratio = matched.colour_offsets()[f"width_ratio_{colour}"]
    assert ((ratio >= 0.75) & (ratio <= 1.25)).all(), ratio.to_list()


def test_classifier_two_sample_auc(matched):
    assert matched.auc <= 0.65


@pytest.mark.xfail(
    strict=True,
    reason="as drawn, the synthetic MGS holds the faint low-z galaxies the 2MASS-matched kcorrect "
    "file lacks: AUC 0.73, kNN sigma_MAD 1.19x",
)
def test_as_drawn_comparison(as_drawn):
    real, syn = as_drawn.stats["knn_sigma_mad"]
    assert as_drawn.auc <= 0.65 and abs(syn / real - 1.0) <= 0.10


def test_calibration_never_reads_the_validation_half(real_galaxies):
    before = fit_population(real_galaxies)
    scrambled = {k: v.copy() for k, v in real_galaxies.items()}
    validation = scrambled["RA"] >= CALIBRATION_RA_MAX
    for column in ("PETROFLUX", "MODELFLUX", "Z"):
        scrambled[column][validation] = scrambled[column][validation][::-1] * 1.3
    after = fit_population(scrambled)
    np.testing.assert_array_equal(before.coeffs, after.coeffs)
    np.testing.assert_array_equal(before.correction_mag, after.correction_mag)
    np.testing.assert_array_equal(before.extra_scatter_mag, after.extra_scatter_mag)
    # ... while the calibration half does matter (the check above can fail).
    scrambled["PETROFLUX"][~validation] *= 1.3
    assert not np.array_equal(fit_population(scrambled).correction_mag, before.correction_mag)


def test_neighbours_at_the_real_mgs_rate(synthetic_catalog):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_realism import cutout_sharing_fraction

    # Real MGS: ~69 targets per deg^2, so ~0.0034 of 64x64 cutouts hold another one.
    assert cutout_sharing_fraction(synthetic_catalog) <= 0.006


def test_both_samples_share_cutouts_at_the_real_rate_on_a_small_sky(tmp_path):
    """The galaxies without spectra avoid the spectroscopic sample's like one population,
    also on a sky too small for a full draw batch (240 galaxies; every batch draws at
    least 4,000 candidates). Measured: 9.6% of the spectroscopic galaxies shared a
    cutout with a galaxy without spectra when the cut-away candidates of a batch counted
    as placed neighbours, 0.4% now."""
    import pandas as pd

    from photoz.catalog.query import query_catalog

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_realism import cutout_sharing_fraction

    cfg = load_config(REPO / "config.yaml")
    cfg["synthetic"].update(
        n_galaxies=240, n_without_spectra=60, reference_size=600, seed=5, frame_width=512, frame_height=372
    )
    out = {name: tmp_path / f"{name}.parquet" for name in ("catalog", "rejected", "without")}
    query_catalog(cfg, out["catalog"], out["rejected"], out["without"])
    catalog, without = pd.read_parquet(out["catalog"]), pd.read_parquet(out["without"])
    both = pd.concat([catalog, without], ignore_index=True)
    assert len(without) == 60
    assert cutout_sharing_fraction(both) <= 0.02


def _query(tmp_path, calibration_file) -> subprocess.CompletedProcess:
    cfg = tmp_path / "config.yaml"
    synthetic = {"n_galaxies": 50, "calibration_file": str(calibration_file)}
    cfg.write_text(yaml.safe_dump({"synthetic": synthetic}))
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "workflow/scripts/query_catalog.py"),
            "--configfile",
            str(cfg),
            "--catalog",
            str(tmp_path / "catalog.parquet"),
            "--rejected",
            str(tmp_path / "rejected.parquet"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_calibration_file_is_one_clear_line(tmp_path):
    missing = tmp_path / "nowhere.fits"
    result = _query(tmp_path, missing)
    assert result.returncode != 0
    assert "synthetic.calibration_file" in result.stderr and str(missing) in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "catalog.parquet").exists()


def test_calibration_file_without_a_column_names_it(tmp_path, calibration_path):
    from astropy.table import Table

    table = Table.read(calibration_path)
    table.remove_column("MODELFLUX_IVAR")
    bad = tmp_path / "no_ivar.fits"
    table.write(bad)
    result = _query(tmp_path, bad)
    assert result.returncode != 0
    assert "MODELFLUX_IVAR" in result.stderr and str(bad) in result.stderr
    assert "Traceback" not in result.stderr
