#!/usr/bin/env python
"""Stage 11: the report's figures and results/report/index.html (one self-contained page:
configuration, data provenance, every table of metrics.json and every figure).

Options and an example: ``python workflow/scripts/report.py --help`` (the same as
``photoz report --help``); what it runs: ``photoz.stages.STAGES["report"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("report"))
