#!/usr/bin/env python
"""Benchmark the catalog stages: synthetic catalog generation and partition planning.

Prints galaxies per second and the peak resident memory of each step.

    .venv/bin/python benchmarks/bench_catalog.py --sizes 2000 10000 50000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from photoz.catalog.query import query_catalog  # noqa: E402
from photoz.config import load_config  # noqa: E402
from photoz.partitions import PartitionParams, plan_partitions  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 50000])
    parser.add_argument("--reference-size", type=int, default=20000)
    args = parser.parse_args()
    print(f"{'step':<26}{'galaxies':>10}{'seconds':>10}{'galaxies/s':>12}{'peak RSS MB':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            cfg = load_config(REPO / "config.yaml")
            cfg["synthetic"].update(n_galaxies=n, reference_size=args.reference_size)
            cfg["catalog"]["sql_template"] = str(REPO / "resources/sql/p19_mgs.sql")
            cat = Path(tmp) / f"cat{n}.parquet"
            t0 = time.perf_counter()
            query_catalog(cfg, cat, Path(tmp) / f"rej{n}.parquet")
            dt = time.perf_counter() - t0
            print(f"{'query_catalog (synthetic)':<26}{n:>10}{dt:>10.2f}{n / dt:>12.0f}{peak_rss_mb():>13.0f}")
            t0 = time.perf_counter()
            plan_partitions(cat, Path(tmp) / f"parts{n}", PartitionParams.from_config(max_galaxies=2000))
            dt = time.perf_counter() - t0
            print(f"{'plan_partitions':<26}{n:>10}{dt:>10.2f}{n / dt:>12.0f}{peak_rss_mb():>13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
