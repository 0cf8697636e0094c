"""The near-balanced training subset of L22 steps 2 and 3 (docs/methods.md).

Cells are (z bin, r bin): the output redshift bins (180 of 0.4/180) times the 11 input
r bins. A cell with at most ``threshold`` galaxies gives all of them; a fuller cell
gives exactly ``threshold``: its galaxies in a fixed random order (the same for every
member), and member m takes the slice starting at m * threshold, wrapping around, so
members see different subsets of the over-full cells (L22's ``--ne`` runs).
"""

from __future__ import annotations

import numpy as np

from ..metrics.pdf import redshift_to_bin
from ..models.channels import N_RBINS

# P19's training set (Table 2): the survey scale at which L22 chose threshold 200.
SURVEY_TRAINING_SIZE = 393_219


def scaled_threshold(threshold: int, n_train: int, reference_size: int = SURVEY_TRAINING_SIZE) -> int:
    """The cell cap for a training set of ``n_train`` galaxies: ``threshold`` at the
    reference (survey) size, proportionally smaller for smaller surveys, at least 1."""
    return max(1, int(round(threshold * n_train / reference_size)))


def balanced_subset(
    objid: np.ndarray,
    z: np.ndarray,
    rbin: np.ndarray,
    threshold: int,
    member: int,
    seed: int,
    n_bins: int = 180,
    z_max: float = 0.4,
) -> np.ndarray:
    """Indices (into the inputs, ascending) of member ``member``'s balanced subset.

    Deterministic for (seed, member) whatever the order of the inputs (galaxies are
    ordered by objid before the seeded permutation).
    """
    objid = np.asarray(objid)
    if threshold < 1:
        raise ValueError(f"balance threshold must be >= 1, got {threshold}")
    if len(np.unique(objid)) != len(objid):
        raise ValueError("duplicate objids in the training set")
    cell = redshift_to_bin(z, n_bins, z_max=z_max) * N_RBINS + np.asarray(rbin)
    by_objid = np.argsort(objid, kind="stable")
    order = by_objid[np.random.default_rng(seed).permutation(len(objid))]
    order = order[np.argsort(cell[order], kind="stable")]  # cells together, permuted inside
    cells, starts, counts = np.unique(cell[order], return_index=True, return_counts=True)
    chosen = []
    for start, count in zip(starts, counts, strict=True):
        members = order[start : start + count]
        if count <= threshold:
            chosen.append(members)
        else:
            chosen.append(members[(member * threshold + np.arange(threshold)) % count])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)
