"""Config-level entry points of the frame stages (called by the scripts)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from ..catalog.sky import catalog_sky
from ..tables import read_table_metadata, write_table
from .cas_fields import FieldQueryParams, query_fields
from .download import DownloadParams
from .fetch import fetch_partition, synthetic_cache_name
from .index import build_index

log = logging.getLogger(__name__)


def is_synthetic(catalog_meta: dict) -> bool:
    """Frames are rendered for the synthetic sky and downloaded otherwise."""
    return catalog_sky(catalog_meta) == "synthetic"


def shared_cache_root(cfg: dict[str, Any], catalog_meta: dict) -> Path:
    """The shared frame cache: the SAS mirror, or the synthetic survey's own tree."""
    root = Path(cfg["frames"]["cache_dir"])
    return root / synthetic_cache_name(catalog_meta) if is_synthetic(catalog_meta) else root


def index_frames(
    cfg: dict[str, Any], partition_path: str, out_index: str, partition_dir: str
) -> pd.DataFrame:
    """Index every frame of every band overlapping each galaxy of a partition."""
    partition = pd.read_parquet(partition_path)
    meta = read_table_metadata(partition_path)["catalog"]
    release = int(cfg["catalog"]["data_release"])
    backend = "synthetic" if is_synthetic(meta) else "sas"

    def field_query(galaxies: pd.DataFrame) -> pd.DataFrame:
        return query_fields(
            galaxies,
            release,
            FieldQueryParams(**cfg["frames"]["field_query"]),
            base_url=cfg["catalog"]["skyserver"]["base_url"],
        )

    index = build_index(
        partition, meta, backend, release, partition_dir, cfg["frames"]["sas_base_url"], field_query
    )
    index.insert(6, "relpath", [str(Path(p).relative_to(partition_dir)) for p in index["path"]])
    missing = set(partition["objid"]) - set(index["objid"])
    if missing:
        log.warning(
            "%d galaxies have no overlapping frame in any band: %s", len(missing), sorted(missing)[:10]
        )
    per_galaxy = index.groupby("objid").size()
    write_table(
        index,
        out_index,
        {
            "backend": backend,
            "galaxies": len(partition),
            "galaxies_without_frames": len(missing),
            "frames": int(index["path"].nunique()),
        },
    )
    log.info(
        "index: %d rows, %d frames, %.1f frame-bands per galaxy",
        len(index),
        index["path"].nunique(),
        per_galaxy.mean() if len(per_galaxy) else 0.0,
    )
    return index


def fetch_frames(
    cfg: dict[str, Any],
    index_path: str,
    catalog_path: str,
    manifest_path: str,
    threads: int,
    without_spectra_path: str | None = None,
) -> pd.DataFrame:
    """Render or download a partition's frames (of either sample); write the manifest.

    ``catalog_path`` is the training catalog: it names the sky and, for a synthetic sky,
    holds with ``without_spectra_path`` every bright galaxy the frames show."""
    index = pd.read_parquet(index_path)
    meta = read_table_metadata(catalog_path)
    shared = None if cfg["frames"]["temporary"] else shared_cache_root(cfg, meta)
    if is_synthetic(meta):
        from ..synthetic.render import FrameRenderer
        from ..synthetic.survey import geometry_from_description

        galaxies = [pd.read_parquet(catalog_path)]
        if without_spectra_path:
            galaxies.append(pd.read_parquet(without_spectra_path))
        renderer = FrameRenderer(
            geometry_from_description(meta["synthetic"]),
            pd.concat([g for g in galaxies if len(g)], ignore_index=True),
            int(meta["seed"]),
            float(meta["selection"]["r_mag_limit"]),
            calibration_file=meta["synthetic"]["config"].get("calibration_file"),
        )
        return fetch_partition(index, shared, manifest_path, renderer=renderer, workers=threads)
    return fetch_partition(
        index, shared, manifest_path, download=DownloadParams(**cfg["frames"]["download"]), workers=threads
    )
