"""Fainter galaxies and stars around the targets, deterministic per sky cell.

Real cutouts contain more than their target: galaxies below the spectroscopic limit
and Milky Way stars. They are drawn per 0.1-degree sky cell from a seed derived from
the survey seed and the cell, so every frame (and every epoch, band and partition)
covering a cell sees the same objects.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ..constants import BANDS
from ..skycells import cell_bounds
from .calibration import template_population
from .extinction import ebv_map
from .galaxies import draw_galaxies, petrosian_flux
from .luminosity import sample_zm, zm_grid

CELL_DEG = 0.1
FAINT_LIMIT_R = 22.0
STAR_MAG_RANGE = (14.0, 22.0)
#: Stars per deg^2 per mag at r = 20 and the slope of log counts (high latitude).
STAR_DENSITY_R20 = 400.0
STAR_COUNT_SLOPE = 0.15


@lru_cache(maxsize=1)
def _faint_grid():
    return zm_grid(FAINT_LIMIT_R, z_max=1.2, k_margin=0.4)


@lru_cache(maxsize=4096)
def cell_sources(
    seed: int, row: int, col: int, target_limit_r: float, calibration_file: str | None = None
) -> pd.DataFrame:
    """Faint galaxies (target_limit_r < r <= 22) and stars (14 < r <= 22) of one cell.

    Columns: ra, dec, kind ('galaxy'/'star'), e_bv, the ``sim_*`` morphology and
    component fluxes of galaxies, and ``star_flux_<band>`` of stars (nmgy, unreddened).
    """
    rng = np.random.default_rng([seed, 41, row, col])
    ra_lo, ra_hi, dec_lo, dec_hi = cell_bounds(row, col, CELL_DEG)
    area_sr = np.radians(ra_hi - ra_lo) * (np.sin(np.radians(dec_hi)) - np.sin(np.radians(dec_lo)))
    grid = _faint_grid()

    def positions(n):
        ra = rng.uniform(ra_lo, ra_hi, n)
        dec = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(dec_lo)), np.sin(np.radians(dec_hi)), n)))
        return ra, dec

    n_gal = rng.poisson(grid.counts_per_sr.sum() * area_sr)
    z, m_abs = sample_zm(rng, grid, n_gal)
    gal = draw_galaxies(rng, z, m_abs, template_population(calibration_file))
    r_mag = 22.5 - 2.5 * np.log10(np.maximum(petrosian_flux(gal, "r"), 1e-30))
    keep = (r_mag > target_limit_r) & (r_mag <= FAINT_LIMIT_R)
    gal = gal[keep].reset_index(drop=True)
    gal["ra"], gal["dec"] = positions(len(gal))
    gal["kind"] = "galaxy"

    area_deg2 = area_sr * (180.0 / np.pi) ** 2
    lo, hi = STAR_MAG_RANGE
    expected = STAR_DENSITY_R20 * area_deg2 / (STAR_COUNT_SLOPE * np.log(10.0))
    expected *= 10.0 ** (STAR_COUNT_SLOPE * (hi - 20.0)) - 10.0 ** (STAR_COUNT_SLOPE * (lo - 20.0))
    n_star = rng.poisson(expected)
    u = rng.uniform(10.0 ** (STAR_COUNT_SLOPE * lo), 10.0 ** (STAR_COUNT_SLOPE * hi), n_star)
    r_star = np.log10(u) / STAR_COUNT_SLOPE
    g_r = rng.uniform(0.2, 1.5, n_star)
    # A simple main-sequence stellar locus (approximate SDSS colours).
    u_g = np.minimum(0.9 + 0.9 * g_r, 2.8)
    r_i = np.where(g_r > 1.3, 0.535 + 1.5 * (g_r - 1.3), 0.45 * g_r - 0.05)
    i_z = 0.4 * r_i
    mags = {
        "r": r_star,
        "g": r_star + g_r,
        "u": r_star + g_r + u_g,
        "i": r_star - r_i,
        "z": r_star - r_i - i_z,
    }
    stars = pd.DataFrame({f"star_flux_{b}": 10.0 ** (-0.4 * (mags[b] - 22.5)) for b in BANDS})
    stars["ra"], stars["dec"] = positions(n_star)
    stars["kind"] = "star"
    out = pd.concat([gal, stars], ignore_index=True)
    out["e_bv"] = ebv_map(out["ra"].to_numpy(), out["dec"].to_numpy(), seed) if len(out) else []
    return out
