"""Make ``workflow/photoz`` importable when a stage script runs from a checkout.

The library is normally pip-installed (``pip install -e .``); this keeps the scripts
working without that, e.g. inside a ``--sdm conda`` environment.
"""

import sys
from pathlib import Path

_WORKFLOW = str(Path(__file__).resolve().parents[1])
if _WORKFLOW not in sys.path:
    sys.path.insert(0, _WORKFLOW)
