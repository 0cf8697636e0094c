"""Photometry-only baseline: k nearest neighbours in magnitude-colour space.

The analogue of the SDSS ``Photoz`` table (Beck et al. 2016) that P19 compared
against, on the same folds as the CNN: features are the dereddened Petrosian r
magnitude and the u-g, g-r, r-i, i-z colours, standardised on the training set; the
PDF of a galaxy is the histogram of its k neighbours' spectroscopic redshifts on the
CNN's bins, and z_phot is that PDF's mean. Trained on every fold but k minus the
validation set, exactly the CNN's training galaxies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from ..metrics.pdf import redshift_to_bin
from .ensemble import summarise


def photometric_features(catalog: pd.DataFrame) -> np.ndarray:
    """(N, 5): r and the four adjacent colours of the dereddened Petrosian magnitudes."""
    mags = catalog[[f"dered_petro_{b}" for b in "ugriz"]].to_numpy(dtype=np.float64)
    return np.column_stack([mags[:, 2], -np.diff(mags, axis=1)])


def knn_photoz(catalog: pd.DataFrame, k: int, n_bins: int, z_max: float) -> pd.DataFrame:
    """The per-galaxy photo-z table of the kNN baseline over all folds of ``catalog``
    (the dataset catalog: fold, validation, in_dataset, z and magnitudes)."""
    usable = catalog[catalog["in_dataset"]].reset_index(drop=True)
    features = photometric_features(usable)
    bad = ~np.isfinite(features).all(axis=1)
    if bad.any():
        raise ValueError(f"galaxy {usable['objid'][bad].iloc[0]}: non-finite dereddened magnitude")
    parts = []
    for fold in sorted(usable["fold"].unique()):
        train = ((usable["fold"] != fold) & ~usable["validation"]).to_numpy()
        test = (usable["fold"] == fold).to_numpy()
        mean, std = features[train].mean(axis=0), features[train].std(axis=0)
        finder = NearestNeighbors(n_neighbors=k).fit((features[train] - mean) / std)
        _, idx = finder.kneighbors((features[test] - mean) / std)
        bins = redshift_to_bin(usable["z"].to_numpy()[train][idx], n_bins, z_max=z_max)
        pdf = np.zeros((test.sum(), n_bins))
        np.add.at(pdf, (np.repeat(np.arange(test.sum()), k), bins.ravel()), 1.0 / k)
        sub = usable[test]
        parts.append(summarise(sub["objid"], sub["fold"], sub["z"], pdf, z_max=z_max))
    return pd.concat(parts, ignore_index=True)


def knn_photometry(config: dict, dataset_catalog: str, out: str) -> pd.DataFrame:
    """The kNN baseline of the dataset catalog with the config's ``knn.k`` and
    ``training`` redshift classes, written as the photo-z table ``out``."""
    from ..tables import write_photoz

    training, k = config["training"], config["knn"]["k"]
    table = knn_photoz(pd.read_parquet(dataset_catalog), k, training["n_bins"], training["z_max"])
    meta = {"method": "knn", "k": k, "z_min": 0.0, "z_max": training["z_max"], "point_estimate": "mean"}
    write_photoz(table, out, meta)
    return table
