"""The README's L22 table is generated from a run's metrics, never typed."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from photoz.evaluation.markdown import (
    BEGIN,
    END,
    comparison_markdown,
    comparison_snapshot,
    generated_block,
    paste,
)

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = "docs/measured/survey10k_lin2022.json"


def test_readme_table_is_what_the_committed_snapshot_renders_to():
    snapshot = json.loads((REPO / SNAPSHOT).read_text())
    readme = (REPO / "README.md").read_text()
    assert generated_block(readme) == comparison_markdown(snapshot, SNAPSHOT)
    methods = {row["method"] for row in snapshot["rows"]}
    assert {"baseline", "baseline_calibrated", "step1", "step2", "step3", "step4", "knn"} <= methods
    assert snapshot["provenance"]["synthetic"] is True and "not SDSS results" in generated_block(readme)


def _metrics() -> dict:
    estimators = pd.DataFrame(
        {
            "estimator": ["mean", "mode"],
            "is_z_phot": [True, False],
            "n": [100.0, 100.0],
            "sigma_mad": [0.0187, 0.0195],
            "sigma_mad_error": [0.0002, 0.0003],
            "bias": [0.0018, -0.0005],
            "bias_error": [0.0002, 0.0003],
            "slope_above_0.15": [-0.048, np.nan],
            "slope_above_0.15_error": [0.015, np.nan],
            "tomographic_max_offset": [0.0029, 0.0082],
            "tomographic_bins_failing": [2.0, 4.0],
        }
    )
    return {
        "provenance": {"backend": "synthetic", "synthetic": True, "seed": 7},
        "methods": {"m": {"estimators": estimators}},
    }


def test_rows_render_with_errors_and_blank_missing_values():
    snapshot = comparison_snapshot(_metrics())
    assert json.loads(json.dumps(snapshot)) == snapshot  # plain JSON, NaN as null
    lines = comparison_markdown(snapshot, "x.json").splitlines()
    assert lines[-2].startswith("| m | mean * | 0.0187 +- 0.0002 | +0.0018 +- 0.0002 |")
    assert lines[-2].endswith("| -0.048 +- 0.015 |  | 0.0029 (2) |")
    assert (
        "| m | mode | 0.0195 +- 0.0003 | -0.0005 +- 0.0003 |" in lines[-1]
        and "|  |  | 0.0082 (4) |" in lines[-1]
    )


def test_paste_replaces_only_the_marked_block():
    document = f"intro\n{BEGIN}\nold table\n{END}\noutro\n"
    pasted = paste(document, "new table")
    assert pasted == f"intro\n{BEGIN}\nnew table\n{END}\noutro\n"
    assert generated_block(pasted) == "new table"
    with pytest.raises(ValueError, match="no .* block"):
        paste("no markers here", "t")
