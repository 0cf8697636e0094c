#!/usr/bin/env python
"""Benchmark the frame stages: synthetic frames rendered per second, and the
downloader's throughput from a loopback SAS server serving the real fixture frames.

    .venv/bin/python benchmarks/bench_frames.py --frames 6 --copies 20 --concurrency 4

Prints frames/s (render only, and render + bz2 write), MB/s downloaded (including
the full FITS verification of every file), and peak resident memory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))
sys.path.insert(0, str(REPO / "tests"))

from photoz.catalog.query import query_catalog  # noqa: E402
from photoz.config import load_config  # noqa: E402
from photoz.frames.download import DownloadParams, download_many  # noqa: E402
from photoz.frames.sas import frame_relpath  # noqa: E402
from photoz.synthetic.render import FrameKey, FrameRenderer  # noqa: E402
from photoz.synthetic.survey import geometry_from_description  # noqa: E402
from photoz.tables import read_table_metadata  # noqa: E402

FIXTURES = Path(os.environ.get("PHOTOZ_SDSS_FIXTURES", REPO.parent / "shared" / "data" / "sdss"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_render(n_frames: int, tmp: Path) -> None:
    cfg = load_config(REPO / "config.yaml")
    cfg["synthetic"].update(n_galaxies=1500, reference_size=2000)
    cfg["catalog"]["sql_template"] = str(REPO / "resources/sql/p19_mgs.sql")
    query_catalog(cfg, tmp / "cat.parquet", tmp / "rej.parquet")
    meta = read_table_metadata(tmp / "cat.parquet")
    catalog = pd.read_parquet(tmp / "cat.parquet")
    renderer = FrameRenderer(geometry_from_description(meta["synthetic"]), catalog, meta["seed"])
    keys = [
        FrameKey(int(r.run), int(r.camcol), int(r.field), "r") for r in catalog.head(n_frames).itertuples()
    ]
    renderer.render_image(keys[0])  # warm caches (SED tables, neighbour grid)
    t0 = time.perf_counter()
    for key in keys:
        renderer.render_image(key)
    dt = time.perf_counter() - t0
    print(
        f"render only        {len(keys)} full frames: {len(keys) / dt:6.2f} frames/s "
        f"({dt / len(keys):.2f} s/frame)"
    )
    t0 = time.perf_counter()
    size = sum(renderer.write(key, tmp / f"f{i}.fits.bz2") for i, key in enumerate(keys))
    dt = time.perf_counter() - t0
    print(
        f"render + bz2 write {len(keys)} full frames: {len(keys) / dt:6.2f} frames/s, "
        f"{size / len(keys) / 1e6:.1f} MB/frame; peak RSS {peak_rss_mb():.0f} MB"
    )


def _serve(root: Path, queue) -> None:
    from sas_server import SASServer

    with SASServer(root) as server:
        queue.put(server.url)
        server.thread.join()


def bench_download(copies: int, concurrency: int, tmp: Path) -> None:
    root = tmp / "sas"
    jobs = []
    for k in range(copies):
        band = "ugriz"[k % 5]
        src = FIXTURES / frame_relpath(2583, 301, 2, 136, band)
        rel = frame_relpath(2583, 301, 2, 1000 + k, band)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(src, root / rel)
        jobs.append((rel, tmp / "cache" / rel))
    # The server runs in its own process so that it does not compete for our GIL.
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(root, queue), daemon=True)
    server.start()
    url = queue.get(timeout=30)
    try:
        t0 = time.perf_counter()
        results = download_many(
            [(f"{url}/{r}", d) for r, d in jobs], DownloadParams.from_config(concurrency=concurrency)
        )
        dt = time.perf_counter() - t0
    finally:
        server.terminate()
    mb = sum(r.bytes for r in results) / 1e6
    ok = sum(r.status == "downloaded" for r in results)
    print(
        f"download {ok}/{copies} frames, {mb:.0f} MB, concurrency {concurrency}: {mb / dt:6.1f} MB/s, "
        f"{ok / dt:.2f} frames/s (with FITS verification); peak RSS {peak_rss_mb():.0f} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=6, help="full-size synthetic frames to render")
    parser.add_argument("--copies", type=int, default=20, help="frames to download from loopback")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_render(args.frames, Path(tmp))
        if (FIXTURES / "dr12").is_dir():
            bench_download(args.copies, args.concurrency, Path(tmp))
        else:
            print(f"download benchmark skipped: no fixture frames in {FIXTURES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
