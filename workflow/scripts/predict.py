#!/usr/bin/env python
"""Stage 8: the PDFs of trained members.

Options and an example: ``python workflow/scripts/predict.py --help`` (the same as
``photoz predict --help``); what it runs: ``photoz.stages.STAGES["predict"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("predict"))
