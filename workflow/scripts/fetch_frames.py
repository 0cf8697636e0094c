#!/usr/bin/env python
"""Stage 4: render (synthetic survey) or download (SDSS SAS) a partition's indexed frames.

Example, by hand:
  python workflow/scripts/fetch_frames.py --configfile config.yaml \\
      --index results/frames/index/part0000.parquet \\
      --manifest results/frames/manifest/part0000.parquet --threads 2
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.frames.stage import run_fetch_frames


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", required=True, help="the partition's frame index (Parquet)")
    parser.add_argument("--catalog", default="results/catalog/catalog.parquet", help="full catalog")
    parser.add_argument("--manifest", required=True, help="output manifest (Parquet)")
    parser.add_argument("--threads", type=int, default=1, help="parallel renderers / downloads")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    manifest = run_fetch_frames(config, args.index, args.catalog, args.manifest, args.threads)
    failed = int((manifest["status"] == "failed").sum())
    print(f"fetch_frames: {len(manifest)} frames, {failed} failed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
