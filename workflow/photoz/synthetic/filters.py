"""Approximate SDSS ugriz response curves (2.5 m telescope, 1.3 airmass).

The real curves are tabulated files we cannot download at run time, so each band is
a flat-topped curve with logistic edges placed at the published half-power points;
effective wavelengths land within ~1% of SDSS's (u 3551, g 4686, r 6166, i 7480,
z 8932 Angstrom), which is all a broad-band colour model needs.
"""

from __future__ import annotations

import numpy as np

from ..constants import BANDS

# (half-power blue edge, half-power red edge, blue edge width, red edge width), Angstrom.
_EDGES: dict[str, tuple[float, float, float, float]] = {
    "u": (3220.0, 3880.0, 55.0, 60.0),
    "g": (4020.0, 5400.0, 60.0, 60.0),
    "r": (5560.0, 6860.0, 60.0, 60.0),
    "i": (6800.0, 8150.0, 70.0, 80.0),
    "z": (8200.0, 9650.0, 80.0, 220.0),
}


def response(band: str, wavelength: np.ndarray) -> np.ndarray:
    """Relative photon response of ``band`` at ``wavelength`` (Angstrom), peak ~1."""
    lo, hi, w_lo, w_hi = _EDGES[band]
    wl = np.asarray(wavelength, dtype=float)
    return 1.0 / (1.0 + np.exp(-(wl - lo) / w_lo)) / (1.0 + np.exp((wl - hi) / w_hi))


def effective_wavelength(band: str) -> float:
    """Photon-weighted mean wavelength of ``band`` (Angstrom)."""
    wl = np.arange(2500.0, 12000.0, 2.0)
    t = response(band, wl)
    return float(np.sum(wl * t) / np.sum(t))


def all_responses(wavelength: np.ndarray) -> np.ndarray:
    """Responses of the five bands, shape (5, len(wavelength)), band order ugriz."""
    return np.stack([response(b, wavelength) for b in BANDS])
