"""Binned redshift PDFs: point estimate, width, PIT and CRPS (docs/stages.md, stages 10-11).

A PDF is a row of probabilities over ``n_bins`` equal bins on [z_min, z_max) (z_min = 0
except for L22 step 3's extended range [-0.2, 0.6)). Conventions:

* point estimate: the PDF mean at bin midpoints (P19 Eq. 2; not the left edges) for
  the P19 classifier, the centre of the most probable bin for L22's multi-channel
  networks (their code's estimator, docs/methods.md), see :func:`point_estimate`;
* PIT and quantiles: probability spread uniformly inside each bin (the CDF is linear
  inside a bin), so the PIT of a flat PDF at z is z / z_max;
* CRPS: each bin's probability sits at its midpoint, so the CRPS of a one-hot PDF is
  the distance between its bin centre and z_spec; computed exactly, not sampled.
"""

from __future__ import annotations

import numpy as np


def bin_edges(n_bins: int, *, z_min: float = 0.0, z_max: float) -> np.ndarray:
    """The n_bins + 1 bin edges on [z_min, z_max]."""
    return np.linspace(z_min, z_max, n_bins + 1)


def bin_midpoints(n_bins: int, *, z_min: float = 0.0, z_max: float) -> np.ndarray:
    """Bin centres z_min + (k + 0.5) * width."""
    return z_min + (np.arange(n_bins) + 0.5) * ((z_max - z_min) / n_bins)


def redshift_to_bin(z: np.ndarray, n_bins: int, *, z_min: float = 0.0, z_max: float) -> np.ndarray:
    """Class label of each redshift: floor((z - z_min) / width), clipped to the range."""
    width = (z_max - z_min) / n_bins
    return np.clip(np.floor((np.asarray(z) - z_min) / width).astype(np.int64), 0, n_bins - 1)


def _normalised(pdf: np.ndarray) -> np.ndarray:
    pdf = np.asarray(pdf, dtype=np.float64)
    return pdf / pdf.sum(axis=-1, keepdims=True)


def pdf_mean(pdf: np.ndarray, *, z_min: float = 0.0, z_max: float) -> np.ndarray:
    """z_phot = sum_k z_k P(z_k) with z_k the bin midpoints."""
    pdf = _normalised(pdf)
    return pdf @ bin_midpoints(pdf.shape[-1], z_min=z_min, z_max=z_max)


def pdf_mode(pdf: np.ndarray, *, z_min: float = 0.0, z_max: float) -> np.ndarray:
    """The centre of the most probable bin (L22's point estimate)."""
    pdf = np.asarray(pdf)
    return bin_midpoints(pdf.shape[-1], z_min=z_min, z_max=z_max)[np.argmax(pdf, axis=-1)]


POINT_ESTIMATES = ("mean", "mode")


def point_estimate(pdf: np.ndarray, kind: str, *, z_min: float = 0.0, z_max: float) -> np.ndarray:
    """z_phot of each PDF: ``kind`` "mean" (:func:`pdf_mean`) or "mode" (:func:`pdf_mode`)."""
    if kind == "mean":
        return pdf_mean(pdf, z_min=z_min, z_max=z_max)
    if kind == "mode":
        return pdf_mode(pdf, z_min=z_min, z_max=z_max)
    raise ValueError(f"unknown point estimate {kind!r}; choose one of {POINT_ESTIMATES}")


def pdf_quantile(pdf: np.ndarray, q: float, *, z_min: float = 0.0, z_max: float) -> np.ndarray:
    """The q-quantile of each PDF (linear CDF inside bins)."""
    pdf = _normalised(pdf)
    n = pdf.shape[-1]
    cdf = np.concatenate([np.zeros((len(pdf), 1)), np.cumsum(pdf, axis=1)], axis=1)
    upper = np.clip((cdf < q).sum(axis=1), 1, n)  # first edge with CDF >= q
    rows = np.arange(len(pdf))
    c0, c1 = cdf[rows, upper - 1], cdf[rows, upper]
    frac = np.where(c1 > c0, (q - c0) / np.where(c1 > c0, c1 - c0, 1.0), 0.0)
    return z_min + (upper - 1 + np.clip(frac, 0.0, 1.0)) * ((z_max - z_min) / n)


def pdf_width68(pdf: np.ndarray, *, z_min: float = 0.0, z_max: float) -> np.ndarray:
    """z_84 - z_16: the width holding the central 68% of the probability."""
    return pdf_quantile(pdf, 0.84, z_min=z_min, z_max=z_max) - pdf_quantile(
        pdf, 0.16, z_min=z_min, z_max=z_max
    )


def pit(pdf: np.ndarray, z_spec: np.ndarray, *, z_min: float = 0.0, z_max: float) -> np.ndarray:
    """CDF of each PDF at its z_spec (linear inside the bin holding z_spec)."""
    pdf = _normalised(pdf)
    n = pdf.shape[-1]
    width = (z_max - z_min) / n
    pos = np.clip((np.asarray(z_spec, dtype=np.float64) - z_min) / width, 0.0, n)
    k = np.minimum(np.floor(pos).astype(np.int64), n - 1)
    cdf_before = np.concatenate([np.zeros((len(pdf), 1)), np.cumsum(pdf, axis=1)], axis=1)
    rows = np.arange(len(pdf))
    return np.clip(cdf_before[rows, k] + pdf[rows, k] * (pos - k), 0.0, 1.0)  # rounding


def crps(pdf: np.ndarray, z_spec: np.ndarray, *, z_min: float = 0.0, z_max: float) -> np.ndarray:
    """Continuous ranked probability score of each PDF (probabilities at bin midpoints):
    integral of (CDF(z) - H(z - z_spec))^2 dz, exactly."""
    pdf = _normalised(pdf)
    n = pdf.shape[-1]
    mids = bin_midpoints(n, z_min=z_min, z_max=z_max)
    width = (z_max - z_min) / n
    zs = np.asarray(z_spec, dtype=np.float64)[:, None]
    cdf = np.cumsum(pdf, axis=1)[:, :-1]  # CDF on [m_k, m_k+1), k = 0 .. n-2
    below = np.clip(zs - mids[:-1], 0.0, width)  # part of each interval left of z_spec
    inner = (cdf**2 * below + (1.0 - cdf) ** 2 * (width - below)).sum(axis=1)
    outer = np.clip(mids[0] - zs[:, 0], 0.0, None) + np.clip(zs[:, 0] - mids[-1], 0.0, None)
    return inner + outer
