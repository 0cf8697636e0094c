#!/usr/bin/env python
"""The evaluate stage at survey scale: seconds and peak memory for N test galaxies.

Every galaxy of a survey is a test galaxy once (5 folds), so P19's evaluation covers
516,525 galaxies. The inputs are made up like the stage's own: a dataset catalog
(redshifts, positions, r magnitudes and errors, the catalog photo-z) and two methods'
photo-z tables with 180-bin PDFs on [0, 0.4) (the CNN ensemble and kNN), each a
Gaussian around a scattered redshift; what is measured is ``photoz.evaluation.stage.
evaluate`` with the default config's bootstraps: every table, diagnostic and file.

    .venv/bin/python benchmarks/bench_evaluate.py --galaxies 516525
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

Z_MAX, N_BINS = 0.4, 180


def write_inputs(root: Path, galaxies: int, seed: int = 0) -> tuple[dict[str, str], Path, Path]:
    """A dataset catalog of ``galaxies`` test galaxies (4% in Stripe 82) and two
    methods' photo-z tables: (photo-z files, dataset catalog, provenance catalog)."""
    from photoz.metrics.pdf import bin_midpoints
    from photoz.models.ensemble import summarise
    from photoz.tables import write_photoz, write_table

    rng = np.random.default_rng(seed)
    z = rng.gamma(4.0, 0.025, galaxies).clip(0.005, 0.39)
    deep = rng.random(galaxies) < 0.04
    catalog = pd.DataFrame(
        {
            "objid": np.arange(galaxies, dtype=np.int64) + 1237650000000000000,
            "in_dataset": True,
            "fold": rng.integers(0, 5, galaxies).astype(np.int8),
            "z": z,
            "zphot": z + rng.normal(0, 0.025, galaxies) * (1 + z),
            "ra": np.where(deep, rng.uniform(310, 350, galaxies), rng.uniform(120, 240, galaxies)),
            "dec": np.where(deep, rng.uniform(-1, 1, galaxies), rng.uniform(0, 60, galaxies)),
            "dered_petro_r": rng.uniform(14.0, 17.8, galaxies),
            "petromagerr_r": rng.uniform(0.003, 0.05, galaxies),
        }
    )
    dataset_catalog = root / "dataset.parquet"
    catalog.to_parquet(dataset_catalog)
    provenance = root / "catalog.parquet"
    write_table(catalog.head(1), provenance, {"backend": "synthetic", "data_release": 12, "seed": seed})
    mids = bin_midpoints(N_BINS, z_max=Z_MAX)
    files = {}
    for name, scatter in (("baseline", 0.02), ("knn", 0.025)):
        centres = np.clip(z + rng.normal(0, scatter, galaxies) * (1 + z), 0.005, 0.395)
        pdf = np.exp(-0.5 * ((mids[None, :] - centres[:, None]) / (1.2 * scatter)) ** 2).astype(np.float32)
        pdf /= pdf.sum(axis=1, keepdims=True)
        table = summarise(catalog["objid"], catalog["fold"], z, pdf, z_max=Z_MAX)
        files[name] = str(root / f"{name}.parquet")
        write_photoz(table, files[name], {"method": name})
        del pdf, table
    return files, dataset_catalog, provenance


def run_evaluate(files: dict[str, str], dataset_catalog: str, provenance: str, out_dir: str, usage) -> None:
    """The evaluate stage with the default config, as the stage's command builds it;
    puts (CPU seconds, peak RSS MB) of this process on the ``usage`` queue."""
    from photoz.config import load_config
    from photoz.evaluation.stage import evaluate

    cfg = load_config(REPO / "config.yaml")
    evaluate(
        files, dataset_catalog, provenance, out_dir, {**cfg["evaluate"], "z_max": cfg["training"]["z_max"]}
    )
    own = resource.getrusage(resource.RUSAGE_SELF)
    usage.put((own.ru_utime + own.ru_stime, peak_rss_mb()))


def peak_rss_mb() -> float:
    """This process's peak RSS since it started its program (VmHWM; ``ru_maxrss`` would
    also count the parent's pages a spawned child held between fork and exec)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def measure(galaxies: int) -> dict:
    """Seconds, CPU seconds and peak RSS (MB) of the evaluate stage on ``galaxies``, run
    in a process of its own (the inputs are made before it starts)."""
    context = multiprocessing.get_context("spawn")
    usage = context.Queue()
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as tmp:
        root = Path(tmp)
        files, dataset_catalog, provenance = write_inputs(root, galaxies)
        args = (files, str(dataset_catalog), str(provenance), str(root / "report"), usage)
        child = context.Process(target=run_evaluate, args=args)
        t0 = time.perf_counter()
        child.start()
        child.join()
        seconds = time.perf_counter() - t0
        if child.exitcode != 0:
            raise SystemExit(f"evaluate failed (exit code {child.exitcode})")
        cpu_s, peak_mb = usage.get()
    return {"galaxies": galaxies, "seconds": seconds, "cpu_s": cpu_s, "peak_rss_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--galaxies", type=int, default=516_525)
    args = parser.parse_args()
    r = measure(args.galaxies)
    print(
        f"evaluate: {r['galaxies']:,} test galaxies, 3 methods (2 with PDFs): {r['seconds']:.1f} s "
        f"({r['cpu_s']:.1f} CPU-s, {1000 * r['cpu_s'] / r['galaxies']:.3f} CPU-s per 1000 galaxies); "
        f"peak RSS {r['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
