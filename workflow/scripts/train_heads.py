#!/usr/bin/env python
"""Stages 7b-7c: L22 steps 2 and 3 (and variants 3a, 3b) for one (fold k, member m):
the redshift heads retrained on the frozen step 1 member, on its near-balanced subset.
Resumes from the latest checkpoint in OUT_DIR/checkpoints when one exists.

Options and an example: ``python workflow/scripts/train_heads.py --help`` (the same as
``photoz train_heads --help``); what it runs: ``photoz.stages.STAGES["train_heads"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("train_heads"))
