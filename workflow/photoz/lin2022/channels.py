"""The r-magnitude grid and output channels of L22's multi-channel module (method-spec §4.1).

Input r bins: 11 bins of 0.5 mag from 12.5 (index clip(int((r - 12.5) / 0.5), 0, 10)).
Channel m covers bins max(0, 2m - 1) .. 2m + 1, so odd bins belong to two adjacent
channels: <13.5, 13-14.5, 14-15.5, 15-16.5, 16-17.5, >17.
"""

from __future__ import annotations

import numpy as np

R_MIN = 12.5
R_STEP = 0.5
N_RBINS = 11
N_CHANNELS = 6


def r_bins(r: np.ndarray) -> np.ndarray:
    """Input r bin of each galaxy; NaN or negative magnitudes count as the faintest r
    (L22 replace them by max(r))."""
    r = np.asarray(r, dtype=np.float64)
    bad = ~np.isfinite(r) | (r < 0)
    if bad.all():
        raise ValueError("no finite, non-negative r magnitude")
    r = np.where(bad, np.nanmax(np.where(bad, np.nan, r)), r)
    return np.clip(((r - R_MIN) / R_STEP).astype(np.int64), 0, N_RBINS - 1)


def channel_bins(channel: int) -> range:
    """The input r bins that channel ``channel`` covers."""
    return range(max(0, 2 * channel - 1), min(N_RBINS, 2 * channel + 2))


def channel_map() -> np.ndarray:
    """(N_RBINS, N_CHANNELS) boolean: whether r bin j belongs to channel m."""
    mapping = np.zeros((N_RBINS, N_CHANNELS), dtype=bool)
    for m in range(N_CHANNELS):
        mapping[list(channel_bins(m)), m] = True
    return mapping


def magnitude_targets(rbin: np.ndarray) -> np.ndarray:
    """(N, N_CHANNELS) targets of the r head: the channels holding the galaxy's r bin,
    normalised (1, or 1/2 and 1/2 for the interlaced odd bins)."""
    member = channel_map()[np.asarray(rbin)].astype(np.float32)
    return member / member.sum(axis=1, keepdims=True)
