"""Point-estimate metrics of photometric redshifts (docs/stages.md, stages 10-11, P19 §4.1).

All take arrays of z_phot and z_spec (any length, NaN-free) and return floats:

* residual dz = (z_phot - z_spec) / (1 + z_spec);
* bias = mean(dz), a plain mean (not a median);
* sigma_MAD = 1.4826 x median(|dz - median(dz)|), the median subtracted (P19 footnote 5);
* outlier fraction eta = fraction of |dz| > 0.05 (P19 quote it in %).

RAIL's conventions (LSST DESC; computed by ``qp``'s point metrics, which RAIL uses):

* bias = median(dz);
* sigma_IQR = interquartile range of dz / 1.349;
* outlier fraction = fraction of |dz| > max(0.06, 3 sigma_IQR).
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


def _rail(metric_class, z_phot: np.ndarray, z_spec: np.ndarray) -> float:
    """A ``qp`` point metric (RAIL's), NaN for an empty sample."""
    z_phot, z_spec = np.asarray(z_phot, np.float64), np.asarray(z_spec, np.float64)
    return float(metric_class().evaluate(z_phot, z_spec)) if z_spec.size else float("nan")


def median_bias(z_phot: np.ndarray, z_spec: np.ndarray) -> float:
    """RAIL's bias: the median residual."""
    from qp.metrics.point_estimate_metric_classes import PointBias

    return _rail(PointBias, z_phot, z_spec)


def sigma_iqr(z_phot: np.ndarray, z_spec: np.ndarray) -> float:
    """RAIL's width: interquartile range of the residual / 1.349."""
    from qp.metrics.point_estimate_metric_classes import PointSigmaIQR

    return _rail(PointSigmaIQR, z_phot, z_spec)


def rail_outlier_fraction(z_phot: np.ndarray, z_spec: np.ndarray) -> float:
    """RAIL's outlier fraction: |dz| > max(0.06, 3 sigma_IQR)."""
    from qp.metrics.point_estimate_metric_classes import PointOutlierRate

    return _rail(PointOutlierRate, z_phot, z_spec)


#: Both conventions side by side: P19's (mean bias, sigma_MAD, |dz| > 0.05) and RAIL's.
CONVENTIONS: dict[str, dict[str, object]] = {
    "P19": {"bias": bias, "sigma_mad": sigma_mad, "outlier_fraction": outlier_fraction},
    "RAIL": {
        "bias_median": median_bias,
        "sigma_iqr": sigma_iqr,
        "outlier_fraction_rail": rail_outlier_fraction,
    },
}
