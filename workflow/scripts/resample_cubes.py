#!/usr/bin/env python
"""Stage 5: resample every indexed frame into 5-band 64x64 cubes (Lanczos-3, SWarp-identical).

Options and an example: ``python workflow/scripts/resample_cubes.py --help`` (the same as
``photoz resample_cubes --help``); what it runs: ``photoz.stages.STAGES["resample_cubes"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("resample_cubes"))
