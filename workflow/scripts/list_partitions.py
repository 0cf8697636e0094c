#!/usr/bin/env python
"""Summarise the planned partitions (galaxy count and sky extent of each) as TSV.

Example, by hand: ``python workflow/scripts/list_partitions.py results/partitions/*.parquet``
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.io import atomic_path
from photoz.partitions import summarize_partitions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("partitions", nargs="+", help="partition Parquet files")
    parser.add_argument("--out", default="results/catalog/partitions.tsv", help="output TSV")
    args = parser.parse_args(argv)
    summary = summarize_partitions(args.partitions)
    with atomic_path(args.out) as tmp:
        summary.to_csv(tmp, sep="\t", index=False, float_format="%.6f")
    print(summary.to_string(index=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
