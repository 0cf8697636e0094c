"""Run the catalog stage: query (or simulate), select, reject, write.

Output: ``catalog.parquet`` (one row per galaxy, sorted by objid) whose Parquet
metadata records the backend, SQL text, data release, seed and the row counts before
and after every cut, ``rejected.parquet`` (rows removed for missing or invalid values
or duplicate objects, with a reason) and ``without_spectra.parquet`` (the synthetic
sky's MGS targets that got no spectrum: on the frames, and the synthetic targets; empty
for real skies).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ..tables import write_table
from .columns import require_numeric
from .selection import (
    MGS_TARGET_CUTS,
    CatalogError,
    SelectionParams,
    apply_selection,
    passes_selection,
    reject_incomplete,
    reject_unselectable,
)
from .sql import render_sql

log = logging.getLogger(__name__)

BACKENDS = ("synthetic", "skyserver", "casjobs", "file")


def selection_params(catalog_cfg: dict[str, Any]) -> SelectionParams:
    """The cut values and region of the ``catalog`` config section."""
    return SelectionParams(
        r_mag_limit=float(catalog_cfg["r_mag_limit"]),
        z_min=float(catalog_cfg["z_min"]),
        z_max=float(catalog_cfg["z_max"]),
        region=catalog_cfg.get("region"),
    )


def _synthetic(cfg: dict[str, Any], selection: SelectionParams) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The simulated query's table, the sky's galaxies without spectra, the provenance."""
    from ..synthetic.survey import SyntheticSurvey, SyntheticSurveyConfig

    scfg = SyntheticSurveyConfig(
        **{k: v for k, v in cfg["synthetic"].items()},
        r_mag_limit=selection.r_mag_limit,
        z_min=selection.z_min,
        z_max=selection.z_max,
    )
    survey = SyntheticSurvey(scfg)
    # The sky is simulated whole; a region is a cut on it, counted like the others.
    sky = dataclasses.replace(selection, region=None)
    passes = passes_selection(sky)
    raw = survey.simulate_candidates(scfg.n_galaxies, passes)
    raw = survey.add_photoz_column(raw, passes)
    without = survey.simulate_without_spectra(scfg.n_without_spectra, passes_selection(sky, MGS_TARGET_CUTS))
    if len(without):
        without = survey.add_photoz_column(without, passes)
    return raw, without, {"seed": scfg.seed, "synthetic": survey.describe()}


def fetch_raw(cfg: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The backend's table (before local selection), the galaxies without spectra the
    backend knows of (the synthetic sky's; none for real skies) and the provenance."""
    ccfg = cfg["catalog"]
    backend = ccfg["backend"]
    selection = selection_params(ccfg)
    if backend == "synthetic":
        return _synthetic(cfg, selection)
    raw, provenance = fetch_from_server_or_file(cfg, "catalog", selection, ccfg["sql_template"])
    return raw, pd.DataFrame(), provenance


def fetch_from_server_or_file(
    cfg: dict[str, Any], section: str, selection: SelectionParams, template: str
) -> tuple[pd.DataFrame, dict]:
    """The table of the ``skyserver``, ``casjobs`` or ``file`` backend of config section
    ``section`` (``catalog`` or ``targets``; the servers' settings are the catalog's)."""
    ccfg = cfg["catalog"]
    backend = cfg[section]["backend"]
    release = int(ccfg["data_release"])
    targets = section == "targets"
    if backend == "skyserver":
        from .skyserver import SkyServerParams, query_skyserver

        return query_skyserver(selection, release, SkyServerParams(**ccfg["skyserver"]), template)
    if backend == "casjobs":
        from .casjobs import CasJobsParams, query_casjobs

        params = dict(ccfg["casjobs"])
        if targets:  # its own MyDB table, beside the spectroscopic sample's
            params["table"] = f"{params['table']}_targets"
        key = "objid" if targets else "specobjid"
        return query_casjobs(selection, release, CasJobsParams(**params), template, key=key)
    if backend == "file":
        from .filebackend import read_user_catalog

        path = (cfg[section].get("file") or {}).get("path")
        if not path:
            raise CatalogError(f"{section}.file.path: required when {section}.backend is 'file'")
        return read_user_catalog(path, f"{section}.file.path"), {"file": str(path)}
    raise CatalogError(f"{section}.backend: unknown backend {backend!r}; choose one of {BACKENDS}")


def query_catalog(
    cfg: dict[str, Any],
    out_catalog: str | Path,
    out_rejected: str | Path,
    out_without_spectra: str | Path | None = None,
) -> dict:
    """Produce the catalog, the rejected table and (``out_without_spectra``) the
    galaxies without spectra of a synthetic sky; return the provenance written."""
    ccfg = cfg["catalog"]
    selection = selection_params(ccfg)
    raw, without, provenance = fetch_raw(cfg)
    source = f"catalog backend {ccfg['backend']}"
    raw = require_numeric(raw, source)
    checked, unselectable = reject_unselectable(raw, selection)
    selected, cut_counts = apply_selection(checked, selection, source)
    kept, rejected = reject_incomplete(selected, source)
    rejected = pd.concat([unselectable, rejected]) if len(unselectable) else rejected
    kept = kept.sort_values("objid").reset_index(drop=True)
    if kept.empty:
        raise CatalogError(f"{source}: no galaxy survives the selection ({cut_counts})")
    meta = {
        "backend": ccfg["backend"],
        "sky": "synthetic" if ccfg["backend"] == "synthetic" else "sdss",
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
    if out_without_spectra is not None:
        without = without.sort_values("objid").reset_index(drop=True) if len(without) else without
        write_table(without, out_without_spectra, {"sky": meta["sky"], "rows": len(without)})
    log.info("catalog: %d galaxies written to %s (%d rejected)", len(kept), out_catalog, len(rejected))
    return meta
