"""Surface-brightness profiles and the PSF used to render synthetic frames.

Profiles follow SDSS photo's truncated models: bulges are Sersic profiles (index n,
de Vaucouleurs for n = 4) truncated beyond 7 r_e and going smoothly to zero at 8 r_e;
disks are exponential, truncated beyond 3 r_e, zero at 4 r_e. Truncation gives every
component a finite, exactly known total flux. Star-forming knots are unresolved
sources placed on the disk. The PSF is a
Moffat profile (beta = 3.5), truncated at 3 FWHM (99.6% of its light) and normalised.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import fftconvolve

PSF_BETA = 3.5
PSF_RADIUS_FWHM = 3.0
#: Pixels within which profile cores are softened (sub-pixel, invisible after the PSF).
CORE_SOFTENING_PX = 1.0
#: Smallest effective radius rendered, pixels (smaller components are unresolved).
MIN_RE_PX = 0.3
#: (taper start, zero) in units of r_e.
TRUNCATION = {"bulge": (7.0, 8.0), "disk": (3.0, 4.0)}


def _taper(r: np.ndarray, r1: float, r2: float) -> np.ndarray:
    t = np.clip((r - r1) / (r2 - r1), 0.0, 1.0)
    return (1.0 - t * t) ** 2


def sersic_b(n: float) -> float:
    """b_n with half the light inside r_e (Ciotti & Bertin 1999's expansion, < 1e-4 for n >= 0.5)."""
    return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n**2)


def component_profile(r_over_re: np.ndarray, kind: str, sersic_n: float = 4.0) -> np.ndarray:
    """Unnormalised surface brightness of a 'bulge' (Sersic ``sersic_n``) or 'disk'
    (exponential) at r/r_e, truncated."""
    n = sersic_n if kind == "bulge" else 1.0
    core = np.exp(-sersic_b(n) * (np.power(r_over_re, 1.0 / n) - 1.0))
    r1, r2 = TRUNCATION[kind]
    return core * _taper(r_over_re, r1, r2)


def moffat(r: np.ndarray, fwhm: float, beta: float = PSF_BETA) -> np.ndarray:
    """Unnormalised Moffat profile of the given FWHM at radius ``r`` (same units)."""
    alpha = fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    return (1.0 + (r / alpha) ** 2) ** (-beta)


def oversampling(re_px: float) -> int:
    """Sub-samples per pixel side so that a profile's core is resolved."""
    if re_px < 4.0:
        return 5
    if re_px < 10.0:
        return 3
    return 1


def _grid(x0: float, y0: float, half: int, s: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Sub-pixel offsets from (x0, y0) of an s-times oversampled stamp around it."""
    ix0, iy0 = int(np.rint(x0)), int(np.rint(y0))
    sub = (np.arange((2 * half + 1) * s) + 0.5) / s - 0.5 - half
    return sub[None, :] + (ix0 - x0), sub[:, None] + (iy0 - y0), ix0 - half, iy0 - half


def _bin(image: np.ndarray, s: int) -> np.ndarray:
    n = image.shape[0] // s
    return image.reshape(n, s, n, s).sum(axis=(1, 3))


@lru_cache(maxsize=256)
def psf_kernel(psf_fwhm_px: float) -> np.ndarray:
    """The PSF integrated over pixels (5x5 sub-samples), centred on a pixel, sum 1."""
    half = int(np.ceil(PSF_RADIUS_FWHM * psf_fwhm_px))
    s = 5
    k = (np.arange((2 * half + 1) * s) + 0.5) / s - 0.5 - half
    r = np.hypot(k[None, :], k[:, None])
    psf = _bin(moffat(r, psf_fwhm_px) * (r <= PSF_RADIUS_FWHM * psf_fwhm_px), s)
    return psf / psf.sum()


def render_star(x0: float, y0: float, flux: float, psf_fwhm_px: float) -> tuple[np.ndarray, int, int]:
    """Pixel-integrated PSF of total ``flux`` centred at (x0, y0) (0-based pixels).

    Returns (stamp, column of its first pixel, row of its first pixel)."""
    half = int(np.ceil(PSF_RADIUS_FWHM * psf_fwhm_px)) + 1
    s = 5
    dx, dy, x_lo, y_lo = _grid(x0, y0, half, s)
    r = np.hypot(dx, dy)
    psf = moffat(r, psf_fwhm_px) * (r <= PSF_RADIUS_FWHM * psf_fwhm_px)
    return _bin(flux * psf / psf.sum(), s), x_lo, y_lo


def render_galaxy(
    x0: float,
    y0: float,
    components: list[tuple[str, float, float, float, float, float]],
    psf_fwhm_px: float,
    pixel_to_sky: np.ndarray,
    knots: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    max_half: int = 400,
) -> tuple[np.ndarray, int, int]:
    """Pixel-integrated, PSF-convolved galaxy centred at (x0, y0) (0-based pixels).

    ``components``: (kind 'bulge' or 'disk', flux, r_e in pixels, axis ratio, position
    angle in degrees east of north, Sersic index). ``knots``: (east, north) offsets in
    pixels and fluxes of unresolved knots. ``pixel_to_sky`` maps pixel offsets to
    tangent-plane (east, north) offsets in pixel units; it carries the frame's rotation
    and parity. Each component is normalised on the sub-pixel grid, so the stamp sums to
    the total flux (up to truncation at ``max_half`` pixels for giant galaxies).
    """
    # The model only needs the truncated profile; the PSF's reach is added by the
    # full convolution, so compact galaxies cost a small grid.
    # Components far smaller than a pixel are unresolved: give them a minimum size so
    # their truncated profile still reaches beyond the softened core.
    components = [(k, f, max(re, MIN_RE_PX), q, pa, n) for k, f, re, q, pa, n in components]
    reach = max(TRUNCATION[c[0]][1] * c[2] for c in components)
    half = int(min(np.ceil(reach) + 1, max_half))
    s = min(oversampling(c[2]) for c in components)
    while (2 * half + 1) * s > 1600 and s > 1:
        s -= 2
    dx, dy, x_lo, y_lo = _grid(x0, y0, half, s)
    east = pixel_to_sky[0, 0] * dx + pixel_to_sky[0, 1] * dy
    north = pixel_to_sky[1, 0] * dx + pixel_to_sky[1, 1] * dy
    model = np.zeros((dy.size, dx.size))
    for kind, flux, re_px, q, pa, sersic_n in components:
        if flux <= 0:
            continue
        sin_pa, cos_pa = np.sin(np.radians(pa)), np.cos(np.radians(pa))
        u = east * sin_pa + north * cos_pa
        v = -east * cos_pa + north * sin_pa
        # Cores are softened within CORE_SOFTENING_PX (far inside the PSF) so that
        # sampling the de Vaucouleurs cusp does not bias the centroid (< 0.002 px).
        r = np.sqrt(u**2 + (v / q) ** 2 + CORE_SOFTENING_PX**2)
        prof = component_profile(r / re_px, kind, sersic_n)
        model += flux * prof / prof.sum()
    if knots is not None and len(knots[2]):
        # Each knot's light goes to the 4 nearest sub-pixels (bilinear): flux and centroid exact.
        east, north, flux = knots
        dxy = np.linalg.solve(pixel_to_sky, np.vstack([east, north]))
        col = (dxy[0] - dx[0, 0]) * s
        row = (dxy[1] - dy[0, 0]) * s
        c0, r0 = np.floor(col).astype(int), np.floor(row).astype(int)
        tc, tr = col - c0, row - r0
        for dc, dr, w in (
            (0, 0, (1 - tc) * (1 - tr)),
            (1, 0, tc * (1 - tr)),
            (0, 1, (1 - tc) * tr),
            (1, 1, tc * tr),
        ):
            np.add.at(
                model,
                (np.clip(r0 + dr, 0, model.shape[0] - 1), np.clip(c0 + dc, 0, model.shape[1] - 1)),
                flux * w,
            )
    # The pixel-integrated profile convolved with the pixel-integrated PSF: flux and
    # centroid are exact (the kernel is normalised and symmetric), and the FFTs run at
    # pixel rather than sub-pixel resolution.
    kernel = psf_kernel(round(float(psf_fwhm_px), 3))
    image = fftconvolve(_bin(model, s), kernel, mode="full")
    k_half = kernel.shape[0] // 2
    x_lo, y_lo = x_lo - k_half, y_lo - k_half
    return image, x_lo, y_lo
