#!/usr/bin/env python
"""Stage 9: average each fold's member PDFs; write the method's photo-z table
(objid, fold, z_spec, z_phot, pdf, width68, pit, crps, members' z_phot).

Options and an example: ``python workflow/scripts/ensemble.py --help`` (the same as
``photoz ensemble --help``); what it runs: ``photoz.stages.STAGES["ensemble"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("ensemble"))
