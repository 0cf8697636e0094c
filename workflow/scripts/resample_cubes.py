#!/usr/bin/env python
"""Stage 5: resample every indexed frame into 5-band 64x64 cubes (Lanczos-3, SWarp-identical).

Example, by hand:
  python workflow/scripts/resample_cubes.py --configfile config.yaml \\
      --partition results/partitions/part0000.parquet \\
      --index results/frames/index/part0000.parquet \\
      --manifest results/frames/manifest/part0000.parquet \\
      --out results/cubes/part0000.parquet --missing results/cubes/part0000.missing.tsv
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.resample.stage import run_resample_cubes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partition", required=True, help="partition catalog (Parquet)")
    parser.add_argument("--index", required=True, help="frame index of the partition")
    parser.add_argument("--manifest", required=True, help="fetch manifest of the partition")
    parser.add_argument("--out", required=True, help="output cubes (Parquet)")
    parser.add_argument("--missing", required=True, help="output: (galaxy, band) pairs without data (TSV)")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    run_resample_cubes(config, args.partition, args.index, args.manifest, args.out, args.missing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
