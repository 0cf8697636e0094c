"""The galaxy population model: spectra, bulge + disk + knots morphology and fluxes.

Given redshifts and absolute magnitudes ^{0.1}M_r drawn from the luminosity function
(Petrosian magnitudes, like Blanton et al. 2003), each galaxy takes the spectrum of a
real SDSS galaxy near its (z, M_r) (kcorrect template coefficients, see
:mod:`.calibration`), so colours, their scatter and the colour-magnitude relation are
those of real galaxies. The spectrum is split between a bulge (Sersic index spread
around 4 for red galaxies, around 2 for the bulges of blue ones) that takes the redder
templates and an exponential disk that takes the bluer ones (colour gradients), and
blue disks carry star-forming knots with the disk's bluest light. Sizes follow the
Shen et al. (2003) size-luminosity relations converted to angles with the
angular-diameter distance; position angles are random and inclination flattens the
disk. Fluxes follow from projecting each component's template combination through the
SDSS responses at the galaxy's redshift (surface-brightness dimming is implicit: flux
scales as D_L^-2 while the area scales as D_A^-2).

The renderer of the frame stage draws images from exactly these parameters
(``sim_*`` columns), so what the catalog says and what the pixels show agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..constants import BANDS, EXTINCTION_COEFF
from .calibration import TemplatePopulation
from .luminosity import angular_diameter_distance_mpc, distance_modulus
from .templates import ab_to_sdss, observed_maggies_ab, template_rest_colours

#: Intrinsic thickness of disks (edge-on axis ratio).
DISK_Q0 = 0.12
#: Fraction of a component's total flux inside the Petrosian aperture (SDSS EDR paper:
#: ~98% for exponential profiles, ~80% for de Vaucouleurs profiles).
PETROSIAN_FRACTION = {"bulge": 0.82, "disk": 0.98, "knots": 0.98}
#: Rest-frame ^{0.1}(g-r) dividing the red sequence from the blue cloud at M_r = -20
#: (Blanton et al. 2003's bimodality), with the slope of the colour-magnitude relation.
RED_COLOUR_CUT = 0.76
RED_COLOUR_SLOPE = -0.03
COMPONENTS = ("bulge", "disk", "knots")


def _shen_radius_kpc(m_abs_r: np.ndarray, red: np.ndarray) -> np.ndarray:
    """Median half-light radius (kpc, h = 0.7) from Shen et al. (2003) eqs. 14 and 18."""
    early = 10.0 ** (-0.4 * 0.65 * m_abs_r - 5.06)
    late = 10.0 ** (
        -0.4 * 0.21 * m_abs_r + (0.53 - 0.21) * np.log10(1.0 + 10.0 ** (-0.4 * (m_abs_r + 20.52))) - 1.31
    )
    return np.where(red, early, late)


def _template_redness() -> np.ndarray:
    """Per template, 0 (bluest) to 1 (reddest) in rest ^{0.1}(g-r): the bulge's share."""
    gr = template_rest_colours()
    return (gr - gr.min()) / (gr.max() - gr.min())


def _split_spectrum(coeffs: np.ndarray, bt: np.ndarray, redness: np.ndarray) -> tuple[np.ndarray, ...]:
    """Bulge and disk coefficients summing to ``coeffs``; the bulge takes the redder
    templates and, where it can, the fraction ``bt`` of the rest-frame r light."""
    weighted = coeffs * redness[None, :]
    rest_r = observed_maggies_ab(np.eye(coeffs.shape[1]), np.full(coeffs.shape[1], 0.1))[:, 2]
    total_r = coeffs @ rest_r
    weighted_r = weighted @ rest_r
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(weighted_r > 0, bt * total_r / weighted_r, 0.0)
    a = np.clip(a, 0.0, 1.0)
    bulge = weighted * a[:, None]
    # A spectrum with no red template at all: the bulge has the galaxy's colour.
    grey = weighted_r <= 0
    bulge[grey] = coeffs[grey] * bt[grey, None]
    return bulge, coeffs - bulge


def draw_galaxies(
    rng: np.random.Generator, z: np.ndarray, m_abs_r: np.ndarray, population: TemplatePopulation
) -> pd.DataFrame:
    """Intrinsic properties and extinction-free fluxes of galaxies at (z, ^{0.1}M_r).

    Returns a frame of ``sim_*`` columns: population (red or blue by rest-frame colour),
    bulge-to-total ratio (rest r), Sersic index of the bulge, sizes (arcsec), axis
    ratios, position angle (deg east of north), knots (count, seed) and the fluxes of
    bulge, disk and knots in nanomaggies per band (SDSS system, before Galactic
    extinction).
    """
    n = z.size
    coeffs = population.draw(rng, z, m_abs_r)
    redness = _template_redness()
    rest = observed_maggies_ab(coeffs, np.full(n, 0.1))
    rest_gr = -2.5 * np.log10(rest[:, 1] / rest[:, 2])
    red = rest_gr > RED_COLOUR_CUT + RED_COLOUR_SLOPE * (m_abs_r + 20.0)
    bt = np.where(red, rng.beta(6.0, 3.0, n), rng.beta(1.2, 6.0, n))
    n_bulge = np.where(
        red, np.clip(rng.normal(4.0, 0.8, n), 2.5, 6.0), np.clip(rng.normal(2.0, 0.6, n), 1.0, 3.5)
    )
    bulge_c, disk_c = _split_spectrum(coeffs, bt, redness)
    # Star-forming knots: blue disks put part of their bluest light into compact clumps.
    blueness = 1.0 - redness
    n_knots = np.where(red, 0, rng.poisson(6.0, n))
    knot_share = np.where(n_knots > 0, rng.uniform(0.05, 0.3, n), 0.0)
    knot_c = disk_c * blueness[None, :] * knot_share[:, None]
    disk_c = disk_c - knot_c

    cos_i = rng.random(n)
    q_disk = np.sqrt(cos_i**2 * (1.0 - DISK_Q0**2) + DISK_Q0**2)
    q_bulge = rng.uniform(0.6, 1.0, n)
    pa = rng.uniform(0.0, 180.0, n)
    scatter = np.clip(rng.standard_normal(n), -2.5, 2.5)
    r50_kpc = _shen_radius_kpc(m_abs_r, red) * np.exp(np.where(red, 0.30, 0.45) * scatter)
    r_bulge_kpc = np.where(red, 0.8 * r50_kpc, np.maximum(0.2 * 1.05 * r50_kpc, 0.1))
    r_disk_kpc = np.where(red, rng.uniform(1.4, 2.2, n) * r50_kpc, 1.05 * r50_kpc)
    arcsec_per_kpc = 206.264806 / angular_diameter_distance_mpc(z)  # 1e-3 Mpc in arcsec
    knot_seed = rng.integers(0, 2**31 - 1, n)

    out = {
        "sim_population": np.where(red, "red", "blue"),
        "sim_absmag_r": m_abs_r,
        "sim_rest_gr": rest_gr,
        "sim_bt_r": bt,
        "sim_n_bulge": n_bulge,
        "sim_r_bulge_arcsec": r_bulge_kpc * arcsec_per_kpc,
        "sim_r_disk_arcsec": r_disk_kpc * arcsec_per_kpc,
        "sim_q_bulge": q_bulge,
        "sim_q_disk": q_disk,
        "sim_pa_deg": pa,
        "sim_n_knots": n_knots,
        "sim_knot_seed": knot_seed,
    }
    # Coefficients are per unit ^{0.1}r maggy; the galaxy's own luminosity and distance
    # scale them. The population's spectra describe Petrosian photometry, so each
    # component's total flux is its Petrosian flux over its aperture fraction.
    scale = 10.0 ** (-0.4 * (m_abs_r + distance_modulus(z))) * 1e9  # nanomaggies
    # Template photometry onto Petrosian colours, plus the per-galaxy colour scatter the
    # smooth template fit lacks (the same in every component: no effect on gradients).
    correction = population.photometric_correction(z) * 10.0 ** (
        -0.4 * population.colour_scatter(z) * rng.standard_normal((n, 5))
    )
    for comp, c in (("bulge", bulge_c), ("disk", disk_c), ("knots", knot_c)):
        flux = (
            ab_to_sdss(observed_maggies_ab(c, z)) * correction * (scale / PETROSIAN_FRACTION[comp])[:, None]
        )
        for j, band in enumerate(BANDS):
            out[f"sim_flux_{comp}_{band}"] = np.clip(flux[:, j], 0.0, None)
    return pd.DataFrame(out)


def total_flux(galaxies: pd.DataFrame, band: str) -> np.ndarray:
    """Total extinction-free flux (nmgy) of each galaxy in ``band``."""
    return sum(galaxies[f"sim_flux_{c}_{band}"].to_numpy() for c in COMPONENTS)


def petrosian_flux(galaxies: pd.DataFrame, band: str) -> np.ndarray:
    """Flux a Petrosian aperture collects (nmgy), before Galactic extinction."""
    return sum(PETROSIAN_FRACTION[c] * galaxies[f"sim_flux_{c}_{band}"].to_numpy() for c in COMPONENTS)


def half_light_radius_r(galaxies: pd.DataFrame) -> np.ndarray:
    """Approximate r-band half-light radius (arcsec): flux-weighted component radii."""
    fb = galaxies["sim_flux_bulge_r"].to_numpy()
    fd = galaxies["sim_flux_disk_r"].to_numpy() + galaxies["sim_flux_knots_r"].to_numpy()
    return (fb * galaxies["sim_r_bulge_arcsec"] + fd * galaxies["sim_r_disk_arcsec"]) / (fb + fd)


def observed_axis_ratio(q: np.ndarray, radius: np.ndarray, psf_fwhm: np.ndarray) -> np.ndarray:
    """Axis ratio after convolution with a round Gaussian PSF (second moments)."""
    s = psf_fwhm / 2.3548
    return np.sqrt((q**2 * radius**2 + s**2) / (radius**2 + s**2))


#: Knots sit at radii drawn from the disk's exponential light profile, within this many r_e.
KNOT_MAX_RADIUS_RE = 3.0


def knot_layout(
    seed: int, n_knots: int, r_disk_arcsec: float, q_disk: float, pa_deg: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(east, north) offsets in arcsec and flux weights (sum 1) of a galaxy's knots.

    Deterministic for the galaxy's ``sim_knot_seed``, so every band, epoch and frame
    shows the same knots. The weighted mean offset is zero: knots redistribute the
    disk's light without moving the galaxy's centroid.
    """
    n_knots = int(n_knots)  # tables holding stars too carry it as float
    if n_knots <= 0:
        return np.empty(0), np.empty(0), np.empty(0)
    rng = np.random.default_rng([int(seed), 53])
    # An exponential disk's light at radius r is ~ r exp(-b r / r_e): Gamma(2, r_e / b).
    radius = np.minimum(rng.gamma(2.0, r_disk_arcsec / 1.67835, n_knots), KNOT_MAX_RADIUS_RE * r_disk_arcsec)
    phi = rng.uniform(0.0, 2.0 * np.pi, n_knots)
    weight = rng.gamma(1.0, 1.0, n_knots)
    weight /= weight.sum()
    major, minor = radius * np.cos(phi), radius * np.sin(phi) * q_disk
    major -= np.sum(weight * major)
    minor -= np.sum(weight * minor)
    sin_pa, cos_pa = np.sin(np.radians(pa_deg)), np.cos(np.radians(pa_deg))
    # Position angle east of north: the major axis points to (sin pa, cos pa) in (E, N).
    east = major * sin_pa - minor * cos_pa
    north = major * cos_pa + minor * sin_pa
    return east, north, weight


def frame_flux(galaxies: pd.DataFrame, band: str, zero_point_mag: float | np.ndarray = 0.0) -> np.ndarray:
    """Total flux (nmgy) a frame shows of each galaxy: dimmed by the true reddening
    (``sim_ebv_true``) and reported through the frame's zero point."""
    a_true = EXTINCTION_COEFF[band] * galaxies["sim_ebv_true"].to_numpy()
    return total_flux(galaxies, band) * 10.0 ** (-0.4 * (a_true + zero_point_mag))
