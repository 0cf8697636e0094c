#!/usr/bin/env python
"""Stages 7b-7c: L22 steps 2 and 3 (and variants 3a, 3b) for one (fold k, member m):
the redshift heads retrained on the frozen step 1 member, on its near-balanced subset.

Resumes from the latest checkpoint in OUT_DIR/checkpoints when one exists.

Example, by hand:
  python workflow/scripts/train_heads.py --configfile config.yaml --method step3 \\
      --manifest results/dataset/manifest.tsv --dataset-catalog results/dataset/catalog.parquet \\
      --fold 0 --member 0 --step1 results/models/step1/fold0/member0 \\
      --pre-estimates results/predictions/step2/fold[1-4]/member0.parquet \\
      --out-dir results/models/step3/fold0/member0
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.dataset.shards import DatasetError
from photoz.lin2022.heads import HeadParams, train_heads
from photoz.models.member import TrainParams


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--method", required=True, help="step2 | step3 | step3a | step3b")
    parser.add_argument("--manifest", required=True, help="dataset manifest (TSV)")
    parser.add_argument("--dataset-catalog", required=True, help="results/dataset/catalog.parquet")
    parser.add_argument("--fold", type=int, required=True, help="test fold of this model")
    parser.add_argument("--member", type=int, required=True, help="ensemble member (seed and subset index)")
    parser.add_argument("--step1", required=True, help="the step 1 member's model directory")
    parser.add_argument(
        "--pre-estimates",
        nargs="*",
        default=[],
        help="step 2's out-of-fold predictions (step 3 and variants)",
    )
    parser.add_argument("--out-dir", required=True, help="model directory (weights, history, checkpoints)")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    try:
        train_heads(
            args.method,
            TrainParams.from_config(config["training"], "step1"),
            HeadParams.from_config(config["lin2022"]),
            args.manifest,
            args.dataset_catalog,
            args.fold,
            args.member,
            args.step1,
            args.out_dir,
            args.pre_estimates,
        )
    except (DatasetError, ValueError) as exc:
        sys.exit(f"train_heads {args.method} fold {args.fold} member {args.member}: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
