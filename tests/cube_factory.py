"""Random cube partitions and their catalog, for dataset tests and benchmarks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from photoz.constants import BANDS
from photoz.tables import write_cubes


def write_random_partitions(
    out_dir: Path, n_parts: int, per_part: int, seed: int = 0, missing_band: dict[int, int] | None = None
) -> tuple[Path, list[Path]]:
    """Write ``n_parts`` cube files of ``per_part`` galaxies and a catalog; return the paths.

    ``missing_band`` maps a galaxy's position (over all partitions) to a band index that
    gets no data (zero cube and weight, flag bit set), as after a failed frame fetch.
    """
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = n_parts * per_part
    objids = (1237650000000000000 + np.cumsum(rng.integers(1, 10**6, n))).astype(np.uint64)
    catalog = pd.DataFrame(
        {
            "objid": objids,
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-10, 60, n),
            "z": rng.uniform(0.01, 0.4, n),
            "e_bv_sfd": rng.uniform(0.0, 0.15, n),
            "dered_petro_r": rng.uniform(13.0, 17.8, n),
        }
    )
    catalog_path = out_dir / "catalog.parquet"
    catalog.to_parquet(catalog_path)
    paths = []
    for p in range(n_parts):
        rows = slice(p * per_part, (p + 1) * per_part)
        cubes = rng.normal(0.0, 1.0, (per_part, len(BANDS), 64, 64)).astype(np.float32)
        # Like a single frame's inverse variance: constant per band, zero off the frame.
        weights = np.repeat(rng.uniform(0.5, 2.0, (per_part, len(BANDS)))[:, :, None, None], 64, axis=2)
        weights = np.repeat(weights, 64, axis=3).astype(np.float32)
        weights[: per_part // 10, :, :, :8] = 0.0
        table = pd.DataFrame({"objid": objids[rows]})
        for band in BANDS:
            table[f"n_frames_{band}"] = np.ones(per_part, dtype=np.int16)
        table["flags"] = np.zeros(per_part, dtype=np.int32)
        for pos, band in (missing_band or {}).items():
            if rows.start <= pos < rows.stop:
                k = pos - rows.start
                cubes[k, band] = weights[k, band] = 0.0
                table.loc[k, "flags"] |= 1 << band
                table.loc[k, f"n_frames_{BANDS[band]}"] = 0
        path = out_dir / f"part{p:04d}.parquet"
        write_cubes(table, cubes, weights, path, {"backend": "random"})
        paths.append(path)
    return catalog_path, paths


def _dataset_outputs(out: Path) -> dict[str, str]:
    names = {
        "out_catalog": "catalog.parquet",
        "manifest": "manifest.tsv",
        "shards": "shards",
        "parquet": "parquet",
    }
    return {key: str(out / name) for key, name in names.items()}


def build_dataset(cfg: dict, catalog: Path, cubes: list[Path], out: Path) -> pd.DataFrame:
    """Run build_dataset in this process, outputs under ``out`` (manifest: out/manifest.tsv)."""
    from photoz.dataset.stage import build_dataset

    outputs = _dataset_outputs(out)
    return build_dataset(
        cfg,
        str(catalog),
        [str(c) for c in cubes],
        outputs["out_catalog"],
        outputs["manifest"],
        outputs["shards"],
        outputs["parquet"],
    )


def build_dataset_command(config_file: Path, catalog: Path, cubes: list[Path], out: Path) -> list[str]:
    """The stage script's command line building the same outputs as :func:`build_dataset`."""
    script = Path(__file__).resolve().parents[1] / "workflow" / "scripts" / "build_dataset.py"
    cmd = [sys.executable, str(script), "--configfile", str(config_file), "--catalog", str(catalog)]
    cmd += ["--cubes", *map(str, cubes)]
    for key, path in _dataset_outputs(out).items():
        cmd += [f"--{key.replace('_', '-')}", path]
    return cmd
