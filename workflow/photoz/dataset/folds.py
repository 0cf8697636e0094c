"""Cross-validation folds and the validation sample, deterministic from (objid, seed).

P19 protocol (docs/methods.md): five disjoint 20% test folds so that every galaxy is
tested exactly once; model k trains on the other folds minus a validation sample that
only monitors training. Here the validation sample is one fixed set V (a share of every
fold): model k monitors on V outside fold k and trains on the rest outside fold k, so
V is never trained on and each galaxy is still tested once.

Assignments come from a 64-bit hash of (objid, seed), not from a random generator's
state, so a galaxy's fold does not depend on the order of the catalog.
"""

from __future__ import annotations

import numpy as np

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def hash_objids(objids: np.ndarray, salt: int) -> np.ndarray:
    """SplitMix64 of ``objid`` xor a salt-derived key: uniform uint64, platform-independent."""
    x = np.asarray(objids).astype(np.uint64) ^ np.uint64((salt * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
    return x ^ (x >> np.uint64(31))


def _rank(objids: np.ndarray, salt: int) -> np.ndarray:
    """Positions of the galaxies sorted by hash (ties, ~never, broken by objid)."""
    return np.lexsort((np.asarray(objids, dtype=np.uint64), hash_objids(objids, salt)))


def assign_folds(objids: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Test fold (0..n_folds-1) of every galaxy; fold sizes differ by at most one."""
    objids = np.asarray(objids)
    if len(np.unique(objids)) != len(objids):
        raise ValueError("duplicate objids: fold assignment needs unique galaxies")
    folds = np.empty(len(objids), dtype=np.int8)
    folds[_rank(objids, seed)] = np.arange(len(objids)) % n_folds
    return folds


def select_validation(objids: np.ndarray, folds: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """The validation set V: round(fraction * n) galaxies of each fold, chosen by hash."""
    objids = np.asarray(objids)
    chosen = np.zeros(len(objids), dtype=bool)
    for fold in np.unique(folds):
        members = np.flatnonzero(folds == fold)
        n_val = int(round(fraction * len(members)))
        order = _rank(objids[members], seed + 1_000_003)
        chosen[members[order[:n_val]]] = True
    return chosen
