#!/usr/bin/env python
"""Stage 8: the PDFs of trained members.

For the pipeline: every member of a fold on the fold's test galaxies, one Parquet file
per member (objid, pdf over the redshift bins):
  python workflow/scripts/predict.py --manifest results/dataset/manifest.tsv --fold 0 \\
      --members results/models/baseline/fold0/member{0,1} \\
      --out results/predictions/baseline/fold0/member{0,1}.parquet

For new galaxies (a trained member applied to any cube files; E(B-V) from a catalog):
  python workflow/scripts/predict.py --members results/models/baseline/fold0/member0 \\
      --cubes my_cubes/part*.parquet --catalog my_catalog.parquet --out my_pdfs.parquet
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
import pandas as pd

from photoz.cli import setup_logging
from photoz.models.predict import predict_cubes, predict_fold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", nargs="+", required=True, help="member model directories")
    parser.add_argument("--out", nargs="+", required=True, help="output Parquet file per member")
    parser.add_argument("--manifest", help="dataset manifest (pipeline mode)")
    parser.add_argument("--fold", type=int, help="fold whose test galaxies are predicted")
    parser.add_argument("--cubes", nargs="+", help="cube files to predict instead (new galaxies)")
    parser.add_argument("--catalog", help="catalog with objid and e_bv_sfd for --cubes")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: all)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    if len(args.members) != len(args.out):
        parser.error("give one --out file per --members directory")
    if args.cubes:
        if not args.catalog:
            parser.error("--cubes needs --catalog (for E(B-V))")
        catalog = pd.read_parquet(args.catalog, columns=["objid", "e_bv_sfd"])
        for member, out in zip(args.members, args.out, strict=True):
            predict_cubes(member, catalog, args.cubes, out)
        return 0
    if args.manifest is None or args.fold is None:
        parser.error("pipeline mode needs --manifest and --fold")
    for member, out in zip(args.members, args.out, strict=True):
        predict_fold(member, args.manifest, args.fold, out, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
