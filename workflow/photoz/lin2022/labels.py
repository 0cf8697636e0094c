"""Step 3 labels: range extension, fitted label dispersions, shifted and softened labels
(docs/methods.md, L22 ``PZbias_main.py`` "Fit labels (softening & shifting)").

Everything is in units of redshift bins of the base grid (``n_bins`` on [0, z_max));
the extended grid adds ``n_bins // 2`` bins on each side (SDSS: 360 bins on
[-0.2, 0.6)). The inputs are step 2's pre-estimates on the balanced subset: z_spec,
r bin and z_phot (the mode, a bin centre).

Written by hand because it is L22's specific recipe: no library implements it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..metrics.pdf import redshift_to_bin
from ..models.channels import N_CHANNELS, N_RBINS, channel_map

log = logging.getLogger(__name__)

MIN_SIGMA = 0.1  # bins: below this a label stays one-hot (L22)
#: Label widths scanned (bins): the whole objective is evaluated on this grid and its
#: minimum taken (a local optimiser stalls on its flat stretches).
SIGMA_GRID = np.round(np.arange(0.0, 30.0 + 1e-9, 0.05), 2)
#: Fewer galaxies than this in a channel: its width is not fitted (one-hot labels).
MIN_CHANNEL_GALAXIES = 100


def extension(n_bins: int) -> int:
    """Bins added on each side of the base grid (L22: bins/2; 20 for 20 bins)."""
    return 20 if n_bins == 20 else n_bins // 2


def extended_range(n_bins: int, z_max: float) -> tuple[int, float, float]:
    """(bins, z_min, z_max) of the extended grid: SDSS 180 on [0, 0.4) -> 360 on [-0.2, 0.6)."""
    pad = extension(n_bins)
    width = z_max / n_bins
    return n_bins + 2 * pad, -pad * width, z_max + pad * width


def channel_histograms(zbin: np.ndarray, rbin: np.ndarray, n_bins: int) -> np.ndarray:
    """(n_bins, N_CHANNELS): the redshift histogram of each channel's galaxies (r bins
    of the channel summed, odd bins in both neighbours), each column summing to 1
    (0 for a channel without galaxies)."""
    h = np.zeros((n_bins, N_RBINS))
    np.add.at(h, (np.asarray(zbin), np.asarray(rbin)), 1.0)
    per_channel = h @ channel_map().astype(np.float64)
    totals = per_channel.sum(axis=0, keepdims=True)
    return np.divide(per_channel, totals, out=np.zeros_like(per_channel), where=totals > 0)


def gaussian_kernel(n: int, sigma: float) -> np.ndarray:
    """(n, n) matrix K[i, k] = G(k - i; sigma) / sum_k G(k - i; sigma): each source bin i
    spread over the n bins of the range (truncated, renormalised); identity for sigma ~ 0."""
    if sigma < 1e-6:
        return np.eye(n)
    offsets = np.arange(n)[None, :] - np.arange(n)[:, None]
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum(axis=1, keepdims=True)


def blur(histogram: np.ndarray, sigma: float) -> np.ndarray:
    """A histogram convolved with the truncated, per-source-bin renormalised Gaussian."""
    return np.asarray(histogram, np.float64) @ gaussian_kernel(len(histogram), sigma)


def presmoothing_width(phot_hist: np.ndarray, n_galaxies: int) -> float:
    """Silverman's bandwidth (bins), 1.06 std n^(-1/5), of a channel's z_phot histogram."""
    k = np.arange(len(phot_hist))
    mean = float(np.sum(k * phot_hist))
    std = float(np.sqrt(np.sum((k - mean) ** 2 * phot_hist)))
    return 1.06 * std * max(n_galaxies, 1) ** -0.2


def sigma_profile(spec_hist: np.ndarray, phot_hist: np.ndarray, n_galaxies: int) -> tuple[np.ndarray, float]:
    """The objective on :data:`SIGMA_GRID` and the pre-smoothing width h (bins).

    L22's objective is the cross-entropy -sum spec log(clip(blur(phot, sigma), 1e-5,
    1 - 1e-5)). On histograms of a few hundred galaxies it is minimised by smoothing
    the sampling noise away (a kernel-density bandwidth, 2-4 bins where the two
    distributions are the same), not by the collapse. So both histograms are first
    smoothed by h, the noise's bandwidth: the objective compares blur(spec, h) with
    blur(phot, sqrt(sigma^2 + h^2)), which agree at the true sigma whatever h, and the
    noise no longer pays for extra width."""
    h = presmoothing_width(phot_hist, n_galaxies)
    target = blur(spec_hist, h)
    profile = np.array(
        [
            -np.sum(target * np.log(np.clip(blur(phot_hist, float(np.hypot(s, h))), 1e-5, 1 - 1e-5)))
            for s in SIGMA_GRID
        ]
    )
    return profile, h


def fit_sigma(spec_hist: np.ndarray, phot_hist: np.ndarray, n_galaxies: int) -> float:
    """Label dispersion (bins) of one channel of ``n_galaxies``: the minimum of
    :func:`sigma_profile` on :data:`SIGMA_GRID`."""
    profile, _ = sigma_profile(spec_hist, phot_hist, n_galaxies)
    return float(SIGMA_GRID[int(np.argmin(profile))])


def scatter_profile(zbin_spec: np.ndarray, residual: np.ndarray, n_bins: int, sigma: float) -> np.ndarray:
    """sigma_scat(k) in bins for one channel: sqrt(S(k) + sigma^2), S the per-z_spec-bin
    scatter v(i) = (median + mean)/2 of ``residual``^2 (z_phot - z_spec in bins, from the
    unbinned z_spec), NaN bins inside the valid range filled from the left, spread with a
    Gaussian of ``sigma`` zeroed outside the valid range and normalised; sigma outside it."""
    zs = np.asarray(zbin_spec)
    sq = np.asarray(residual, np.float64) ** 2
    v = np.full(n_bins, np.nan)
    for i in np.unique(zs):
        values = sq[zs == i]
        v[i] = 0.5 * (np.median(values) + values.mean())
    valid = np.flatnonzero(v > 0)
    s = np.zeros(n_bins)
    if len(valid):
        lo, hi = valid[0], valid[-1]
        inside = np.arange(lo, hi + 1)
        filled = v[inside]
        last = np.maximum.accumulate(np.where(np.isnan(filled), -1, np.arange(len(filled))))
        filled = filled[last]  # the first bin is valid, so no -1 remains
        s[inside] = blur(filled, sigma)  # the kernel truncated to the valid range
    return np.sqrt(s + sigma**2)


@dataclass(frozen=True)
class LabelModel:
    """What step 3 fits on the pre-estimates: per channel sigma_m and sigma_scat,m(k)
    (base grid), and the spec-z histogram of each r bin (the density filter)."""

    n_bins: int
    sigma: np.ndarray  # (N_CHANNELS,) bins
    scatter: np.ndarray  # (N_CHANNELS, n_bins) bins
    spec_by_rbin: np.ndarray  # (n_bins, N_RBINS), normalised by the number of galaxies
    channel_galaxies: np.ndarray | None = None  # (N_CHANNELS,) galaxies fitting each sigma
    profile: np.ndarray | None = None  # (N_CHANNELS, len(SIGMA_GRID)) objective; NaN: not fitted
    presmoothing: np.ndarray | None = None  # (N_CHANNELS,) h of each fit (bins)

    def to_dict(self) -> dict:
        document = {
            "n_bins": self.n_bins,
            "sigma_bins": self.sigma.tolist(),
            "scatter_bins": self.scatter.tolist(),
        }
        if self.profile is not None:
            document.update(
                {
                    "channel_galaxies": self.channel_galaxies.tolist(),
                    "min_channel_galaxies": MIN_CHANNEL_GALAXIES,
                    "presmoothing_bins": self.presmoothing.tolist(),
                    "sigma_grid_bins": SIGMA_GRID.tolist(),
                    "sigma_profile": [
                        [None if np.isnan(v) else float(v) for v in row] for row in self.profile
                    ],
                }
            )
        return document


def fit_label_model(
    z_spec: np.ndarray, z_phot: np.ndarray, rbin: np.ndarray, n_bins: int, z_max: float
) -> LabelModel:
    """Fit sigma_m and the scatter profiles on step 2's pre-estimates (z_phot: the mode)."""
    zs = redshift_to_bin(z_spec, n_bins, z_max=z_max)
    zp = redshift_to_bin(z_phot, n_bins, z_max=z_max)
    residual = (np.asarray(z_phot, np.float64) - np.asarray(z_spec, np.float64)) / (z_max / n_bins)
    rbin = np.asarray(rbin)
    spec_hist = channel_histograms(zs, rbin, n_bins)
    phot_hist = channel_histograms(zp, rbin, n_bins)
    mapping = channel_map()
    sigma = np.zeros(N_CHANNELS)
    scatter = np.zeros((N_CHANNELS, n_bins))
    counts = mapping[rbin].sum(axis=0)
    profiles = np.full((N_CHANNELS, len(SIGMA_GRID)), np.nan)
    presmoothing = np.zeros(N_CHANNELS)
    for m in range(N_CHANNELS):
        inside = mapping[rbin, m]
        if not inside.any():
            continue
        if counts[m] >= MIN_CHANNEL_GALAXIES:
            profiles[m], presmoothing[m] = sigma_profile(spec_hist[:, m], phot_hist[:, m], int(counts[m]))
            sigma[m] = SIGMA_GRID[int(np.argmin(profiles[m]))]
        else:
            log.info(
                "channel %d: %d galaxies (< %d): label width not fitted, labels stay one-hot",
                m,
                counts[m],
                MIN_CHANNEL_GALAXIES,
            )
        scatter[m] = scatter_profile(zs[inside], residual[inside], n_bins, sigma[m])
    by_rbin = np.zeros((n_bins, N_RBINS))
    np.add.at(by_rbin, (zs, rbin), 1.0)
    return LabelModel(n_bins, sigma, scatter, by_rbin / max(len(zs), 1), counts, profiles, presmoothing)


def shifted_centre(z_index: int, scatter: float, density: np.ndarray) -> float:
    """z_ad = 2 z_index - c, c the centre of mass of a Gaussian of width ``scatter``
    (a delta below MIN_SIGMA) at z_index weighted by ``density`` (extended grid): the
    label moves away from the denser side by the offset the density pulls it."""
    k = np.arange(len(density))
    if scatter < MIN_SIGMA:
        g = (k == z_index).astype(np.float64)
    else:
        g = np.exp(-0.5 * ((k - z_index) / scatter) ** 2)
    g = g * density
    total = g.sum()
    if total <= 0:
        return float(z_index)
    return 2.0 * z_index - float((k * g).sum() / total)


def label_centres(
    z_spec: np.ndarray, rbin: np.ndarray, model: LabelModel, z_max: float, shift: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Each training galaxy's label centre on the extended grid, per channel slot:
    (centres (N, 2) float, NaN where a galaxy has one channel; channels (N, 2) int, -1
    there). With ``shift`` the :func:`shifted_centre` of its channel's scatter and its r
    bin's spec-z density, else its z_spec bin."""
    pad = extension(model.n_bins)
    zs = redshift_to_bin(z_spec, model.n_bins, z_max=z_max)
    mapping = channel_map()
    centres = np.full((len(zs), 2), np.nan)
    channels = np.full((len(zs), 2), -1, np.int64)
    for n, (i, j) in enumerate(zip(zs, np.asarray(rbin), strict=True)):
        density = np.concatenate([np.zeros(pad), model.spec_by_rbin[:, j], np.zeros(pad)])
        z_index = int(i) + pad
        for slot, m in enumerate(np.flatnonzero(mapping[j])):
            scatter = float(model.scatter[m, i])
            centres[n, slot] = shifted_centre(z_index, scatter, density) if shift else z_index
            channels[n, slot] = m
    return centres, channels


def label_shift_summary(
    z_spec: np.ndarray,
    z_phot: np.ndarray,
    rbin: np.ndarray,
    model: LabelModel,
    z_max: float,
    width: float = 0.05,
) -> list[dict]:
    """Per z_spec bin of ``width``: galaxies, the mean label shift (z_ad - z_spec, in
    redshift, over each galaxy's channels) and the pre-estimates' median residual
    z_phot - z_spec. The shift is meant to cancel the pull of the density on the
    estimates; shifts of about minus the residual are the intended size, larger ones
    over-correct (recorded in labels.json so a run shows which)."""
    shifted, _ = label_centres(z_spec, rbin, model, z_max)
    unshifted, _ = label_centres(z_spec, rbin, model, z_max, shift=False)
    shifts = np.nanmean(shifted - unshifted, axis=1) * (z_max / model.n_bins)
    residual = np.asarray(z_phot, np.float64) - np.asarray(z_spec, np.float64)
    rows = []
    for lo in np.arange(0.0, z_max - 1e-9, width):
        inside = (z_spec >= lo) & (z_spec < lo + width)
        n = int(inside.sum())
        rows.append(
            {
                "z_lo": round(float(lo), 6),
                "z_hi": round(float(lo + width), 6),
                "n": n,
                "mean_label_shift": float(shifts[inside].mean()) if n else None,
                "median_pre_estimate_residual": float(np.median(residual[inside])) if n else None,
            }
        )
    return rows


def label_row(centre: float, sigma: float, n: int, soft: bool) -> np.ndarray:
    """A Gaussian of ``sigma`` at ``centre`` normalised over n bins (soft, sigma >= 0.1)
    or one-hot at clip(int(centre), 0, n - 1)."""
    if soft and sigma >= MIN_SIGMA:
        row = np.exp(-0.5 * ((np.arange(n) - centre) / sigma) ** 2)
        return row / row.sum()
    row = np.zeros(n)
    row[int(np.clip(int(centre), 0, n - 1))] = 1.0
    return row


def step3_labels(
    z_spec: np.ndarray,
    rbin: np.ndarray,
    model: LabelModel,
    z_max: float,
    shift: bool = True,
    soft: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels of the training galaxies on the extended grid: (labels (N, 2, n_ext)
    float32, channels (N, 2) int, -1 where a galaxy has only one channel). Variants:
    step 3 (shift and soft), 3a (shift, hard), 3b (soft, no shift)."""
    n_ext = model.n_bins + 2 * extension(model.n_bins)
    centres, channels = label_centres(z_spec, rbin, model, z_max, shift)
    labels = np.zeros((len(centres), 2, n_ext), np.float32)
    for n, slot in zip(*np.nonzero(channels >= 0), strict=True):
        labels[n, slot] = label_row(centres[n, slot], float(model.sigma[channels[n, slot]]), n_ext, soft)
    return labels, channels


def hard_labels(
    z_spec: np.ndarray, rbin: np.ndarray, n_bins: int, z_max: float
) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1-2 labels in the same form as :func:`step3_labels`: one-hot at the z_spec
    bin for each channel holding the galaxy's r bin."""
    zs = redshift_to_bin(z_spec, n_bins, z_max=z_max)
    mapping = channel_map()
    labels = np.zeros((len(zs), 2, n_bins), np.float32)
    channels = np.full((len(zs), 2), -1, np.int64)
    for n, (i, j) in enumerate(zip(zs, np.asarray(rbin), strict=True)):
        for slot, m in enumerate(np.flatnonzero(mapping[j])):
            labels[n, slot, i] = 1.0
            channels[n, slot] = m
    return labels, channels


def head_targets(labels: np.ndarray, channels: np.ndarray) -> np.ndarray:
    """(B, N_CHANNELS, n) targets of every redshift head: the galaxy's label in its
    channels, uniform 1/n in the others (L22 push non-matching heads to flat)."""
    b, _, n = labels.shape
    targets = np.full((b, N_CHANNELS, n), 1.0 / n, np.float32)
    for slot in range(2):
        rows = np.flatnonzero(channels[:, slot] >= 0)
        targets[rows, channels[rows, slot]] = labels[rows, slot]
    return targets
