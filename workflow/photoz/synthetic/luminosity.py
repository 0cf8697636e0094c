"""Cosmology and the evolving r-band luminosity function used to draw galaxies.

Schechter parameters and evolution are Blanton et al. (2003, ApJ 592, 819) for the
SDSS r band, converted to h = 0.7: M* - 5 log h = -20.44, alpha = -1.05,
phi* = 1.49e-2 h^3 Mpc^-3 at z = 0.1, luminosity evolution Q = 1.62 mag per unit z
and density evolution P = 0.18. The evolution is what gives the MGS its thin tail
beyond z ~ 0.25; a non-evolving function gives too few distant galaxies.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from astropy.cosmology import FlatLambdaCDM

COSMOLOGY = FlatLambdaCDM(H0=70.0, Om0=0.3)
_H = 0.7


@dataclass(frozen=True)
class Schechter:
    """An evolving Schechter function in absolute magnitude."""

    m_star: float = -20.44 + 5.0 * np.log10(_H)
    alpha: float = -1.05
    phi_star: float = 1.49e-2 * _H**3  # Mpc^-3
    q_evolution: float = 1.62
    p_evolution: float = 0.18
    z_pivot: float = 0.1

    def density(self, m_abs: np.ndarray, z: np.ndarray) -> np.ndarray:
        """phi(M, z) in Mpc^-3 mag^-1."""
        m_star = self.m_star - self.q_evolution * (z - self.z_pivot)
        phi_star = self.phi_star * 10.0 ** (0.4 * self.p_evolution * (z - self.z_pivot))
        x = 10.0 ** (0.4 * (m_star - m_abs))
        return 0.4 * np.log(10.0) * phi_star * x ** (self.alpha + 1.0) * np.exp(-x)


@lru_cache(maxsize=8)
def _distance_table(z_max: float = 1.0, n: int = 2001) -> tuple[np.ndarray, ...]:
    z = np.linspace(0.0, z_max, n)
    z[0] = 1e-6
    dl = COSMOLOGY.luminosity_distance(z).to_value("Mpc")
    da = COSMOLOGY.angular_diameter_distance(z).to_value("Mpc")
    dvdz = COSMOLOGY.differential_comoving_volume(z).to_value("Mpc3 / sr")
    return z, dl, da, dvdz


def distance_modulus(z: np.ndarray) -> np.ndarray:
    """5 log10(D_L / 10 pc) from a fine interpolation table."""
    zt, dl, _, _ = _distance_table()
    return 5.0 * np.log10(np.interp(z, zt, dl) * 1e5)


def angular_diameter_distance_mpc(z: np.ndarray) -> np.ndarray:
    """D_A in Mpc."""
    zt, _, da, _ = _distance_table()
    return np.interp(z, zt, da)


def comoving_volume_element(z: np.ndarray) -> np.ndarray:
    """dV/dz per steradian, Mpc^3 sr^-1."""
    zt, _, _, dvdz = _distance_table()
    return np.interp(z, zt, dvdz)


@dataclass(frozen=True)
class ZMGrid:
    """Expected counts per steradian on a (z, M) grid, for sampling and densities."""

    z_edges: np.ndarray
    m_edges: np.ndarray
    counts_per_sr: np.ndarray  # (n_z, n_m)


def zm_grid(
    m_app_limit: float,
    z_max: float = 0.7,
    k_margin: float = 1.0,
    lf: Schechter = Schechter(),
) -> ZMGrid:
    """Expected galaxies per steradian in (z, M_r) cells that could reach ``m_app_limit``.

    Cells fainter than ``m_app_limit - DM(z) + k_margin`` are zeroed (they cannot pass
    the magnitude cut for any plausible K-correction), which keeps sampling efficient.
    """
    z_edges = np.arange(0.002, z_max + 1e-9, 0.002)
    m_edges = np.arange(-24.5, -13.0 + 1e-9, 0.02)
    zc = 0.5 * (z_edges[1:] + z_edges[:-1])
    mc = 0.5 * (m_edges[1:] + m_edges[:-1])
    dz = np.diff(z_edges)[:, None]
    dm = np.diff(m_edges)[None, :]
    density = lf.density(mc[None, :], zc[:, None]) * comoving_volume_element(zc)[:, None]
    reachable = mc[None, :] <= (m_app_limit - distance_modulus(zc) + k_margin)[:, None]
    return ZMGrid(z_edges, m_edges, density * dz * dm * reachable)


def sample_zm(rng: np.random.Generator, grid: ZMGrid, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` (z, M_r) pairs from the grid's distribution, uniform inside cells."""
    p = grid.counts_per_sr.ravel()
    cells = rng.choice(p.size, size=n, p=p / p.sum())
    iz, im = np.unravel_index(cells, grid.counts_per_sr.shape)
    z = grid.z_edges[iz] + rng.random(n) * np.diff(grid.z_edges)[iz]
    m = grid.m_edges[im] + rng.random(n) * np.diff(grid.m_edges)[im]
    return z, m
