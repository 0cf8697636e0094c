"""The report's figures: their names (file stems, in page order) and captions.

The captions live once, in ``workflow/report/<name>.rst``, which Snakemake's report
reads; the HTML page reads the same files. The rules take :data:`FIGURES` from here.
"""

from __future__ import annotations

from ..config import WORKFLOW_ROOT

CAPTIONS_DIR = WORKFLOW_ROOT / "workflow" / "report"

FIGURES: tuple[str, ...] = (
    "zphot_vs_zspec",
    "residuals",
    "pit",
    "redshift_distributions",
    "sigma_mad_vs_r",
    "sigma_mad_vs_snr",
    "tomographic",
    "gallery",
    "training_curves",
)


def caption(name: str) -> str:
    """The caption of figure ``name`` (its ``workflow/report/<name>.rst``)."""
    return (CAPTIONS_DIR / f"{name}.rst").read_text().strip()
