#!/usr/bin/env python
"""Stage 1: run the P19 catalog query (or simulate it) and write the catalog.

Example, by hand: ``python workflow/scripts/query_catalog.py --configfile config.yaml``
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.catalog.query import run_query_catalog
from photoz.catalog.selection import CatalogError
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.synthetic.calibration import CalibrationError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--catalog", default="results/catalog/catalog.parquet", help="output catalog")
    parser.add_argument(
        "--rejected", default="results/catalog/rejected.parquet", help="output: rejected rows"
    )
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    try:
        run_query_catalog(config, args.catalog, args.rejected)
    except (CatalogError, CalibrationError) as exc:
        print(f"query_catalog: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
