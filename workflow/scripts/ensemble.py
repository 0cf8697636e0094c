#!/usr/bin/env python
"""Stage 9: average each fold's member PDFs; write the method's photo-z table
(objid, fold, z_spec, z_phot = PDF mean, pdf, width68, pit, crps, members' z_phot).

Example, by hand:
  python workflow/scripts/ensemble.py --configfile config.yaml \\
      --predictions results/predictions/baseline/fold*/member*.parquet \\
      --dataset-catalog results/dataset/catalog.parquet --out results/photoz/baseline.parquet
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.models.ensemble import ensemble_method


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--predictions", nargs="+", required=True, help=".../fold<k>/member<m>.parquet files")
    parser.add_argument("--dataset-catalog", required=True, help="results/dataset/catalog.parquet")
    parser.add_argument("--out", required=True, help="output photo-z table (Parquet)")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    resolve_config(args)  # validates the config file like every stage
    try:
        ensemble_method(args.predictions, args.dataset_catalog, args.out)
    except ValueError as exc:
        sys.exit(f"ensemble: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
