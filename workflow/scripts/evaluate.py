#!/usr/bin/env python
"""Stage 10: metrics of every method (the trained ones, kNN photometry and the catalog's
photo-z column) per fold and subset, with the bias diagnostics.

Options and an example: ``python workflow/scripts/evaluate.py --help`` (the same as
``photoz evaluate --help``); what it runs: ``photoz.stages.STAGES["evaluate"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("evaluate"))
