"""SDSS-style photometry: asinh magnitudes, their errors and Petrosian noise."""

from __future__ import annotations

import numpy as np

from ..constants import ASINH_SOFTENING, PIXEL_SCALE_ARCSEC

_POGSON = 2.5 / np.log(10.0)


def asinh_mag(flux_nmgy: np.ndarray, band: str) -> np.ndarray:
    """SDSS asinh magnitude (luptitude) of a flux in nanomaggies; finite for flux <= 0."""
    b = ASINH_SOFTENING[band]
    f = np.asarray(flux_nmgy, dtype=float) * 1e-9  # maggies
    return -_POGSON * (np.arcsinh(f / (2.0 * b)) + np.log(b))


def asinh_mag_err(flux_nmgy: np.ndarray, flux_err_nmgy: np.ndarray, band: str) -> np.ndarray:
    """1-sigma error of :func:`asinh_mag`."""
    b = ASINH_SOFTENING[band]
    f = np.asarray(flux_nmgy, dtype=float) * 1e-9
    df = np.asarray(flux_err_nmgy, dtype=float) * 1e-9
    return _POGSON * df / (2.0 * b * np.sqrt(1.0 + (f / (2.0 * b)) ** 2))


def aperture_flux_error(
    flux_nmgy: np.ndarray,
    aperture_radius_arcsec: np.ndarray,
    sky_nmgy_arcsec2: np.ndarray,
    gain: np.ndarray,
    dark_variance: np.ndarray,
    nmgy_per_count: np.ndarray,
) -> np.ndarray:
    """Flux error (nmgy) in a circular aperture: source and sky Poisson plus dark noise.

    Variance in DN is ``DN/gain + darkVariance`` per pixel (the SDSS frame datamodel).
    """
    n_pix = np.pi * (aperture_radius_arcsec / PIXEL_SCALE_ARCSEC) ** 2
    sky_dn = sky_nmgy_arcsec2 * PIXEL_SCALE_ARCSEC**2 / nmgy_per_count
    src_dn = np.clip(flux_nmgy, 0.0, None) / nmgy_per_count
    var_dn = src_dn / gain + n_pix * (sky_dn / gain + dark_variance)
    return np.sqrt(var_dn) * nmgy_per_count
