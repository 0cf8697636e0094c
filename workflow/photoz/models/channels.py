"""The r-magnitude grid, output channels and loss of L22's multi-channel output module
(docs/methods.md; the module itself is :func:`photoz.models.networks.channel_heads`).

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


def channel_loss(output: dict, labels, r, n_bins: int):
    """L22 step 1 loss per example: sum over the six redshift heads of the cross-entropy
    with the one-hot z label (heads whose channel holds the galaxy's r bin) or the
    uniform distribution (the others), plus the r head's cross-entropy with the
    normalised indicator of the galaxy's channels (docs/methods.md)."""
    import keras
    import tensorflow as tf

    mapping = tf.constant(channel_map(), tf.float32)
    rbin = tf.cast(tf.floor((r - R_MIN) / R_STEP), tf.int32)
    # non-finite or negative r: the faintest bin (L22 use max(r), which is in it)
    rbin = tf.where(tf.math.is_finite(r) & (r >= 0), tf.clip_by_value(rbin, 0, N_RBINS - 1), N_RBINS - 1)
    inside = tf.gather(mapping, rbin)  # (B, 6)
    onehot = tf.one_hot(labels, n_bins)
    targets = inside[:, :, None] * onehot[:, None, :] + (1.0 - inside[:, :, None]) / n_bins
    z_loss = tf.reduce_sum(keras.losses.categorical_crossentropy(targets, output["z_probs"]), axis=1)
    r_targets = inside / tf.reduce_sum(inside, axis=1, keepdims=True)
    return z_loss + keras.losses.categorical_crossentropy(r_targets, output["r_probs"])
