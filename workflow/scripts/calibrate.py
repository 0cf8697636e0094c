#!/usr/bin/env python
"""L22 step 4: calibrate a method's photo-z (step 3) in (r, z_phot) cells, fold by fold,
with the other folds' out-of-fold photo-z as the calibration set.

Options and an example: ``python workflow/scripts/calibrate.py --help`` (the same as
``photoz calibrate --help``); what it runs: ``photoz.stages.STAGES["calibrate"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("calibrate"))
