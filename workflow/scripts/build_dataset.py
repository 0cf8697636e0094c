#!/usr/bin/env python
"""Stage 6: assign the cross-validation folds and write TFRecord shards, their Parquet
twins, a manifest with checksums and the dataset catalog.

Example, by hand:
  python workflow/scripts/build_dataset.py --configfile config.yaml \\
      --catalog results/catalog/catalog.parquet --cubes results/cubes/part*.parquet \\
      --out-catalog results/dataset/catalog.parquet --manifest results/dataset/manifest.tsv \\
      --shards results/dataset/shards --parquet results/dataset/parquet

Check an existing dataset (sizes and SHA-256 of every shard):
  python workflow/scripts/build_dataset.py --verify results/dataset/manifest.tsv
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.dataset.shards import DatasetError, verify_manifest
from photoz.dataset.stage import DatasetInputError, run_build_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--verify", metavar="MANIFEST", help="only verify the shards of MANIFEST")
    parser.add_argument("--catalog", help="input catalog (Parquet)")
    parser.add_argument("--cubes", nargs="+", help="input cube files, one per partition")
    parser.add_argument("--out-catalog", help="output dataset catalog (Parquet)")
    parser.add_argument("--manifest", help="output shard manifest (TSV)")
    parser.add_argument("--shards", help="output directory of the TFRecord shards")
    parser.add_argument("--parquet", help="output directory of the Parquet shards")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        if args.verify:
            manifest = verify_manifest(args.verify)
            print(f"{len(manifest)} files verified against {args.verify}")
            return 0
        needed = ("catalog", "cubes", "out_catalog", "manifest", "shards", "parquet")
        absent = [f"--{n.replace('_', '-')}" for n in needed if not getattr(args, n)]
        if absent:
            parser.error(f"missing arguments: {' '.join(absent)}")
        config = resolve_config(args)
        run_build_dataset(
            config, args.catalog, args.cubes, args.out_catalog, args.manifest, args.shards, args.parquet
        )
    except (DatasetError, DatasetInputError) as exc:
        sys.exit(f"build_dataset: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
