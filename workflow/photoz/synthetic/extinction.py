"""A smooth synthetic Galactic reddening map E(B-V)(RA, Dec).

Reddening follows a cosecant law in Galactic latitude (a plane-parallel dust layer,
larger towards low latitude, ~0.02-0.05 mag at high latitude as in SFD 1998) modulated
by a smooth, seed-dependent random field. It is strictly positive everywhere.
"""

from __future__ import annotations

import numpy as np
from astropy.coordinates import SkyCoord


def _unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    ra_r, dec_r = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec_r) * np.cos(ra_r), np.cos(dec_r) * np.sin(ra_r), np.sin(dec_r)], axis=-1)


def ebv_map(ra: np.ndarray, dec: np.ndarray, seed: int) -> np.ndarray:
    """E(B-V) in magnitudes at (RA, Dec) in degrees; deterministic for ``seed``."""
    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    dec = np.atleast_1d(np.asarray(dec, dtype=float))
    gal = SkyCoord(ra=ra, dec=dec, unit="deg", frame="icrs").galactic
    sin_b = np.abs(np.sin(np.radians(gal.b.deg)))
    base = 0.016 / np.sqrt(sin_b**2 + 0.01)
    # Smooth structure: a sum of plane waves on the sphere with scales of 1-10 degrees.
    rng = np.random.default_rng([seed, 5])
    n_waves = 24
    k_dirs = rng.normal(size=(n_waves, 3))
    k_dirs /= np.linalg.norm(k_dirs, axis=1, keepdims=True)
    k_mag = rng.uniform(6.0, 60.0, n_waves)  # radians^-1: wavelengths 6-60 degrees
    phases = rng.uniform(0, 2 * np.pi, n_waves)
    xyz = _unit_vectors(ra, dec)
    field = np.cos(xyz @ (k_dirs * k_mag[:, None]).T + phases).sum(axis=1) / np.sqrt(n_waves / 2)
    return base * np.exp(0.25 * field)
