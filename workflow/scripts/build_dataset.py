#!/usr/bin/env python
"""Stage 6: assign the cross-validation folds and write TFRecord shards, their Parquet
twins, a manifest with checksums and the dataset catalog.

Options and an example: ``python workflow/scripts/build_dataset.py --help`` (the same as
``photoz build_dataset --help``); what it runs: ``photoz.stages.STAGES["build_dataset"]``.
"""

import sys

import _bootstrap  # noqa: F401  (puts workflow/ on sys.path)

# isort: split
from photoz.cli import run_stage

if __name__ == "__main__":
    sys.exit(run_stage("build_dataset"))
