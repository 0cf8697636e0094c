"""A photometry-only photo-z that plays the role of the SDSS ``Photoz`` table (B16).

Beck et al. (2016) fit, for each galaxy, a local linear relation z(r, u-g, g-r, r-i,
i-z) over its k nearest neighbours in a spectroscopic reference set. This module does
the same on a reference sample drawn independently from the synthetic model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors


def photometric_features(catalog: pd.DataFrame) -> np.ndarray:
    """Dereddened r and the four adjacent colours, shape (N, 5)."""
    m = [catalog[f"dered_petro_{b}"].to_numpy() for b in "ugriz"]
    return np.stack([m[2], m[0] - m[1], m[1] - m[2], m[2] - m[3], m[3] - m[4]], axis=1)


def local_linear_photoz(
    reference: pd.DataFrame, targets: pd.DataFrame, k: int = 100, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """(z_phot, error) of ``targets`` from a local linear fit over ``k`` neighbours.

    The error is the RMS residual of the neighbours about their fit, as in B16.
    Targets are processed in chunks so memory stays bounded for any catalog size.
    """
    x_ref = photometric_features(reference)
    z_ref = reference["z"].to_numpy()
    x_all = photometric_features(targets)
    k = min(k, len(reference))
    tree = NearestNeighbors(n_neighbors=k).fit(x_ref)
    z_phot = np.empty(len(x_all))
    z_err = np.empty(len(x_all))
    for start in range(0, len(x_all), chunk):
        x_t = x_all[start : start + chunk]
        _, idx = tree.kneighbors(x_t)
        xn = x_ref[idx]  # (n, k, 5)
        centre = xn.mean(axis=1, keepdims=True)
        design = np.concatenate([np.ones(xn.shape[:2] + (1,)), xn - centre], axis=2)
        zn = z_ref[idx]
        # Batched least squares with a small ridge term for degenerate neighbourhoods.
        gram = np.einsum("nki,nkj->nij", design, design) + 1e-6 * np.eye(6)
        coef = np.linalg.solve(gram, np.einsum("nki,nk->ni", design, zn)[..., None])[..., 0]
        x_design = np.concatenate([np.ones((len(x_t), 1)), x_t - centre[:, 0]], axis=1)
        sl = slice(start, start + len(x_t))
        z_phot[sl] = np.einsum("ni,ni->n", x_design, coef)
        resid = zn - np.einsum("nki,ni->nk", design, coef)
        z_err[sl] = np.sqrt(np.mean(resid**2, axis=1))
    return np.clip(z_phot, 0.0, z_ref.max() + 0.05), z_err
