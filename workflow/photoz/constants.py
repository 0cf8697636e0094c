"""Survey constants shared by every stage (SDSS values unless stated)."""

from __future__ import annotations

BANDS: tuple[str, ...] = ("u", "g", "r", "i", "z")

#: A_band / E(B-V) used by SDSS for the ``extinction_x`` columns (SFD 1998).
EXTINCTION_COEFF: dict[str, float] = {
    "u": 5.155,
    "g": 3.793,
    "r": 2.751,
    "i": 2.086,
    "z": 1.479,
}

#: Softening parameters b of the SDSS asinh magnitudes (Lupton et al. 1999).
ASINH_SOFTENING: dict[str, float] = {
    "u": 1.4e-10,
    "g": 0.9e-10,
    "r": 1.2e-10,
    "i": 1.8e-10,
    "z": 7.4e-10,
}

#: Side of a galaxy cutout in pixels (P19: 64 x 64) and the shape of a cube.
CUTOUT_SIZE: int = 64
CUBE_SHAPE: tuple[int, int, int] = (len(BANDS), CUTOUT_SIZE, CUTOUT_SIZE)

#: Nominal SDSS pixel scale, arcsec per pixel.
PIXEL_SCALE_ARCSEC: float = 0.396

#: Main Galaxy Sample bit of ``primTarget`` (TARGET_GALAXY, bit 6).
PRIMTARGET_GALAXY: int = 64

#: Missing-value sentinel used throughout the SDSS CAS.
SDSS_MISSING: float = -9999.0

#: The Stripe 82 footprint (the deep, multi-epoch area): |Dec| below this, degrees ...
STRIPE82_DEC: float = 1.26
#: ... and RA from the first to the second, degrees, through 0.
STRIPE82_RA: tuple[float, float] = (300.0, 60.0)
