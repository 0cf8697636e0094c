"""Footprints of 64x64 cutouts and SDSS frames, and their overlap test.

A frame can contribute to a cutout when some output pixel, widened by the 3-pixel
half-width of the Lanczos-3 kernel, falls on the frame's pixels. The cutout is a TAN
grid centred on the galaxy, north up, 0.396"/px; its footprint is the quadrilateral of
its outer pixel centres pushed out by that apron. Mapped into a frame's pixel
coordinates it is (to far below a pixel) a parallelogram, so a separating-axis test
against the frame rectangle decides the overlap exactly.
"""

from __future__ import annotations

import numpy as np

from ..constants import CUTOUT_SIZE, PIXEL_SCALE_ARCSEC

LANCZOS_HALF_WIDTH = 3


def gnomonic_to_sky(
    ra0: np.ndarray, dec0: np.ndarray, xi: np.ndarray, eta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse gnomonic projection: tangent-plane offsets (deg, xi east, eta north)
    around (ra0, dec0) to (RA, Dec) in degrees."""
    a0, d0 = np.radians(ra0), np.radians(dec0)
    x, y = np.radians(xi), np.radians(eta)
    denom = np.cos(d0) - y * np.sin(d0)
    ra = a0 + np.arctan2(x, denom)
    dec = np.arctan2(np.sin(d0) + y * np.cos(d0), np.hypot(x, denom))
    return np.degrees(ra) % 360.0, np.degrees(dec)


def cutout_corners(
    ra: np.ndarray,
    dec: np.ndarray,
    size: int = CUTOUT_SIZE,
    apron: float = LANCZOS_HALF_WIDTH,
    scale_arcsec: float = PIXEL_SCALE_ARCSEC,
) -> tuple[np.ndarray, np.ndarray]:
    """Sky corners (N, 4) of each cutout's footprint, apron included."""
    half = ((size - 1) / 2.0 + apron) * scale_arcsec / 3600.0
    sx = np.array([-1.0, 1.0, 1.0, -1.0]) * half
    sy = np.array([-1.0, -1.0, 1.0, 1.0]) * half
    ra = np.asarray(ra, dtype=float)[:, None]
    dec = np.asarray(dec, dtype=float)[:, None]
    return gnomonic_to_sky(ra, dec, sx[None, :], sy[None, :])


def polygons_overlap_rectangle(px: np.ndarray, py: np.ndarray, width: int, height: int) -> np.ndarray:
    """Whether each convex quadrilateral (rows of ``px``, ``py``, 0-based pixel
    coordinates) overlaps the pixel area [-0.5, width-0.5] x [-0.5, height-0.5]."""
    x_lo, x_hi, y_lo, y_hi = -0.5, width - 0.5, -0.5, height - 0.5
    ok = (px.max(axis=1) >= x_lo) & (px.min(axis=1) <= x_hi)
    ok &= (py.max(axis=1) >= y_lo) & (py.min(axis=1) <= y_hi)
    rect_x = np.array([x_lo, x_hi, x_hi, x_lo])
    rect_y = np.array([y_lo, y_lo, y_hi, y_hi])
    for k in range(4):  # the polygon's edge normals as separating axes
        ex = np.roll(px, -1, axis=1)[:, k] - px[:, k]
        ey = np.roll(py, -1, axis=1)[:, k] - py[:, k]
        nx, ny = -ey, ex
        poly = px * nx[:, None] + py * ny[:, None]
        rect = rect_x[None, :] * nx[:, None] + rect_y[None, :] * ny[:, None]
        ok &= (poly.max(axis=1) >= rect.min(axis=1)) & (poly.min(axis=1) <= rect.max(axis=1))
    return ok


def frame_overlaps(wcs, width: int, height: int, corner_ra: np.ndarray, corner_dec: np.ndarray) -> np.ndarray:
    """Whether each cutout footprint (sky corners, (N, 4)) overlaps the frame."""
    x, y = wcs.all_world2pix(corner_ra.ravel(), corner_dec.ravel(), 0)
    return polygons_overlap_rectangle(x.reshape(corner_ra.shape), y.reshape(corner_ra.shape), width, height)
