#!/usr/bin/env python
"""Stage 1: run the P19 catalog query (or simulate it) and write the catalog.

Options and an example: ``python workflow/scripts/query_catalog.py --help`` (the same as
``photoz query_catalog --help``); what it runs: ``photoz.stages.STAGES["query_catalog"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("query_catalog"))
