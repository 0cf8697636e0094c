#!/usr/bin/env python
"""L22 step 4 for the targets, from the cross-validated step 3 photo-z.

Options and an example: ``python workflow/scripts/calibrate_targets.py --help`` (the same as
``photoz calibrate_targets --help``); what it runs: ``photoz.stages.STAGES["calibrate_targets"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("calibrate_targets"))
