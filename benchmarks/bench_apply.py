#!/usr/bin/env python
"""Throughput of photo-z for targets: N galaxies' cubes through M members (``photoz
apply_models``), galaxies per second and galaxy-members per second, peak memory.

The members are untrained ``p19_tiny`` networks saved like trained ones (the cost of a
forward pass does not depend on the weights), the cubes random; what is measured is
reading the cubes, the forward passes, the averaging and writing the table.

    .venv/bin/python benchmarks/bench_apply.py --galaxies 10000 --members 30
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from photoz.tables import write_cubes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--galaxies", type=int, default=10000)
    parser.add_argument("--members", type=int, default=30)
    parser.add_argument("--network", default="p19_tiny")
    parser.add_argument("--part-size", type=int, default=2000)
    args = parser.parse_args()

    import keras

    from photoz.models.member import TrainParams, save_member
    from photoz.models.networks import build_network
    from photoz.targets import apply_members

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        objid = np.arange(args.galaxies) + 1237650000000000000
        files = []
        for k, lo in enumerate(range(0, args.galaxies, args.part_size)):
            ids = objid[lo : lo + args.part_size]
            cubes = rng.gamma(2.0, 0.05, size=(len(ids), 5, 64, 64)).astype(np.float32)
            path = root / f"part{k:04d}.parquet"
            write_cubes(pd.DataFrame({"objid": ids, "flags": 0}), cubes, np.ones_like(cubes), path, {})
            files.append(str(path))
        catalog = root / "catalog.parquet"
        pd.DataFrame({"objid": objid, "ra": 10.0, "dec": 0.0, "e_bv_sfd": 0.03}).to_parquet(catalog)
        params = TrainParams.from_config({"network": args.network})
        members = []
        for m in range(args.members):
            keras.utils.set_random_seed(m)
            model = build_network(params.network, params.n_bins, params.output)
            out = root / f"fold{m % 5}" / f"member{m // 5}"
            out.mkdir(parents=True)
            save_member(model, out, [], {"params.json": asdict(params)})
            members.append(str(out))
        t0 = time.perf_counter()
        apply_members(members, files, str(catalog), str(root / "photoz.parquet"), "baseline")
        elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.galaxies} galaxies x {args.members} {args.network} members in {elapsed:.1f} s")
    rate = args.galaxies / elapsed
    print(f"throughput: {rate:.1f} galaxies/s ({rate * args.members:.0f} galaxy-members/s)")
    print(f"peak memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
