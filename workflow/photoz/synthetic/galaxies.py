"""The galaxy population model: types, SEDs, bulge + disk morphology and fluxes.

Given redshifts and rest-frame absolute magnitudes M_r drawn from the luminosity
function (Petrosian magnitudes, like Blanton et al. 2003), each galaxy gets a
population (red/early or blue/late, red fraction rising with luminosity), a bulge
(Sersic n=4) and a disk (n=1) with their own SEDs (colour gradients), sizes from
the Shen et al. (2003) size-luminosity relations converted to angles with the
angular-diameter distance, a random position angle and an inclination that
flattens the disk and reddens it through internal dust. Fluxes follow from
K-correcting each component's SED (surface-brightness dimming is implicit: flux
scales as D_L^-2 while the area scales as D_A^-2).

The renderer of the frame stage draws images from exactly these parameters
(``sim_*`` columns), so what the catalog says and what the pixels show agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..constants import BANDS
from .luminosity import angular_diameter_distance_mpc, distance_modulus
from .sed import k_correction_from_r

#: Intrinsic thickness of disks (edge-on axis ratio).
DISK_Q0 = 0.12
#: Fraction of a component's total flux inside the Petrosian aperture (SDSS EDR paper:
#: ~98% for exponential profiles, ~80% for de Vaucouleurs profiles).
PETROSIAN_FRACTION = {"bulge": 0.82, "disk": 0.98}


def red_fraction(m_abs_r: np.ndarray) -> np.ndarray:
    """Probability that a galaxy of absolute magnitude M_r belongs to the red population."""
    return 1.0 / (1.0 + np.exp((m_abs_r + 20.8) / 0.7))


def _shen_radius_kpc(m_abs_r: np.ndarray, red: np.ndarray) -> np.ndarray:
    """Median half-light radius (kpc, h = 0.7) from Shen et al. (2003) eqs. 14 and 18."""
    early = 10.0 ** (-0.4 * 0.65 * m_abs_r - 5.06)
    late = 10.0 ** (
        -0.4 * 0.21 * m_abs_r + (0.53 - 0.21) * np.log10(1.0 + 10.0 ** (-0.4 * (m_abs_r + 20.52))) - 1.31
    )
    return np.where(red, early, late)


def draw_galaxies(rng: np.random.Generator, z: np.ndarray, m_abs_r: np.ndarray) -> pd.DataFrame:
    """Intrinsic properties and extinction-free fluxes of galaxies at (z, M_r).

    Returns a frame of ``sim_*`` columns: population, bulge-to-total ratio (rest r),
    component SED parameters, sizes (arcsec), axis ratios, position angle (deg east of
    north) and component fluxes in nanomaggies per band (before Galactic extinction).
    """
    n = z.size
    red = rng.random(n) < red_fraction(m_abs_r)
    bt = np.where(red, rng.beta(6.0, 3.0, n), rng.beta(1.2, 6.0, n))
    fy_bulge = np.where(red, 0.006, 0.03) * np.exp(0.5 * rng.standard_normal(n))
    fy_disk = np.clip(np.where(red, 0.04, 0.25) * np.exp(0.45 * rng.standard_normal(n)), 0, 0.95)
    cos_i = rng.random(n)
    q_disk = np.sqrt(cos_i**2 * (1.0 - DISK_Q0**2) + DISK_Q0**2)
    # Internal dust grows with inclination (path length through the disk).
    av_disk = np.where(red, 0.1, 0.3) + np.where(red, 0.5, 1.2) * np.log10(1.0 / q_disk)
    av_bulge = np.full(n, 0.05)
    q_bulge = rng.uniform(0.6, 1.0, n)
    pa = rng.uniform(0.0, 180.0, n)

    scatter = np.clip(rng.standard_normal(n), -2.5, 2.5)
    r50_kpc = _shen_radius_kpc(m_abs_r, red) * np.exp(np.where(red, 0.30, 0.45) * scatter)
    r_bulge_kpc = np.where(red, 0.8 * r50_kpc, np.maximum(0.2 * 1.05 * r50_kpc, 0.1))
    r_disk_kpc = np.where(red, rng.uniform(1.4, 2.2, n) * r50_kpc, 1.05 * r50_kpc)
    arcsec_per_kpc = 206.264806 / angular_diameter_distance_mpc(z)  # 1e-3 Mpc in arcsec
    dm = distance_modulus(z)

    out = {
        "sim_population": np.where(red, "red", "blue"),
        "sim_absmag_r": m_abs_r,
        "sim_bt_r": bt,
        "sim_fyoung_bulge": fy_bulge,
        "sim_fyoung_disk": fy_disk,
        "sim_av_disk": av_disk,
        "sim_r_bulge_arcsec": r_bulge_kpc * arcsec_per_kpc,
        "sim_r_disk_arcsec": r_disk_kpc * arcsec_per_kpc,
        "sim_q_bulge": q_bulge,
        "sim_q_disk": q_disk,
        "sim_pa_deg": pa,
    }
    # M_r is a Petrosian magnitude (as in Blanton et al. 2003): the total light is
    # brighter by the flux the Petrosian aperture misses.
    petro_frac = PETROSIAN_FRACTION["bulge"] * bt + PETROSIAN_FRACTION["disk"] * (1.0 - bt)
    for comp, fy, av, frac in (
        ("bulge", fy_bulge, av_bulge, bt),
        ("disk", fy_disk, av_disk, 1.0 - bt),
    ):
        k = k_correction_from_r(z, fy, av)
        with np.errstate(divide="ignore"):
            m_comp = m_abs_r + 2.5 * np.log10(petro_frac) - 2.5 * np.log10(frac)
        for j, band in enumerate(BANDS):
            mag = m_comp + dm + k[:, j]
            out[f"sim_flux_{comp}_{band}"] = np.where(np.isfinite(mag), 10.0 ** (-0.4 * (mag - 22.5)), 0.0)
    return pd.DataFrame(out)


def total_flux(galaxies: pd.DataFrame, band: str) -> np.ndarray:
    """Total extinction-free flux (nmgy) of each galaxy in ``band``."""
    return galaxies[f"sim_flux_bulge_{band}"].to_numpy() + galaxies[f"sim_flux_disk_{band}"].to_numpy()


def petrosian_flux(galaxies: pd.DataFrame, band: str) -> np.ndarray:
    """Flux a Petrosian aperture collects (nmgy), before Galactic extinction."""
    return (
        PETROSIAN_FRACTION["bulge"] * galaxies[f"sim_flux_bulge_{band}"].to_numpy()
        + PETROSIAN_FRACTION["disk"] * galaxies[f"sim_flux_disk_{band}"].to_numpy()
    )


def half_light_radius_r(galaxies: pd.DataFrame) -> np.ndarray:
    """Approximate r-band half-light radius (arcsec): flux-weighted component radii."""
    fb = galaxies["sim_flux_bulge_r"].to_numpy()
    fd = galaxies["sim_flux_disk_r"].to_numpy()
    return (fb * galaxies["sim_r_bulge_arcsec"] + fd * galaxies["sim_r_disk_arcsec"]) / (fb + fd)


def observed_axis_ratio(q: np.ndarray, radius: np.ndarray, psf_fwhm: np.ndarray) -> np.ndarray:
    """Axis ratio after convolution with a round Gaussian PSF (second moments)."""
    s = psf_fwhm / 2.3548
    return np.sqrt((q**2 * radius**2 + s**2) / (radius**2 + s**2))
