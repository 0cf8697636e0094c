"""Stage 1 for the target sample: galaxies without any spectroscopic requirement.

Backends (``targets.backend``): ``synthetic`` (the synthetic sky's MGS targets that got
no spectrum, written by the training catalog stage; their true redshift stays in
``sim_z``), ``file`` (any table with objid, ra, dec, e_bv_sfd and dered_petro_r; no cut
but the region), ``skyserver`` and ``casjobs`` (``resources/sql/mgs_photometric.sql``:
primary galaxies with the catalog's r limit, clean and outside masks, checked here
again). Every target is in ``catalog.parquet`` or in ``rejected.parquet`` with its
reason. The catalog's metadata names the sky its frames come from (SDSS for the
server backends; otherwise the training catalog's: a synthetic sky's geometry, or
SDSS), so stages 2-5 run on it unchanged.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..tables import read_table_metadata, write_table
from .columns import TARGET_REQUIRED_COLUMNS, require_numeric
from .query import fetch_from_server_or_file, selection_params
from .selection import PHOTOMETRIC_CUTS, CatalogError, apply_selection, reject_incomplete, reject_unselectable
from .sky import catalog_sky
from .sql import render_sql

log = logging.getLogger(__name__)

#: Target backends whose galaxies are SDSS's: their frames come from the SAS whatever sky
#: the models were trained on (real galaxies get photo-z from a synthetic-sky model too).
SDSS_TARGET_BACKENDS = ("skyserver", "casjobs")


def target_sky(backend: str, training_sky: str) -> str:
    """The sky of the target sample's images: SDSS for the server backends, otherwise
    the training catalog's (the synthetic sky's galaxies, or a user's file of galaxies on
    the training sky)."""
    return "sdss" if backend in SDSS_TARGET_BACKENDS else training_sky


def query_targets(
    cfg: dict[str, Any],
    training_catalog: str | Path,
    without_spectra: str | Path,
    out_catalog: str | Path,
    out_rejected: str | Path,
) -> dict:
    """Produce the target catalog and its rejected table; return the provenance written.

    ``training_catalog`` gives the sky (its metadata), ``without_spectra`` the synthetic
    sky's galaxies without spectra (read by the ``synthetic`` backend only)."""
    tcfg = cfg["targets"]
    backend = tcfg["backend"]
    sky_meta = read_table_metadata(training_catalog)
    training_sky = catalog_sky(sky_meta)
    sky = target_sky(backend, training_sky)
    selection = dataclasses.replace(selection_params(cfg["catalog"]), region=tcfg.get("region"))
    source = f"targets backend {backend}"
    provenance: dict[str, Any] = {}
    if backend == "synthetic":
        if sky != "synthetic":
            raise ConfigError(
                "targets.backend: 'synthetic' needs a synthetic sky (catalog.backend synthetic); "
                "for SDSS use skyserver, casjobs or file"
            )
        raw = pd.read_parquet(without_spectra)
        if raw.empty:
            raise CatalogError(
                f"{without_spectra}: the synthetic sky has no galaxies without spectra "
                "(synthetic.n_without_spectra is 0)"
            )
        names: tuple[str, ...] = ()  # drawn with the MGS photometric cuts already
    else:
        raw, provenance = fetch_from_server_or_file(cfg, "targets", selection, tcfg["sql_template"])
        names = () if backend == "file" else PHOTOMETRIC_CUTS  # a user's own galaxies: no cut
    raw = require_numeric(raw, source)
    checked, unselectable = reject_unselectable(raw, selection, names)
    selected, cut_counts = apply_selection(checked, selection, source, names)
    kept, rejected = reject_incomplete(selected, source, TARGET_REQUIRED_COLUMNS)
    rejected = pd.concat([unselectable, rejected]) if len(unselectable) else rejected
    if "z" in kept:  # a spectroscopic redshift given with the targets is not used
        kept = kept.rename(columns={"z": "z_spec_given"})
    kept = kept.sort_values("objid").reset_index(drop=True)
    if kept.empty:
        raise CatalogError(f"{source}: no target galaxy survives ({cut_counts})")
    meta = {
        "sample": "targets",
        "backend": backend,
        "sky": sky,
        "data_release": int(cfg["catalog"]["data_release"]),
        "selection": vars(selection),
        "cuts": list(names),
        "cut_counts": cut_counts,
        "rows_raw": len(raw),
        "rows_rejected": len(rejected),
        "rows_final": len(kept),
        "training_sky": training_sky,
        # the sky's description: index_frames and fetch_frames read the frames from it
        **({k: sky_meta[k] for k in ("synthetic", "seed") if k in sky_meta} if sky == training_sky else {}),
        **provenance,
    }
    if backend in ("skyserver", "casjobs"):
        meta["sql"] = meta.get("sql") or render_sql(selection, tcfg["sql_template"])
    write_table(kept, out_catalog, meta)
    write_table(rejected.reset_index(drop=True), out_rejected, {"backend": backend, "sample": "targets"})
    log.info("targets: %d galaxies written to %s (%d rejected)", len(kept), out_catalog, len(rejected))
    return meta
