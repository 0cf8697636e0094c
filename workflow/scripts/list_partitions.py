#!/usr/bin/env python
"""Summarise the planned partitions (galaxy count and sky extent of each) as TSV.

Options and an example: ``python workflow/scripts/list_partitions.py --help`` (the same as
``photoz list_partitions --help``); what it runs: ``photoz.stages.STAGES["list_partitions"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("list_partitions"))
