#!/usr/bin/env python
"""Stage 1 for the targets: galaxies without spectra, on the training catalog's sky.

Options and an example: ``python workflow/scripts/query_targets.py --help`` (the same as
``photoz query_targets --help``); what it runs: ``photoz.stages.STAGES["query_targets"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("query_targets"))
