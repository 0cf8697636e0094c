#!/usr/bin/env python
"""A targets' photo-z table as a FITS table with units and a qp ensemble.

Options and an example: ``python workflow/scripts/export_photoz.py --help`` (the same as
``photoz export_photoz --help``); what it runs: ``photoz.stages.STAGES["export_photoz"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("export_photoz"))
