#!/usr/bin/env python
"""Stage 10: metrics of every method (the trained ones, kNN photometry and the catalog's
photo-z column) per fold and subset, with the bias diagnostics of method-spec §3.

Example, by hand:
  python workflow/scripts/evaluate.py --configfile config.yaml \\
      --photoz results/photoz/baseline.parquet results/photoz/knn.parquet \\
      --dataset-catalog results/dataset/catalog.parquet \\
      --catalog results/catalog/catalog.parquet --out-dir results/report
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.evaluation.stage import run_evaluate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photoz", nargs="+", required=True, help="results/photoz/<method>.parquet files")
    parser.add_argument("--dataset-catalog", required=True, help="results/dataset/catalog.parquet")
    parser.add_argument("--catalog", required=True, help="results/catalog/catalog.parquet (provenance)")
    parser.add_argument("--out-dir", required=True, help="where metrics.json/.csv and diagnostics.csv go")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    files = {Path(p).stem: p for p in args.photoz}
    cfg = {**config["evaluate"], "z_max": config["training"]["z_max"]}
    try:
        run_evaluate(files, args.dataset_catalog, args.catalog, args.out_dir, cfg)
    except ValueError as exc:
        sys.exit(f"evaluate: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
