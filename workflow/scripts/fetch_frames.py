#!/usr/bin/env python
"""Stage 4: render (synthetic survey) or download (SDSS SAS) a partition's indexed frames.

Options and an example: ``python workflow/scripts/fetch_frames.py --help`` (the same as
``photoz fetch_frames --help``); what it runs: ``photoz.stages.STAGES["fetch_frames"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("fetch_frames"))
