#!/usr/bin/env python
"""Stage 7: train one ensemble member (fold k, member m) of a network method: the P19
classifier (baseline) or L22 step 1 (the same network, multi-channel output).

Resumes from the latest checkpoint in OUT_DIR/checkpoints when one exists.

Example, by hand:
  python workflow/scripts/train.py --configfile config.yaml \\
      --method baseline --manifest results/dataset/manifest.tsv --fold 0 --member 0 \\
      --out-dir results/models/baseline/fold0/member0
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.dataset.shards import DatasetError
from photoz.models.member import TrainParams
from photoz.models.train import train_member


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--method", default="baseline", help="baseline | step1")
    parser.add_argument("--manifest", required=True, help="dataset manifest (TSV)")
    parser.add_argument("--fold", type=int, required=True, help="test fold of this model")
    parser.add_argument("--member", type=int, required=True, help="ensemble member (seed index)")
    parser.add_argument("--out-dir", required=True, help="model directory (weights, history, checkpoints)")
    parser.add_argument(
        "--init-from", help="trained member directory whose matching layers start this member"
    )
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    try:
        params = TrainParams.from_config(config["training"], args.method)
        train_member(params, args.manifest, args.fold, args.member, args.out_dir, args.init_from)
    except (DatasetError, ValueError) as exc:
        sys.exit(f"train fold {args.fold} member {args.member}: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
