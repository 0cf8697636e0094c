"""Stage 11, ``report``: the figures and one self-contained HTML page.

``results/report/index.html`` embeds every figure (base64 PNG, so the page can be
mailed or archived alone) beside the tables of ``metrics.json``, the run's configuration
and the data provenance, with a banner when the data are the synthetic survey.
"""

from __future__ import annotations

import base64
import html
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..dataset.shards import SHARD_KIND, read_manifest
from ..io import atomic_path
from ..tables import read_table
from . import figures
from .captions import FIGURES, caption
from .evaluated_galaxies import load_methods
from .stage import read_metrics

log = logging.getLogger(__name__)

N_GALLERY = 8
_HISTORY = re.compile(r"(?P<method>[^/]+)/fold(?P<fold>\d+)/member(?P<member>\d+)/history\.csv$")


def gallery_examples(table: pd.DataFrame, n: int = N_GALLERY) -> pd.DataFrame:
    """``n`` test galaxies spread over the z_spec range (deterministic)."""
    ordered = table.sort_values(["z_spec", "objid"]).reset_index(drop=True)
    picks = np.unique(np.linspace(0, len(ordered) - 1, n).round().astype(int))
    return ordered.loc[picks, ["objid", "z_spec"]].reset_index(drop=True)


def read_cubes_of(manifest_path: str, objids: set[int]) -> dict[int, np.ndarray]:
    """The (5, 64, 64) cubes of ``objids`` from the dataset's Parquet shards."""
    manifest = read_manifest(manifest_path)
    found: dict[int, np.ndarray] = {}
    for path in manifest.loc[manifest["format"] == "parquet", "abspath"]:
        ids = read_table(path, SHARD_KIND, columns=["objid"]).frame["objid"].to_numpy()
        rows = np.flatnonzero(np.isin(ids, list(objids)))
        if len(rows):
            cubes = read_table(path, SHARD_KIND, columns=["cube"]).arrays["cube"]
            found.update({int(ids[r]): cubes[r] for r in rows})
    missing = set(objids) - set(found)
    if missing:
        raise ValueError(f"galaxy {min(missing)} is not in the dataset shards of {manifest_path}")
    return found


def read_histories(paths: list[str]) -> dict[str, pd.DataFrame]:
    """``{"fold{k}/member{m}": history}`` (method prefix when there are several)."""
    out = {}
    for path in paths:
        match = _HISTORY.search(str(path).replace("\\", "/"))
        if not match:
            raise ValueError(f"{path}: not a results/models/<method>/fold<k>/member<m>/history.csv")
        out[f"fold{match['fold']}/member{match['member']}/{match['method']}"] = pd.read_csv(path)
    return out


def make_figures(
    metrics: dict,
    tables: dict[str, pd.DataFrame],
    manifest: str,
    histories: dict[str, pd.DataFrame],
    z_max: float,
    out_dir: Path,
) -> dict[str, Path]:
    """Draw every figure of :data:`~.captions.FIGURES` into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / f"{name}.png" for name in FIGURES}
    methods = metrics["methods"]
    figures.zphot_vs_zspec(tables, methods, z_max, paths["zphot_vs_zspec"])
    figures.residuals(methods, paths["residuals"])
    figures.pit_histograms(tables, paths["pit"])
    figures.redshift_distributions(tables, z_max, paths["redshift_distributions"])
    figures.sigma_mad_vs(methods, "sigma_mad_vs_r", "dereddened r (Petrosian)", paths["sigma_mad_vs_r"])
    figures.sigma_mad_vs(methods, "sigma_mad_vs_snr", "r-band SNR", paths["sigma_mad_vs_snr"], log_x=True)
    figures.tomographic_offsets(methods, paths["tomographic"])
    first = next(iter(tables.values()))
    examples = gallery_examples(first)
    figures.gallery(
        examples, read_cubes_of(manifest, set(examples["objid"])), tables, z_max, paths["gallery"]
    )
    figures.training_curves(histories, paths["training_curves"])
    return paths


def _table_html(table: pd.DataFrame, percent: tuple[str, ...] = ("outlier_fraction",)) -> str:
    def fmt(column: str, value) -> str:
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        if isinstance(value, int | np.integer) or column == "n":
            return f"{int(value):d}" if pd.notna(value) else "–"
        if isinstance(value, float | np.floating):
            if not np.isfinite(value):
                return "–"
            return f"{100 * value:.2f}" if column in percent else f"{value:.5f}"
        return html.escape(str(value))

    headers = "".join(f"<th>{html.escape(c)}{' (%)' if c in percent else ''}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{fmt(c, v)}</td>" for c, v in zip(table.columns, row, strict=True)) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return f'<table class="numbers"><thead><tr>{headers}</tr></thead><tbody>{body}</tbody></table>'


def method_setup(name: str, config: dict) -> str:
    """How a method was made, in a few words: network, pixel transform, step 1's start
    (from scratch as L22, or from the trained baseline), what a calibration calibrates."""
    from ..methods import METHODS
    from ..models.member import method_train_params

    if name == "knn":
        return f"photometry kNN (k = {config['knn']['k']})"
    if name not in METHODS:
        return "the catalog's photo-z column"
    spec = METHODS[name]
    if spec.kind == "calibration":
        return f"{spec.of} + (r, z_phot) cell calibration"
    params = method_train_params(config, name)
    text = f"{params.network}, pixels {params.pixel_transform}"
    if spec.output == "channels":
        start = "the trained baseline" if config["lin2022"]["step1_init"] == "baseline" else "scratch"
        text += f", step 1 from {start}"
        if spec.kind == "heads":
            text += ", heads on the " + ("balanced subset" if spec.balanced else "whole training set")
    return text


def comparison_table(metrics: dict, config: dict) -> pd.DataFrame:
    """One row per method: how it was made, full-sample metrics, slope above 0.15 and TV
    distances (of z_phot, of its no-collapse reference, of the PDF mode)."""
    rows = []
    for name, res in metrics["methods"].items():
        full = res["subsets"].iloc[0].drop("subset").to_dict()
        rows.append(
            {
                "method": name,
                "setup": method_setup(name, config),
                **full,
                "slope_above_0.15": res["slope_above_0.15"],
                "tv_distance": res["tv_distance"],
                "tv_distance_error": res["tv_distance_error"],
                "tv_reference": res["tv_reference"],
                "tv_distance_pdf_mode": res["tv_distance_pdf_mode"],
                "zphot_outside_range": res["zphot_outside_range"],
                "pdf_mass_outside_range": res["pdf_mass_outside_range"],
            }
        )
    return pd.DataFrame(rows)


#: Columns shown in %.
RATE_COLUMNS = (
    "outlier_fraction",
    "outlier_fraction_error",
    "outlier_fraction_rail",
    "outlier_fraction_rail_error",
)


def estimator_comparison_table(metrics: dict) -> pd.DataFrame:
    """Every method's estimators table (:func:`photoz.evaluation.summary.estimator_table`)
    stacked, one row per (method, point estimate)."""
    tables = [res["estimators"].assign(method=name) for name, res in metrics["methods"].items()]
    table = pd.concat(tables, ignore_index=True)
    return table[["method", *[c for c in table.columns if c != "method"]]]


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
.banner { background: #fff3cd; border: 2px solid #e0a800; padding: 0.8em 1em; font-weight: bold; }
table.numbers { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
table.numbers th, table.numbers td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
table.numbers th { background: #f0f0f0; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; } pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
"""


def render_html(metrics: dict, figure_paths: dict[str, Path], config: dict) -> str:
    """The report page with embedded figures."""
    prov = metrics["provenance"]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Photo-z report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Photometric redshifts from galaxy images: report</h1>",
    ]
    if prov.get("synthetic"):
        parts.append(
            '<p class="banner" id="synthetic-banner">Synthetic survey: every number and figure below comes '
            "from the built-in simulated SDSS-like sky (catalog backend 'synthetic'), not from SDSS data. "
            "They test the pipeline and the methods; they are not SDSS results.</p>"
        )
    parts.append("<h2>Data provenance</h2>")
    parts.append(
        _table_html(
            pd.DataFrame([{k: str(v) for k, v in prov.items()}])
            .T.reset_index()
            .set_axis(["item", "value"], axis=1)
        )
    )
    parts.append("<h2>Summary: all methods on the same test galaxies</h2>")
    parts.append(_table_html(comparison_table(metrics, config)))
    parts.append(
        "<h2>Like with like: both point estimates, both metric conventions</h2>"
        "<p>Every method with PDFs by its PDF mean (P19's estimator) and mode (L22's); P19's "
        "conventions (mean bias, sigma_MAD, |dz| &gt; 0.05) beside RAIL's (median bias, "
        "sigma_IQR, |dz| &gt; max(0.06, 3 sigma_IQR)) and the slope of the binned residual "
        "above z_spec = 0.15; errors are bootstrap standard deviations.</p>"
    )
    parts.append(_table_html(estimator_comparison_table(metrics), percent=RATE_COLUMNS))
    for name, res in metrics["methods"].items():
        parts.append(f"<h2>Method {html.escape(name)}</h2><h3>Per fold (P19 Table 1 layout)</h3>")
        parts.append(_table_html(res["folds"]))
        parts.append("<h3>Subsets (P19 Table 2 layout)</h3>")
        parts.append(_table_html(res["subsets"]))
        parts.append("<h3>Mean redshift per tomographic z_phot bin</h3>")
        parts.append(_table_html(res["tomographic"]))
    parts.append("<h2>Figures</h2>")
    for name, path in figure_paths.items():
        data = base64.b64encode(Path(path).read_bytes()).decode()
        parts.append(
            f'<figure id="fig-{name}"><img alt="{name}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption(name))}</figcaption></figure>"
        )
    parts.append("<h2>Configuration of this run</h2><pre>")
    parts.append(html.escape(yaml.safe_dump(config, sort_keys=False)))
    parts.append("</pre></body></html>")
    return "\n".join(parts)


def report(
    metrics_path: str,
    photoz_files: dict[str, str],
    dataset_catalog: str,
    manifest: str,
    history_paths: list[str],
    config: dict,
    out_dir: str,
) -> Path:
    """Draw the figures and write ``index.html`` into ``out_dir``; returns the page."""
    metrics = read_metrics(metrics_path)
    tables = load_methods(photoz_files, dataset_catalog)
    z_max = float(metrics["config"]["z_max"])
    out = Path(out_dir)
    paths = make_figures(metrics, tables, manifest, read_histories(history_paths), z_max, out / "figures")
    page = out / "index.html"
    with atomic_path(page) as tmp:
        tmp.write_text(render_html(metrics, paths, config), encoding="utf-8")
    log.info("report: %s (%d figures)", page, len(paths))
    return page
