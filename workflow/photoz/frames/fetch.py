"""Stage 4, ``fetch_frames``: bring a partition's indexed frames onto local disk.

Frames live in a shared cache that mirrors the SAS tree (real frames under the cache
directory itself; synthetic ones under ``synthetic-<hash>/``, keyed by everything that
shapes them), and each partition sees them in its own directory
``<cache>/partitions/<part>/`` through hard links. With ``frames.temporary`` the
partition directory holds the files themselves and the workflow deletes it once the
partition's cubes are made, so a survey streams through a bounded cache. A manifest
records every frame: rendered, downloaded, present or failed (with the reason).
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from ..tables import write_table
from .download import DownloadParams, download_many
from .integrity import record_checksum, remove_if_damaged

log = logging.getLogger(__name__)

FRAME_COLUMNS = ["band", "run", "rerun", "camcol", "field", "relpath", "path", "url"]
MANIFEST_COLUMNS = [*FRAME_COLUMNS, "status", "bytes", "attempts", "seconds", "reason"]


def synthetic_cache_name(catalog_meta: dict) -> str:
    """Cache sub-directory of a synthetic survey: a hash of what shapes its frames."""
    key = json.dumps(
        {"synthetic": catalog_meta["synthetic"], "selection": catalog_meta["selection"]}, sort_keys=True
    )
    return "synthetic-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def unique_frames(index: pd.DataFrame) -> pd.DataFrame:
    """One row per frame of an index."""
    return index[FRAME_COLUMNS].drop_duplicates("path").sort_values("path").reset_index(drop=True)


def link_into(shared: Path, view: Path) -> None:
    """Make ``view`` show ``shared`` (hard link; symbolic if across file systems)."""
    view.parent.mkdir(parents=True, exist_ok=True)
    if view.exists() or view.is_symlink():
        view.unlink()
    try:
        os.link(shared, view)
    except OSError:
        os.symlink(os.path.abspath(shared), view)


# -- synthetic -------------------------------------------------------------------------
_RENDERER = None


def _render_task(task: tuple[int, int, int, str, str]) -> tuple[str, int, float]:
    from ..synthetic.render import FrameKey

    run, camcol, fld, band, path = task
    t0 = time.monotonic()
    size = _RENDERER.write(FrameKey(run, camcol, fld, band), path)
    record_checksum(path)
    return path, size, time.monotonic() - t0


def render_frames(frames: pd.DataFrame, renderer, dest_paths: list[Path], workers: int) -> list[dict]:
    """Render the frames that are not on disk yet (``workers`` processes)."""
    global _RENDERER
    results: dict[str, dict] = {}
    tasks = []
    damaged: dict[str, str] = {}
    for f, dest in zip(frames.itertuples(index=False), dest_paths, strict=True):
        if dest.exists() and (replaced := remove_if_damaged(dest)):
            damaged[str(dest)] = replaced
        if dest.exists():
            results[str(dest)] = {
                "status": "present",
                "bytes": dest.stat().st_size,
                "attempts": 0,
                "seconds": 0.0,
                "reason": "",
            }
            continue
        tasks.append((int(f.run), int(f.camcol), int(f.field), f.band, str(dest)))
    _RENDERER = renderer
    progress = tqdm(total=len(tasks), desc="render frames", unit="frame", mininterval=5)

    def record(outcomes) -> None:
        for path, size, secs in outcomes:
            results[path] = {
                "status": "rendered",
                "bytes": size,
                "attempts": 1,
                "seconds": secs,
                "reason": damaged.get(path, ""),
            }
            progress.update()

    if workers > 1 and len(tasks) > 1:
        ctx = multiprocessing.get_context("fork")  # workers inherit the renderer
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            record(pool.map(_render_task, tasks))
    else:
        record(map(_render_task, tasks))
    progress.close()
    return [results[str(d)] for d in dest_paths]


# -- orchestration ---------------------------------------------------------------------
def fetch_partition(
    index: pd.DataFrame,
    shared_root: Path | None,
    manifest_path: str | Path,
    renderer=None,
    download: DownloadParams | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Fetch (render or download) every frame of a partition's index.

    ``shared_root``: the shared cache the partition directory links into, or ``None``
    when frames are temporary (files go straight into the partition directory).
    Returns the manifest, also written to ``manifest_path``.
    """
    frames = unique_frames(index)
    views = [Path(p) for p in frames["path"]]
    targets = [shared_root / r for r in frames["relpath"]] if shared_root is not None else views
    if renderer is not None:
        outcome = render_frames(frames, renderer, targets, workers)
    else:
        results = download_many(
            list(zip(frames["url"], targets, strict=True)), download or DownloadParams.from_config()
        )
        outcome = [vars(r) for r in results]
    for shared, view, res in zip(targets, views, outcome, strict=True):
        if shared != view and res["status"] != "failed":
            link_into(shared, view)
    manifest = pd.concat(
        [frames, pd.DataFrame(outcome, columns=MANIFEST_COLUMNS[len(FRAME_COLUMNS) :])], axis=1
    )
    counts = manifest["status"].value_counts().to_dict()
    log.info("frames: %s", counts)
    for row in manifest[manifest["status"] == "failed"].itertuples(index=False):
        log.error("frame %s failed: %s", row.url, row.reason)
    write_table(manifest, manifest_path, {"counts": counts})
    return manifest
