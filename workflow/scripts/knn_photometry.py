#!/usr/bin/env python
"""Photometry-only baseline: k nearest neighbours in (r, u-g, g-r, r-i, i-z) on the
CNN's folds, PDFs from the neighbours' redshift histograms.

Example, by hand:
  python workflow/scripts/knn_photometry.py --configfile config.yaml \\
      --dataset-catalog results/dataset/catalog.parquet --out results/photoz/knn.parquet
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
import pandas as pd

from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.models.knn import knn_photoz
from photoz.tables import write_photoz


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset-catalog", required=True, help="results/dataset/catalog.parquet")
    parser.add_argument("--out", required=True, help="output photo-z table (Parquet)")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    training, k = config["training"], config["knn"]["k"]
    try:
        table = knn_photoz(pd.read_parquet(args.dataset_catalog), k, training["n_bins"], training["z_max"])
    except ValueError as exc:
        sys.exit(f"knn_photometry: {exc}")
    meta = {"method": "knn", "k": k, "z_min": 0.0, "z_max": training["z_max"], "point_estimate": "mean"}
    write_photoz(table, args.out, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
