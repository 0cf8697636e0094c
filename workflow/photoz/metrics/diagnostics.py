"""Diagnostics of photo-z biases (docs/stages.md, stages 10-11; L22 ``PZ-utils``).

Usable on any arrays of z_spec, z_phot (and PDFs, r magnitudes):

* :func:`pit_histogram`, :func:`pit_ks`: calibration of the PDFs;
* :func:`binned_residuals_zspec`: mean residual in 40 bins of 0.01 in z_spec, inverse-
  variance weighted with L22's pre-estimated per-galaxy variances
  (:func:`residual_variances`); :func:`binned_residuals_zphot`: plain means in z_phot
  bins with std/sqrt(n-1) errors; :func:`residual_slope`: the weighted linear fit of
  binned residuals above z = 0.15;
* :func:`tv_distance`: total variation between the z_phot and z_spec histograms (mode
  collapse) with a bootstrap error, and :func:`tv_reference`, the same for a simulated
  z_phot without mode collapse (L22's grey band; their bin-filter bug is not copied);
* :func:`sigma_mad_in_bins`: sigma_MAD in bins of r magnitude or SNR with bootstrap errors;
* :func:`mean_redshift_offsets`: delta<z> = (<z_phot> - <z_spec>) / (1 + <z_spec>) per
  tomographic z_phot bin against the 0.002 requirement (Euclid; L22 poster; CLAP I).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d
from scipy.stats import kstest

from .point import residual, sigma_mad

# L22 magnitude windows (0, 13.5], (13, 14.5], ..., (16, 17.5], (17, 100].
MAGNITUDE_WINDOWS = [(0.0, 13.5), (13.0, 14.5), (14.0, 15.5), (15.0, 16.5), (16.0, 17.5), (17.0, 100.0)]
# L22 get_sigmad rows: (0, 13], (13, 13.5], ..., (17, 17.5], (17.5, 100].
R_MAG_EDGES = np.array([0.0, 13.0, 13.5, 14.0, 14.5, 15.0, 15.5, 16.0, 16.5, 17.0, 17.5, 100.0])
TOMOGRAPHIC_REQUIREMENT = 0.002
#: Fewest galaxies in a tomographic bin for its offset to count against the requirement.
TOMOGRAPHIC_MIN_GALAXIES = 50


def pit_histogram(pit_values: np.ndarray, n_bins: int = 20) -> np.ndarray:
    """Density of the PIT values in ``n_bins`` equal bins on [0, 1] (1 = calibrated)."""
    counts, _ = np.histogram(np.clip(pit_values, 0.0, 1.0), bins=n_bins, range=(0.0, 1.0))
    return counts * n_bins / max(len(pit_values), 1)


def pit_ks(pit_values: np.ndarray) -> float:
    """Kolmogorov-Smirnov statistic of the PIT values against U(0, 1)."""
    if not len(pit_values):
        return float("nan")
    return float(kstest(pit_values, "uniform").statistic)


def residual_variances(
    z_phot: np.ndarray,
    z_spec: np.ndarray,
    r_mag: np.ndarray,
    n_bins: int = 180,
    z_max: float = 0.4,
    smoothing_z: float = 0.01,
) -> np.ndarray:
    """L22 ``get_variances``: a variance of (z_spec - z_phot) for each galaxy.

    In each magnitude window and each of ``n_bins`` z_spec bins, v = (median + mean) / 2
    of (z_spec - z_phot)^2; empty bins take the previous valid value; the profile is
    smoothed along z with a Gaussian of ``smoothing_z`` (L22 use each window's fitted
    label dispersion of step 3; a fixed width is used here so the baseline has one);
    a galaxy in two overlapping windows gets the average of both.
    """
    z_spec, r_mag = np.asarray(z_spec, np.float64), np.asarray(r_mag, np.float64)
    sq = (z_spec - np.asarray(z_phot, np.float64)) ** 2
    zbin = np.clip((z_spec / (z_max / n_bins)).astype(int), 0, n_bins - 1)
    total, count = np.zeros(len(z_spec)), np.zeros(len(z_spec))
    for lo, hi in MAGNITUDE_WINDOWS:
        inside = (r_mag > lo) & (r_mag <= hi)
        if not inside.any():
            continue
        profile = np.full(n_bins, np.nan)
        for k in np.unique(zbin[inside]):
            values = sq[inside & (zbin == k)]
            profile[k] = 0.5 * (np.median(values) + values.mean())
        valid = np.flatnonzero(~np.isnan(profile))
        # forward fill (bins before the first valid one take the first valid value)
        fill = np.maximum.accumulate(np.where(~np.isnan(profile), np.arange(n_bins), -1))
        profile = profile[np.where(fill < 0, valid[0], fill)]
        if smoothing_z > 0:
            profile = gaussian_filter1d(profile, smoothing_z / (z_max / n_bins), mode="nearest")
        total[inside] += profile[zbin[inside]]
        count[inside] += 1
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _bins(n_bins: int, z_max: float) -> np.ndarray:
    return np.linspace(0.0, z_max, n_bins + 1)


def _binned_means(x: np.ndarray, n_bins: int, z_max: float, statistic) -> pd.DataFrame:
    """Rows (bin centre, n, mean, error) over ``n_bins`` bins of x on (0, z_max), x strictly
    inside a bin; ``statistic(mask)`` gives (mean, error) of a non-empty bin."""
    edges = _bins(n_bins, z_max)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (x > lo) & (x < hi)
        n = int(inside.sum())
        mean, err = statistic(inside) if n else (np.nan, np.nan)
        rows.append((0.5 * (lo + hi), n, mean, err))
    return pd.DataFrame(rows, columns=["z", "n", "mean_residual", "error"])


def binned_residuals_zspec(
    z_phot: np.ndarray,
    z_spec: np.ndarray,
    variances: np.ndarray | None = None,
    n_bins: int = 40,
    z_max: float = 0.4,
) -> pd.DataFrame:
    """Mean residual per z_spec bin (strictly inside the bin), weighted by
    w = (1 + z_spec)^2 / max(v, 1e-5) with error sqrt(1 / sum w) (L22); without
    ``variances`` the plain mean with error std / sqrt(n)."""
    z_spec = np.asarray(z_spec, np.float64)
    dz = residual(z_phot, z_spec)

    def statistic(inside):
        if variances is None:
            n = int(inside.sum())
            return dz[inside].mean(), dz[inside].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        w = (1 + z_spec[inside]) ** 2 / np.maximum(np.asarray(variances)[inside], 1e-5)
        return np.sum(w * dz[inside]) / w.sum(), np.sqrt(1.0 / w.sum())

    return _binned_means(z_spec, n_bins, z_max, statistic)


def binned_residuals_zphot(
    z_phot: np.ndarray, z_spec: np.ndarray, n_bins: int = 40, z_max: float = 0.4
) -> pd.DataFrame:
    """Plain mean residual per z_phot bin, error std / sqrt(n - 1) (L22)."""
    z_phot = np.asarray(z_phot, np.float64)
    dz = residual(z_phot, z_spec)

    def statistic(inside):
        n = int(inside.sum())
        return dz[inside].mean(), dz[inside].std() / np.sqrt(n - 1) if n > 1 else np.nan

    return _binned_means(z_phot, n_bins, z_max, statistic)


def residual_slope(binned: pd.DataFrame, z_min: float = 0.15) -> tuple[float, float]:
    """(slope, its error) of the weighted linear fit a z + b of the binned residuals
    above ``z_min`` (bins with a finite error > 0; NaN when fewer than 3)."""
    use = binned[(binned["z"] > z_min) & np.isfinite(binned["error"]) & (binned["error"] > 0)]
    use = use[np.isfinite(use["mean_residual"])]
    if len(use) < 3:
        return float("nan"), float("nan")
    w = 1.0 / use["error"].to_numpy() ** 2
    x, y = use["z"].to_numpy(), use["mean_residual"].to_numpy()
    design = np.stack([x, np.ones_like(x)], axis=1)
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    coef = cov @ (design.T @ (w * y))
    return float(coef[0]), float(np.sqrt(cov[0, 0]))


def _tv(a: np.ndarray, b: np.ndarray, edges: np.ndarray) -> float:
    """1/2 sum |share_a - share_b| over the bins of ``edges`` and one more bin, outside
    them: a z_phot beyond the grid (step 3's extended range) counts, it is not dropped."""

    def shares(x: np.ndarray) -> np.ndarray:
        h, _ = np.histogram(x, edges)
        return np.r_[h, len(x) - h.sum()] / max(len(x), 1)

    return 0.5 * float(np.abs(shares(a) - shares(b)).sum())


def pdf_mass_outside(pdf: np.ndarray, z_lo: float, z_hi: float, z_max: float) -> float:
    """Mean probability of the PDFs (bins on [z_lo, z_hi)) outside [0, z_max]: the mass an
    extended-range method puts where no galaxy of the sample is."""
    pdf = np.asarray(pdf, np.float64)
    if not len(pdf):
        return float("nan")
    edges = np.linspace(z_lo, z_hi, pdf.shape[1] + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    outside = (centres < 0.0) | (centres > z_max)
    return float((pdf[:, outside].sum(axis=1) / pdf.sum(axis=1)).mean())


def tv_distance(
    z_phot: np.ndarray,
    z_spec: np.ndarray,
    n_bins: int = 180,
    z_max: float = 0.4,
    n_boot: int = 100,
    seed: int = 0,
) -> tuple[float, float]:
    """(mean, std) over ``n_boot`` bootstrap resamples of the galaxies of
    TV = 1/2 sum |h_phot - h_spec| (histograms over ``n_bins`` bins on [0, z_max] and the
    outside, normalised by the number of galaxies)."""
    z_phot, z_spec = np.asarray(z_phot, np.float64), np.asarray(z_spec, np.float64)
    edges = _bins(n_bins, z_max)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(z_spec), len(z_spec))
        values.append(_tv(z_phot[pick], z_spec[pick], edges))
    return float(np.mean(values)), float(np.std(values))


def tv_reference(
    z_phot: np.ndarray,
    z_spec: np.ndarray,
    n_bins: int = 180,
    z_max: float = 0.4,
    n_coarse: int = 40,
    n_boot: int = 100,
    seed: int = 0,
) -> tuple[float, float]:
    """TV distance expected from the measured bias and scatter alone, without mode
    collapse (L22's grey band): each galaxy gets z_phot = z_spec + (1 + z_spec) x
    N(mean, std) of the residuals of its z_spec bin (``n_coarse`` bins on [0, z_max];
    L22's N(binned mean, sqrt(n) x binned error)), then :func:`tv_distance` statistics
    over ``n_boot`` draws. A method whose TV clearly exceeds it piles z_phot up at
    preferred values."""
    z_phot, z_spec = np.asarray(z_phot, np.float64), np.asarray(z_spec, np.float64)
    dz = residual(z_phot, z_spec)
    edges, coarse = _bins(n_bins, z_max), _bins(n_coarse, z_max)
    which = np.clip(np.digitize(z_spec, coarse) - 1, 0, n_coarse - 1)
    mu, sd = np.zeros(len(dz)), np.zeros(len(dz))
    for k in np.unique(which):
        inside = which == k
        mu[inside], sd[inside] = dz[inside].mean(), dz[inside].std()
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(z_spec), len(z_spec))
        simulated = z_spec[pick] + (1 + z_spec[pick]) * rng.normal(mu[pick], sd[pick])
        values.append(_tv(simulated, z_spec[pick], edges))
    return float(np.mean(values)), float(np.std(values))


def sigma_mad_in_bins(
    values: np.ndarray,
    edges: np.ndarray,
    z_phot: np.ndarray,
    z_spec: np.ndarray,
    n_boot: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """sigma_MAD of the galaxies with ``values`` in (lo, hi] for each pair of ``edges``,
    with the bootstrap standard deviation as error (L22 ``get_sigmad``), and the median
    of the values in the bin (where to plot it)."""
    values = np.asarray(values, np.float64)
    z_phot, z_spec = np.asarray(z_phot, np.float64), np.asarray(z_spec, np.float64)
    rng = np.random.default_rng(seed)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        idx = np.flatnonzero((values > lo) & (values <= hi))
        n = len(idx)
        if n < 2:
            rows.append((lo, hi, n, np.nan, np.nan, np.nan))
            continue
        boots = [sigma_mad(z_phot[b], z_spec[b]) for b in (rng.choice(idx, n) for _ in range(n_boot))]
        smad = sigma_mad(z_phot[idx], z_spec[idx])
        rows.append((lo, hi, n, float(np.median(values[idx])), smad, float(np.std(boots))))
    return pd.DataFrame(rows, columns=["lo", "hi", "n", "median", "sigma_mad", "error"])


def mean_redshift_offsets(
    z_phot: np.ndarray, z_spec: np.ndarray, edges: np.ndarray, requirement: float = TOMOGRAPHIC_REQUIREMENT
) -> pd.DataFrame:
    """Per tomographic z_phot bin [lo, hi): n, <z_phot>, <z_spec>, delta<z> =
    (<z_phot> - <z_spec>) / (1 + <z_spec>), its error (std(z_phot - z_spec) / sqrt(n)
    over 1 + <z_spec>) and whether |delta<z>| < ``requirement``."""
    z_phot, z_spec = np.asarray(z_phot, np.float64), np.asarray(z_spec, np.float64)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (z_phot >= lo) & (z_phot < hi)
        n = int(inside.sum())
        if n == 0:
            rows.append((lo, hi, 0, np.nan, np.nan, np.nan, np.nan, False))
            continue
        zp, zs = z_phot[inside].mean(), z_spec[inside].mean()
        delta = (zp - zs) / (1 + zs)
        diff = z_phot[inside] - z_spec[inside]
        err = diff.std(ddof=1) / np.sqrt(n) / (1 + zs) if n > 1 else np.nan
        rows.append((lo, hi, n, zp, zs, delta, err, bool(abs(delta) < requirement)))
    return pd.DataFrame(
        rows, columns=["lo", "hi", "n", "mean_z_phot", "mean_z_spec", "delta_mean_z", "error", "meets"]
    )


def tomographic_summary(
    offsets: pd.DataFrame, min_galaxies: int = TOMOGRAPHIC_MIN_GALAXIES
) -> tuple[float, int]:
    """(largest |delta<z>|, number of bins beyond the requirement) over the bins of
    :func:`mean_redshift_offsets` holding at least ``min_galaxies`` galaxies."""
    counted = offsets[offsets["n"] >= min_galaxies]
    if counted.empty:
        return np.nan, 0
    return float(counted["delta_mean_z"].abs().max()), int((~counted["meets"].astype(bool)).sum())
