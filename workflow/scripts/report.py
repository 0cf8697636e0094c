#!/usr/bin/env python
"""Stage 11: the report's figures and results/report/index.html (one self-contained page:
configuration, data provenance, every table of metrics.json and every figure).

Example, by hand:
  python workflow/scripts/report.py --configfile config.yaml \\
      --metrics results/report/metrics.json \\
      --photoz results/photoz/baseline.parquet results/photoz/knn.parquet \\
      --dataset-catalog results/dataset/catalog.parquet --manifest results/dataset/manifest.tsv \\
      --histories results/models/baseline/fold*/member*/history.csv --out-dir results/report
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.evaluation.report import run_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--metrics", required=True, help="results/report/metrics.json")
    parser.add_argument("--photoz", nargs="+", required=True, help="results/photoz/<method>.parquet files")
    parser.add_argument("--dataset-catalog", required=True, help="results/dataset/catalog.parquet")
    parser.add_argument("--manifest", required=True, help="results/dataset/manifest.tsv (gallery cubes)")
    parser.add_argument("--histories", nargs="+", required=True, help="training history.csv files")
    parser.add_argument("--out-dir", required=True, help="where index.html and figures/ go")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    files = {Path(p).stem: p for p in args.photoz}
    try:
        run_report(
            args.metrics, files, args.dataset_catalog, args.manifest, args.histories, config, args.out_dir
        )
    except ValueError as exc:
        sys.exit(f"report: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
