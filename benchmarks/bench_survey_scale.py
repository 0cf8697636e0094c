#!/usr/bin/env python
"""What the whole P19 survey (516,525 galaxies) costs, projected from measurements made
here by this command (no figure is typed in):

1. A sample run: the pipeline's own jobs (``snakemake --until build_dataset``) on a small
   synthetic survey with the default frames (2048x1489), read back from Snakemake's
   per-job benchmark files: seconds and peak memory per galaxy, per rendered frame, per
   galaxy-band of resampling, per dataset galaxy.
2. Real frames (the SDSS fixtures, when present): bytes and seconds to decompress and
   parse one ``.fits.bz2`` frame.
3. The networks: p19 training and inference images/s on this machine's device
   (``bench_training``: the GPU path when a GPU is present).
4. Planning at scale: a synthetic catalog of ``--plan-galaxies`` at the real MGS surface
   density through the catalog and partition stages of the paper preset, the frame index
   of two partitions (distinct frames per galaxy at the real density), then ``snakemake
   -n`` of the whole paper workflow: its wall time, peak memory and jobs.

The projection multiplies each per-unit cost by the survey's units (frames per galaxy
from step 4, steps x batch x members for training) and prints CPU- and GPU-hours per
stage, bytes downloaded, peak frame disk with ``frames.temporary``, jobs, and the wall
time on ``--nodes`` nodes of ``--cores`` cores and ``--gpus`` GPUs.

    .venv/bin/python benchmarks/bench_survey_scale.py                       # ~25 min, 2 cores
    .venv/bin/python benchmarks/bench_survey_scale.py --plan-galaxies 50000 --sample-galaxies 300
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_training  # noqa: E402  (also puts photoz on the import path)
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

REPO = bench_training.REPO
P19_GALAXIES = 516_525
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
FIXTURES = Path(os.environ.get("PHOTOZ_SDSS_FIXTURES", REPO.parent / "shared" / "data" / "sdss"))
#: Peak RSS of a child process tree, printed by a wrapper (resource of the children).
_PEAK = "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]).returncode; "
_PEAK += "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r)"


def snakemake(workdir: Path, config: Path, *args: str) -> tuple[float, float, str]:
    """Run Snakemake on this repository in ``workdir``: (seconds, peak RSS MB of the
    Snakemake process tree, output); fails loudly."""
    cmd = [sys.executable, "-c", _PEAK, SNAKEMAKE, "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(workdir), "--configfile", str(config), *args]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    peak = float(re.findall(r"PEAK_RSS_KB (\d+)", done.stdout)[-1]) / 1024
    return seconds, peak, done.stdout + done.stderr


def job_costs(workdir: Path) -> pd.DataFrame:
    """Per rule: jobs, wall and CPU seconds summed, largest peak RSS (MB), from the
    jobs' Snakemake benchmark files."""
    rows = []
    for path in (workdir / "logs" / "benchmarks").rglob("*.tsv"):
        rule = path.relative_to(workdir / "logs" / "benchmarks").parts[0]
        b = pd.read_csv(path, sep="\t").iloc[-1]
        rows.append({"rule": rule, "s": b["s"], "cpu_s": b["cpu_time"], "max_rss": b["max_rss"]})
    table = pd.DataFrame(rows)
    return table.groupby("rule").agg(
        jobs=("s", "size"), s=("s", "sum"), cpu_s=("cpu_s", "sum"), rss=("max_rss", "max")
    )


def write_config(path: Path, layers: list[Path], overrides: dict) -> Path:
    """One config file: the preset ``layers`` merged, then ``overrides`` (per section)."""
    merged: dict = {}
    for layer in layers:
        for section, values in (yaml.safe_load(layer.read_text()) or {}).items():
            if isinstance(values, dict):
                merged.setdefault(section, {}).update(values)
            else:
                merged[section] = values
    for section, values in overrides.items():
        merged.setdefault(section, {}).update(values)
    path.write_text(yaml.safe_dump(merged))
    return path


def sample_run(work: Path, galaxies: int) -> dict:
    """Stages 1-6 on a small synthetic survey (default frames): per-unit costs."""
    config = write_config(work / "sample.yaml", [], {"synthetic": {"n_galaxies": galaxies}})
    snakemake(work, config, "--cores", "2", "--until", "build_dataset")
    costs = job_costs(work)
    manifests = pd.concat(pd.read_parquet(p) for p in (work / "results/frames/manifest").glob("*.parquet"))
    rendered = manifests[manifests["status"] == "rendered"]
    cubes = pd.concat(
        pd.read_parquet(p, columns=["objid"]) for p in (work / "results/cubes").glob("*.parquet")
    )
    n = len(pd.read_parquet(work / "results/catalog/catalog.parquet", columns=["objid"]))
    return {
        "galaxies": n,
        "render_s_per_frame": float(rendered["seconds"].sum() / len(rendered)),
        "render_bytes_per_frame": float(rendered["bytes"].mean()),
        "resample_s_per_galaxy": costs.loc["resample_cubes", "cpu_s"] / len(cubes),
        "dataset_s_per_1000": 1000 * costs.loc["build_dataset", "cpu_s"] / n,
        "rss_mb": costs["rss"].to_dict(),
    }


def real_frame_costs() -> dict:
    """Bytes and seconds to decompress and parse one real .fits.bz2 frame (fixtures)."""
    from photoz.frames.reader import read_frame

    frames = sorted(FIXTURES.rglob("frame-*.fits.bz2"))
    if not frames:
        return {"bytes_per_frame": math.nan, "decompress_s_per_frame": math.nan}
    t0 = time.perf_counter()
    for path in frames:
        read_frame(path)
    return {
        "bytes_per_frame": sum(p.stat().st_size for p in frames) / len(frames),
        "decompress_s_per_frame": (time.perf_counter() - t0) / len(frames),
    }


def network_rates(work: Path, batch: int, steps: int) -> dict:
    """p19 training (end to end) and inference images/s on this machine's device."""
    import tensorflow as tf

    from photoz.models.member import execution_on

    gpus = tf.config.list_physical_devices("GPU")
    device = "/gpu:0" if gpus else "/cpu:0"
    execution = execution_on([device], mixed=bool(gpus), jit=bool(gpus))
    manifest = bench_training.random_dataset(work / "random", 600)
    r = bench_training.bench_network("p19", execution, manifest, batch, steps, device)
    return {
        "device": "GPU" if gpus else "CPU",
        "train_img_s": r["end_to_end"],
        "infer_img_s": r["inference"],
        # device-seconds per image: one GPU, or every core of this machine (TensorFlow uses them all)
        "cost_per_image": 1.0 if gpus else float(os.cpu_count()),
    }


def plan_at_scale(work: Path, galaxies: int) -> dict:
    """The paper preset on a synthetic catalog of ``galaxies`` at the real MGS density:
    catalog and partitions, two partitions' frame index, ``snakemake -n`` of it all."""
    config = write_config(
        work / "scale.yaml",
        [REPO / "presets" / "paper.yaml"],
        {"catalog": {"backend": "synthetic"}, "synthetic": {"n_galaxies": galaxies, "density_boost": 1.0}},
    )
    plan_s, plan_rss, _ = snakemake(work, config, "--cores", "2", "--until", "plan_partitions")
    parts = sorted((work / "results/partitions").glob("*.parquet"))
    targets = [f"results/frames/index/{p.stem}.parquet" for p in parts[:2]]
    snakemake(work, config, "--cores", "2", *targets)
    costs = job_costs(work)
    indexes = [pd.read_parquet(work / t) for t in targets]
    index = pd.concat(indexes)
    # frames both (neighbouring, Hilbert-ordered) partitions read: decompressed twice
    shared = len(set(indexes[0]["path"]) & set(indexes[-1]["path"])) if len(indexes) == 2 else 0
    in_parts = sum(len(pd.read_parquet(p, columns=["objid"])) for p in parts[:2])
    n_catalog = len(pd.read_parquet(work / "results/catalog/catalog.parquet", columns=["objid"]))
    dry_s, dry_rss, out = snakemake(work, config, "-n", "--quiet", "rules")
    jobs = {m.group(1): int(m.group(2)) for m in re.finditer(r"^([a-z_]+)\s+(\d+)$", out, re.M)}
    return {
        "galaxies": galaxies,
        "partitions": len(parts),
        "stage_rss_mb": costs["rss"].to_dict(),
        "stage_s": costs["s"].to_dict(),
        "frames_per_galaxy": index["path"].nunique() / in_parts,
        # per-unit costs at scale, where the stages' fixed costs no longer count
        "catalog_cpu_s_per_1000": 1000 * costs.loc["query_catalog", "cpu_s"] / n_catalog,
        "index_cpu_s_per_1000": 1000 * costs.loc["index_frames", "cpu_s"] / in_parts,
        "frames_per_partition": index["path"].nunique() / len(targets),
        "shared_frame_fraction": shared / max(1, index["path"].nunique()),
        "dry_run_s": dry_s,
        "dry_run_rss_mb": dry_rss,
        "jobs": jobs,
    }


def projection(sample: dict, real: dict, nets: dict, scale: dict, args) -> pd.DataFrame:
    """CPU- and GPU-hours of every stage for the P19 survey."""
    n = P19_GALAXIES
    frames = scale["frames_per_galaxy"] * n
    preset = yaml.safe_load((REPO / "presets" / "paper.yaml").read_text())["training"]
    images = 5 * preset["n_members"] * preset["steps"] * preset["batch_size"]
    gpu = nets["device"] == "GPU"
    rows = [
        ("catalog (synthetic)", n / 1000, "1000 galaxies", scale["catalog_cpu_s_per_1000"], False),
        ("frame index", n / 1000, "1000 galaxies", scale["index_cpu_s_per_1000"], False),
        ("render frames (synthetic)", frames, "frame", sample["render_s_per_frame"], False),
        ("decompress real frames", frames, "frame", real["decompress_s_per_frame"], False),
        ("resample (5 bands, frames read)", n, "galaxy", sample["resample_s_per_galaxy"], False),
        ("dataset shards", n / 1000, "1000 galaxies", sample["dataset_s_per_1000"], False),
        ("train 5 x 6 p19 members", images, "image", nets["cost_per_image"] / nets["train_img_s"], gpu),
        (
            "predict (6 members per galaxy)",
            n * preset["n_members"],
            "image",
            nets["cost_per_image"] / nets["infer_img_s"],
            gpu,
        ),
    ]
    table = pd.DataFrame(rows, columns=["stage", "units", "unit", "seconds_per_unit", "on_gpu"])
    hours = table["units"] * table["seconds_per_unit"] / 3600
    table["cpu_hours"] = hours.where(~table["on_gpu"], 0.0)
    table["gpu_hours"] = hours.where(table["on_gpu"], 0.0)
    return table


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--plan-galaxies", type=int, default=P19_GALAXIES)
    parser.add_argument("--sample-galaxies", type=int, default=600)
    parser.add_argument("--batch", type=int, default=32, help="p19 batch for the rates (128 on a GPU)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--cores", type=int, default=32)
    parser.add_argument("--gpus", type=int, default=4)
    parser.add_argument("--out", help="also write the measurements and projection as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="survey-scale-") as tmp:
        work = Path(tmp)
        (work / "sample").mkdir()
        (work / "scale").mkdir()
        t0 = time.perf_counter()
        sample = sample_run(work / "sample", args.sample_galaxies)
        print(f"sample run of {sample['galaxies']} galaxies: {time.perf_counter() - t0:.0f} s")
        real = real_frame_costs()
        nets = network_rates(work, args.batch, args.steps)
        t0 = time.perf_counter()
        scale = plan_at_scale(work / "scale", args.plan_galaxies)
        print(f"planning run of {args.plan_galaxies} galaxies: {time.perf_counter() - t0:.0f} s")
    table = projection(sample, real, nets, scale, args)
    measured = {"sample": sample, "real_frames": real, "networks": nets}
    print("\nMeasured here: " + json.dumps(measured, default=str))
    print(
        f"\nPlanning {scale['galaxies']} galaxies (paper preset, real MGS density): {scale['partitions']} "
        f"partitions; peak RSS per stage (MB) {scale['stage_rss_mb']}; wall s {scale['stage_s']}; "
        f"{scale['frames_per_galaxy']:.2f} distinct frames per galaxy "
        f"({scale['frames_per_partition']:.0f} per partition, {scale['shared_frame_fraction']:.1%} of two "
        f"neighbouring partitions' frames read by both); snakemake -n {scale['dry_run_s']:.0f} s, "
        f"peak {scale['dry_run_rss_mb']:.0f} MB; jobs {scale['jobs']}"
    )
    frames = scale["frames_per_galaxy"] * P19_GALAXIES
    in_flight = args.nodes * args.cores // 4  # partitions fetched at once (fetch_frames: 4 threads)
    print(
        f"\nP19 survey ({P19_GALAXIES} galaxies): {frames:,.0f} frames, "
        f"{frames * real['bytes_per_frame'] / 1e12:.1f} TB downloaded; peak frame disk with frames.temporary "
        f"~{in_flight * scale['frames_per_partition'] * real['bytes_per_frame'] / 1e9:.0f} GB "
        f"({in_flight} partitions in flight)"
    )
    print("\n| stage | units | CPU- or GPU-s per unit | CPU-hours | GPU-hours |\n|---|---|---|---|---|")
    for r in table.itertuples():
        units = f"{r.units:,.0f} {r.unit}"
        print(f"| {r.stage} | {units} | {r.seconds_per_unit:.4g} | {r.cpu_hours:,.1f} | {r.gpu_hours:,.1f} |")
    gpu_h = table["gpu_hours"].sum()
    real_cpu = table.loc[~table["stage"].str.contains("synthetic"), "cpu_hours"].sum()
    wall = real_cpu / (args.nodes * args.cores) + gpu_h / max(1, args.nodes * args.gpus)
    where = (
        "GPU rates" if nets["device"] == "GPU" else "CPU rates (no GPU here: training counted in CPU-hours)"
    )
    print(
        f"\nReal-data path: {real_cpu:,.0f} CPU-hours and {gpu_h:,.0f} GPU-hours; on {args.nodes} nodes of "
        f"{args.cores} cores and {args.gpus} GPUs ~{wall:,.1f} h of wall time (stages in sequence, perfect "
        f"packing; networks at {where})"
    )
    if args.out:
        document = {"sample": sample, "real_frames": real, "networks": nets, "scale": scale}
        document["projection"] = table.to_dict("records")
        Path(args.out).write_text(json.dumps(document, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
