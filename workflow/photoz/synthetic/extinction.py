"""A smooth synthetic Galactic reddening map E(B-V)(RA, Dec).

Reddening follows a cosecant law in Galactic latitude (a plane-parallel dust layer,
larger towards low latitude, ~0.02-0.05 mag at high latitude as in SFD 1998) modulated
by a smooth, seed-dependent random field. It is strictly positive everywhere.

That map is the true reddening the frames are rendered with. The catalog's E(B-V),
like SFD's, is a measurement of it: off by a multiplicative error of 16% (SFD 1998's
quoted uncertainty), correlated on the scale of the map's resolution and above.
"""

from __future__ import annotations

import numpy as np
from astropy.coordinates import SkyCoord

from ..skycells import unit_vectors

#: Relative uncertainty of the SFD reddening (Schlegel et al. 1998).
SFD_RELATIVE_ERROR = 0.16


def _plane_wave_field(
    xyz: np.ndarray, seed_tag: list[int], k_range: tuple[float, float], n_waves: int = 24
) -> np.ndarray:
    """A smooth random field on the sphere, ~N(0, 1), from ``n_waves`` plane waves with
    wave numbers (radians^-1) in ``k_range``; deterministic for ``seed_tag``."""
    rng = np.random.default_rng(seed_tag)
    k_dirs = rng.normal(size=(n_waves, 3))
    k_dirs /= np.linalg.norm(k_dirs, axis=1, keepdims=True)
    k_mag = rng.uniform(*k_range, n_waves)
    phases = rng.uniform(0, 2 * np.pi, n_waves)
    return np.cos(xyz @ (k_dirs * k_mag[:, None]).T + phases).sum(axis=1) / np.sqrt(n_waves / 2)


def catalog_ebv(ra: np.ndarray, dec: np.ndarray, seed: int) -> np.ndarray:
    """The E(B-V) the catalog reports: the true map times an SFD-like error field
    (wavelengths of 0.1-2 degrees, relative rms :data:`SFD_RELATIVE_ERROR`)."""
    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    dec = np.atleast_1d(np.asarray(dec, dtype=float))
    error = _plane_wave_field(unit_vectors(ra, dec), [seed, 6], (180.0, 3600.0))
    return ebv_map(ra, dec, seed) * np.exp(SFD_RELATIVE_ERROR * error)


def ebv_map(ra: np.ndarray, dec: np.ndarray, seed: int) -> np.ndarray:
    """E(B-V) in magnitudes at (RA, Dec) in degrees; deterministic for ``seed``."""
    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    dec = np.atleast_1d(np.asarray(dec, dtype=float))
    gal = SkyCoord(ra=ra, dec=dec, unit="deg", frame="icrs").galactic
    sin_b = np.abs(np.sin(np.radians(gal.b.deg)))
    base = 0.016 / np.sqrt(sin_b**2 + 0.01)
    # Smooth structure: a sum of plane waves on the sphere with scales of 1-10 degrees.
    # radians^-1: wavelengths 6-60 degrees
    field = _plane_wave_field(unit_vectors(ra, dec), [seed, 5], (6.0, 60.0))
    return base * np.exp(0.25 * field)
