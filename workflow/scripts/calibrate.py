#!/usr/bin/env python
"""L22 step 4: calibrate a method's photo-z (step 3) in (r, z_phot) cells, fold by fold,
with the other folds' out-of-fold photo-z as the calibration set.

Example, by hand:
  python workflow/scripts/calibrate.py --configfile config.yaml \\
      --photoz results/photoz/step3.parquet --dataset-catalog results/dataset/catalog.parquet \\
      --out results/photoz/step4.parquet
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.lin2022.calibration import calibrate_method


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--photoz", required=True, help="the method's photo-z table (results/photoz/step3.parquet)"
    )
    parser.add_argument("--dataset-catalog", required=True, help="results/dataset/catalog.parquet")
    parser.add_argument("--out", required=True, help="calibrated photo-z table (Parquet)")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    lin, z_max = config["lin2022"], config["training"]["z_max"]
    try:
        calibrate_method(
            args.photoz,
            args.dataset_catalog,
            args.out,
            lin["calibration_z_width"],
            z_max,
            lin["seed"],
            resample=lin["calibration_resample"],
        )
    except ValueError as exc:
        sys.exit(f"calibrate: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
