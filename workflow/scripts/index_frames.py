#!/usr/bin/env python
"""Stage 3: index every frame (all runs, epochs and bands) overlapping each galaxy's cutout.

Example, by hand:
  python workflow/scripts/index_frames.py --configfile config.yaml \\
      --partition results/partitions/part0000.parquet \\
      --out results/frames/index/part0000.parquet --frames-dir resources/frames/partitions/part0000
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.catalog.selection import CatalogError
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.frames.stage import run_index_frames


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partition", required=True, help="partition catalog (Parquet)")
    parser.add_argument("--out", required=True, help="output index (Parquet)")
    parser.add_argument("--frames-dir", required=True, help="the partition's frame directory")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    try:
        run_index_frames(config, args.partition, args.out, args.frames_dir)
    except CatalogError as exc:
        print(f"index_frames: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
