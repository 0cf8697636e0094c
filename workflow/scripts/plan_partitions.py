#!/usr/bin/env python
"""Stage 2: split the catalog into compact sky partitions (one Parquet file each).

Options and an example: ``python workflow/scripts/plan_partitions.py --help`` (the same as
``photoz plan_partitions --help``); what it runs: ``photoz.stages.STAGES["plan_partitions"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("plan_partitions"))
