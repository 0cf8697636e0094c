#!/usr/bin/env python
"""Every target galaxy without (full) photo-z, and why.

Options and an example: ``python workflow/scripts/list_missing_targets.py --help`` (the same as
``photoz list_missing_targets --help``); what it runs: ``photoz.stages.STAGES["list_missing_targets"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("list_missing_targets"))
