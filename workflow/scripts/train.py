#!/usr/bin/env python
"""Stage 7: train one ensemble member (fold k, member m) of a network method: the P19
classifier (baseline) or L22 step 1 (the same network, multi-channel output).
Resumes from the latest checkpoint in OUT_DIR/checkpoints when one exists.

Options and an example: ``python workflow/scripts/train.py --help`` (the same as
``photoz train --help``); what it runs: ``photoz.stages.STAGES["train"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("train"))
