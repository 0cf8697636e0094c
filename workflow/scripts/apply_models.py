#!/usr/bin/env python
"""Photo-z for the targets: every member of every fold of a method applied and averaged.

Options and an example: ``python workflow/scripts/apply_models.py --help`` (the same as
``photoz apply_models --help``); what it runs: ``photoz.stages.STAGES["apply_models"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("apply_models"))
