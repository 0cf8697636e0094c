"""Point-estimate metrics of photometric redshifts (docs/stages.md, stages 10-11, P19 §4.1).

All take arrays of z_phot and z_spec (any length, NaN-free) and return floats:

* residual dz = (z_phot - z_spec) / (1 + z_spec);
* bias = mean(dz), a plain mean (not a median);
* sigma_MAD = 1.4826 x median(|dz - median(dz)|), the median subtracted (P19 footnote 5);
* outlier fraction eta = fraction of |dz| > 0.05 (P19 quote it in %).
"""

from __future__ import annotations

import numpy as np

MAD_TO_SIGMA = 1.4826
OUTLIER_THRESHOLD = 0.05


def residual(z_phot: np.ndarray, z_spec: np.ndarray) -> np.ndarray:
    """dz = (z_phot - z_spec) / (1 + z_spec)."""
    z_spec = np.asarray(z_spec, dtype=np.float64)
    return (np.asarray(z_phot, dtype=np.float64) - z_spec) / (1.0 + z_spec)


def bias(z_phot: np.ndarray, z_spec: np.ndarray) -> float:
    """Mean residual (NaN for an empty sample)."""
    dz = residual(z_phot, z_spec)
    return float(dz.mean()) if dz.size else float("nan")


def robust_std(x: np.ndarray) -> float:
    """1.4826 x median absolute deviation from the median (NaN for an empty sample)."""
    x = np.asarray(x, dtype=float)
    return float(MAD_TO_SIGMA * np.median(np.abs(x - np.median(x)))) if x.size else float("nan")


def sigma_mad(z_phot: np.ndarray, z_spec: np.ndarray) -> float:
    """1.4826 x median absolute deviation of the residual from its median."""
    return robust_std(residual(z_phot, z_spec))


def outlier_fraction(z_phot: np.ndarray, z_spec: np.ndarray, threshold: float = OUTLIER_THRESHOLD) -> float:
    """Fraction of galaxies with |dz| > threshold (0.05 for SDSS)."""
    dz = residual(z_phot, z_spec)
    return float(np.mean(np.abs(dz) > threshold)) if dz.size else float("nan")
