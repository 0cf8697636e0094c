#!/usr/bin/env python
"""Photometry-only baseline: k nearest neighbours in (r, u-g, g-r, r-i, i-z) on the
CNN's folds, PDFs from the neighbours' redshift histograms.

Options and an example: ``python workflow/scripts/knn_photometry.py --help`` (the same as
``photoz knn_photometry --help``); what it runs: ``photoz.stages.STAGES["knn_photometry"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("knn_photometry"))
