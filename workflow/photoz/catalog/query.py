"""Run the catalog stage: query (or simulate), select, reject, write.

Output: ``catalog.parquet`` (one row per galaxy, sorted by objid) whose Parquet
metadata records the backend, SQL text, data release, seed and the row counts before
and after every cut, and ``rejected.parquet`` (rows removed for missing values or
duplicate objects, with a reason).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ..tables import write_table
from .selection import CatalogError, SelectionParams, apply_selection, passes_selection, reject_incomplete
from .sql import render_sql

log = logging.getLogger(__name__)

BACKENDS = ("synthetic", "skyserver", "casjobs", "file")


def selection_params(catalog_cfg: dict[str, Any]) -> SelectionParams:
    """The cut values of the ``catalog`` config section."""
    return SelectionParams(
        r_mag_limit=float(catalog_cfg["r_mag_limit"]),
        z_min=float(catalog_cfg["z_min"]),
        z_max=float(catalog_cfg["z_max"]),
    )


def _synthetic(cfg: dict[str, Any], selection: SelectionParams) -> tuple[pd.DataFrame, dict]:
    from ..synthetic.survey import SyntheticSurvey, SyntheticSurveyConfig

    scfg = SyntheticSurveyConfig(
        **{k: v for k, v in cfg["synthetic"].items()},
        r_mag_limit=selection.r_mag_limit,
        z_min=selection.z_min,
        z_max=selection.z_max,
    )
    survey = SyntheticSurvey(scfg)
    passes = passes_selection(selection)
    raw = survey.simulate_candidates(scfg.n_galaxies, passes)
    raw = survey.add_photoz_column(raw, passes)
    return raw, {"seed": scfg.seed, "synthetic": survey.describe()}


def fetch_raw(cfg: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    """The backend's table (before local selection) and its provenance."""
    ccfg = cfg["catalog"]
    backend = ccfg["backend"]
    selection = selection_params(ccfg)
    template = ccfg["sql_template"]
    release = int(ccfg["data_release"])
    if backend == "synthetic":
        return _synthetic(cfg, selection)
    if backend == "skyserver":
        from .skyserver import SkyServerParams, query_skyserver

        return query_skyserver(selection, release, SkyServerParams(**ccfg["skyserver"]), template)
    if backend == "casjobs":
        from .casjobs import CasJobsParams, query_casjobs

        return query_casjobs(selection, release, CasJobsParams(**ccfg["casjobs"]), template)
    if backend == "file":
        from .filebackend import read_user_catalog

        path = (ccfg.get("file") or {}).get("path")
        if not path:
            raise CatalogError("catalog.file.path: required when catalog.backend is 'file'")
        return read_user_catalog(path), {"file": str(path)}
    raise CatalogError(f"catalog.backend: unknown backend {backend!r}; choose one of {BACKENDS}")


def query_catalog(cfg: dict[str, Any], out_catalog: str | Path, out_rejected: str | Path) -> dict:
    """Produce the catalog and the rejected table; return the provenance written."""
    ccfg = cfg["catalog"]
    selection = selection_params(ccfg)
    raw, provenance = fetch_raw(cfg)
    source = f"catalog backend {ccfg['backend']}"
    selected, cut_counts = apply_selection(raw, selection, source)
    kept, rejected = reject_incomplete(selected, source)
    kept = kept.sort_values("objid").reset_index(drop=True)
    if kept.empty:
        raise CatalogError(f"{source}: no galaxy survives the selection ({cut_counts})")
    meta = {
        "backend": ccfg["backend"],
        "data_release": int(ccfg["data_release"]),
        "selection": vars(selection),
        "sql": provenance.pop("sql", None) or render_sql(selection, ccfg["sql_template"]),
        "cut_counts": cut_counts,
        "rows_raw": len(raw),
        "rows_rejected": len(rejected),
        "rows_final": len(kept),
        "seed": provenance.pop("seed", None),
        **provenance,
    }
    write_table(kept, out_catalog, meta)
    write_table(rejected.reset_index(drop=True), out_rejected, {"backend": ccfg["backend"]})
    log.info("catalog: %d galaxies written to %s (%d rejected)", len(kept), out_catalog, len(rejected))
    return meta
