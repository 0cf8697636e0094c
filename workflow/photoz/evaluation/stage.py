"""Stage 10, ``evaluate``: every metric of every method into machine-readable files.

Writes, under the output directory:

* ``metrics.json``: provenance (catalog backend, release, seed, synthetic or not) and,
  per method, the fold table (P19 Table 1), the subset table (P19 Table 2), the slope,
  TV distances and every binned diagnostic;
* ``metrics.csv``: one row per (method, table, row) with n, bias, sigma_MAD, outlier
  fraction, mean CRPS, PIT KS statistic and median 68% width;
* ``diagnostics.csv``: the binned diagnostics in long form (method, diagnostic, bin).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_path
from ..tables import read_table_metadata
from .evaluated_galaxies import load_methods
from .summary import diagnostics, estimator_table, fold_table, subset_table

log = logging.getLogger(__name__)

BINNED = ("residual_vs_zspec", "residual_vs_zphot", "sigma_mad_vs_r", "sigma_mad_vs_snr", "tomographic")


def provenance(catalog_path: str) -> dict:
    """Where the data come from, from the catalog's Parquet metadata."""
    meta = read_table_metadata(catalog_path)
    return {
        "backend": meta.get("backend"),
        "synthetic": meta.get("backend") == "synthetic",
        "data_release": meta.get("data_release"),
        "seed": meta.get("seed"),
        "rows_final": meta.get("rows_final"),
        "selection": meta.get("selection"),
        "synthetic_config": (meta.get("synthetic") or {}).get("config"),
    }


def _clean(value):
    """JSON-safe values: NaN/inf become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return _clean(value.to_dict("records"))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def evaluate_methods(photoz_files: dict[str, str], dataset_catalog: str, cfg: dict) -> dict:
    """``{method: {"folds", "subsets", diagnostics...}}`` for every method."""
    results = {}
    for name, table in load_methods(photoz_files, dataset_catalog).items():
        results[name] = {
            "folds": fold_table(table),
            "subsets": subset_table(table),
            "estimators": estimator_table(table, cfg),
            **diagnostics(table, cfg),
        }
        full = results[name]["subsets"].iloc[0]
        log.info(
            "%s: %d galaxies, bias %+.5f, sigma_MAD %.5f, outliers %.2f%%",
            name,
            full["n"],
            full["bias"],
            full["sigma_mad"],
            100 * full["outlier_fraction"],
        )
    return results


def evaluate(
    photoz_files: dict[str, str], dataset_catalog: str, catalog: str, out_dir: str, cfg: dict
) -> dict:
    """Evaluate every method and write metrics.json, metrics.csv and diagnostics.csv."""
    results = evaluate_methods(photoz_files, dataset_catalog, cfg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, binned = [], []
    for name, res in results.items():
        for kind, key in (("folds", "fold"), ("subsets", "subset"), ("estimators", "estimator")):
            for row in res[kind].to_dict("records"):
                rows.append({"method": name, "table": kind, "row": str(row.pop(key)), **row})
        for kind in BINNED:
            binned.append(res[kind].assign(method=name, diagnostic=kind))
    document = {"provenance": provenance(catalog), "config": cfg, "methods": results}
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(_clean(document), indent=1))
    with atomic_path(out / "metrics.csv") as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    long = pd.concat(binned, ignore_index=True)
    long = long[["method", "diagnostic", *[c for c in long.columns if c not in ("method", "diagnostic")]]]
    with atomic_path(out / "diagnostics.csv") as tmp:
        long.to_csv(tmp, index=False)
    return results


def read_metrics(path: str | Path) -> dict:
    """metrics.json with every table back as a DataFrame."""
    document = json.loads(Path(path).read_text())
    for res in document["methods"].values():
        for kind in ("folds", "subsets", "estimators", *BINNED):
            table = pd.DataFrame(res[kind])
            for column in table.columns.difference(["fold", "subset", "estimator", "meets", "is_z_phot"]):
                table[column] = pd.to_numeric(table[column]).astype(float)
            res[kind] = table
    return document
