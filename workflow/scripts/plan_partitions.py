#!/usr/bin/env python
"""Stage 2: split the catalog into compact sky partitions (one Parquet file each).

Example, by hand: ``python workflow/scripts/plan_partitions.py --configfile config.yaml``
"""

from __future__ import annotations

import argparse
import logging
import sys

import numpy as np

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import add_config_arguments, resolve_config, setup_logging
from photoz.partitions import PartitionParams, plan_partitions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--catalog", default="results/catalog/catalog.parquet", help="input catalog")
    parser.add_argument("--outdir", default="results/partitions", help="output directory")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    config = resolve_config(args)
    parts = plan_partitions(args.catalog, args.outdir, PartitionParams(**config["partitions"]))
    sizes = np.bincount(parts)
    logging.getLogger("plan_partitions").info(
        "%d partitions, %d galaxies, largest %d", sizes.size, sizes.sum(), sizes.max()
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
