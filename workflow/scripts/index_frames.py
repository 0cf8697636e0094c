#!/usr/bin/env python
"""Stage 3: index every frame (all runs, epochs and bands) overlapping each galaxy's cutout.

Options and an example: ``python workflow/scripts/index_frames.py --help`` (the same as
``photoz index_frames --help``); what it runs: ``photoz.stages.STAGES["index_frames"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("index_frames"))
