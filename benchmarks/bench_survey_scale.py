#!/usr/bin/env python
"""What the whole P19 survey (516,525 galaxies) costs, projected from measurements made
here by this command (no figure is typed in):

1. A sample run: the pipeline's own jobs (``snakemake --until build_dataset``) on a small
   synthetic survey with the default frames (2048x1489), read back from Snakemake's
   per-job benchmark files: seconds and peak memory per galaxy, per rendered frame, per
   galaxy-band-frame of resampling (the frames' reading timed apart), per dataset galaxy.
2. Real frames (the SDSS fixtures, when present): bytes and seconds to decompress and
   parse one ``.fits.bz2`` frame.
3. The networks: p19 training and inference images/s on this machine's device
   (``bench_training``: the GPU path when a GPU is present); the evaluate stage's CPU
   seconds per test galaxy (``bench_evaluate``).
4. Planning at scale: a synthetic catalog of ``--plan-galaxies`` at the real MGS surface
   density, with P19's share of Stripe 82 galaxies and its 59 epochs there, through the
   catalog and partition stages of the paper preset and one partition's index job; then
   the frame index of a sample of wide and Stripe 82 partitions together with every
   galaxy of the neighbouring partitions that can share a frame with them (frames and
   galaxy-band-frames per galaxy, and how many partitions read each frame); then
   ``snakemake -n`` of the whole paper workflow: its wall time, peak memory and jobs.

The projection multiplies each per-unit cost by the survey's units (frames read and
galaxy-band-frames per galaxy of each area from step 4, steps x batch x members for
training) and prints CPU- and GPU-hours per stage, how many frames more than one
partition decompresses, bytes downloaded, peak frame disk with ``frames.temporary``,
jobs, and the wall time on ``--nodes`` nodes of ``--cores`` cores and ``--gpus`` GPUs.

    .venv/bin/python benchmarks/bench_survey_scale.py                       # ~11 min, 2 cores
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

import bench_evaluate  # noqa: E402
import bench_training  # noqa: E402  (also puts photoz on the import path)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

REPO = bench_training.REPO
P19_GALAXIES = 516_525
#: P19's Stripe 82 share: 3,943 of its 103,305 test galaxies (method-spec, P19 table).
P19_DEEP_FRACTION = 3943 / 103305
#: Stripe 82 epochs: its 118 runs over two strips (P19 stacks up to 64 frames there).
P19_DEEP_EPOCHS = 59
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
    """Stages 1-6 on a small synthetic survey (default frames): per-unit costs.

    The resample stage's CPU time is split into reading its frames (timed here on the
    rendered frames) and resampling each galaxy-band-frame (index row), so that each
    scales with its own count at survey scale."""
    from photoz.frames.reader import read_frame

    config = write_config(work / "sample.yaml", [], {"synthetic": {"n_galaxies": galaxies}})
    snakemake(work, config, "--cores", "2", "--until", "build_dataset")
    costs = job_costs(work)
    manifests = pd.concat(pd.read_parquet(p) for p in (work / "results/frames/manifest").glob("*.parquet"))
    rendered = manifests[manifests["status"] == "rendered"]
    indexes = (work / "results/frames/index").glob("*.parquet")
    rows = sum(len(pd.read_parquet(p, columns=["objid"])) for p in indexes)
    frame_paths = [work / p for p in rendered["path"]]
    t0 = time.perf_counter()
    for path in frame_paths:
        read_frame(path)
    read_s = (time.perf_counter() - t0) / len(frame_paths)
    n = len(pd.read_parquet(work / "results/catalog/catalog.parquet", columns=["objid"]))
    resample_cpu = costs.loc["resample_cubes", "cpu_s"]
    return {
        "galaxies": n,
        "render_s_per_frame": float(rendered["seconds"].sum() / len(rendered)),
        "render_bytes_per_frame": float(rendered["bytes"].mean()),
        "read_synthetic_s_per_frame": read_s,
        "resample_s_per_row": max(0.0, resample_cpu - read_s * len(frame_paths)) / rows,
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


def frame_readers(frames_of_partition: pd.DataFrame, readers: pd.DataFrame) -> pd.Series:
    """How many partitions read each frame of one partition.

    ``frames_of_partition``: the partition's index (``path``); ``readers``: rows
    (``path``, ``partition``) of every other galaxy within reach of its frames."""
    own = pd.Index(frames_of_partition["path"].unique())
    others = readers[readers["path"].isin(own)].groupby("path")["partition"].nunique()
    return (1 + others.reindex(own, fill_value=0)).rename("readers")


def index_with_neighbours(catalog: pd.DataFrame, labels: np.ndarray, k: int, meta: dict) -> list[dict]:
    """Index partition ``k`` with the stage's own code, then the galaxies of other
    partitions close enough to share one of its frames. Per kind of galaxy (wide,
    Stripe 82): galaxies, index rows (galaxy-band-frames), frames the partition reads
    and its share of the survey's distinct frames (a frame read by r partitions counts
    1/r), both split evenly between the partition's galaxies on the frame, and the
    index seconds split like the rows."""
    from scipy.spatial import cKDTree

    from photoz.frames.index import BAND_SLACK_DEG, CUTOUT_RADIUS_DEG, build_index
    from photoz.skycells import unit_vectors
    from photoz.synthetic.survey import geometry_from_description

    mine = labels == k
    own, others = catalog[mine], catalog[~mine]
    t0 = time.perf_counter()
    index = build_index(own, meta, "synthetic", 12, "/frames", "https://sas.invalid")
    seconds = time.perf_counter() - t0
    # a galaxy can share a frame with one of ours if it lies within a frame diagonal
    # plus both cutouts' reach
    geometry = geometry_from_description(meta["synthetic"])
    diagonal = math.hypot(geometry.frame_width, geometry.frame_height) * geometry.pixel_deg
    reach = diagonal + 2 * (CUTOUT_RADIUS_DEG + BAND_SLACK_DEG)
    chord = 2 * math.sin(math.radians(reach) / 2)
    xyz = unit_vectors(catalog["ra"].to_numpy(), catalog["dec"].to_numpy())
    distance, _ = cKDTree(xyz[mine]).query(xyz[~mine], distance_upper_bound=chord)
    near = np.isfinite(distance)
    rim_index = build_index(others[near], meta, "synthetic", 12, "/frames", "https://sas.invalid")
    part_of = pd.Series(labels[~mine][near], index=others["objid"].to_numpy()[near])
    rim_index["partition"] = part_of.loc[rim_index["objid"]].to_numpy()
    readers = frame_readers(index, rim_index)
    is_deep = own.set_index("objid")["sim_deep"].astype(bool)
    uses = index[["objid", "path"]].drop_duplicates()
    on_frame = uses.groupby("path")["objid"].transform("size")
    uses = uses.assign(
        deep=uses["objid"].map(is_deep),
        frames=1.0 / on_frame,
        distinct_share=1.0 / (on_frame * uses["path"].map(readers)),
    )
    rows = index["objid"].map(is_deep).value_counts()
    out = []
    for deep, part in uses.groupby("deep"):
        out.append(
            {
                "partition": k,
                "deep": bool(deep),
                "galaxies": int((own["sim_deep"] == deep).sum()),
                "rows": int(rows[deep]),
                "frames": float(part["frames"].sum()),
                "distinct_share": float(part["distinct_share"].sum()),
                "index_s": float(seconds * rows[deep] / len(index)),
            }
        )
    return out


def plan_at_scale(work: Path, galaxies: int, wide_sample: int, deep_sample: int) -> dict:
    """The paper preset on a synthetic catalog of ``galaxies`` at the real MGS density
    with P19's Stripe 82: catalog and partitions, one partition's index job, the frames
    of a sample of partitions (and who else reads them), ``snakemake -n`` of it all."""
    config = write_config(
        work / "scale.yaml",
        [REPO / "presets" / "paper.yaml"],
        {
            "catalog": {"backend": "synthetic"},
            "synthetic": {
                "n_galaxies": galaxies,
                "density_boost": 1.0,
                "deep_fraction": P19_DEEP_FRACTION,
                "deep_epochs": P19_DEEP_EPOCHS,
            },
        },
    )
    snakemake(work, config, "--cores", "2", "--until", "plan_partitions")
    parts = sorted((work / "results/partitions").glob("*.parquet"))
    snakemake(work, config, "--cores", "2", f"results/frames/index/{parts[0].stem}.parquet")
    costs = job_costs(work)
    from photoz.tables import read_table_metadata

    meta = read_table_metadata(parts[0])["catalog"]
    catalog = pd.concat([pd.read_parquet(p).assign(_part=k) for k, p in enumerate(parts)], ignore_index=True)
    labels = catalog.pop("_part").to_numpy()
    deep_share = catalog.groupby(labels)["sim_deep"].mean().to_numpy()
    sizes = np.bincount(labels)
    full = sizes >= 0.9 * sizes.max()  # not the last, short partition of a region
    chosen = []
    for share, n in ((0.0, wide_sample), (1.0, deep_sample)):  # partitions of one kind
        pool = np.flatnonzero(full & (deep_share == share))
        chosen += [int(pool[i]) for i in np.linspace(0, len(pool) - 1, min(n, len(pool))).round().astype(int)]
    sample = [r for k in chosen for r in index_with_neighbours(catalog, labels, k, meta)]
    in_deep = catalog["sim_deep"].to_numpy().astype(bool)
    dry_s, dry_rss, out = snakemake(work, config, "-n", "--quiet", "rules")
    jobs = {m.group(1): int(m.group(2)) for m in re.finditer(r"^([a-z_]+)\s+(\d+)$", out, re.M)}
    return {
        "galaxies": galaxies,
        "partitions": len(parts),
        "galaxies_wide": int((~in_deep).sum()),
        "galaxies_deep": int(in_deep.sum()),
        "stage_rss_mb": costs["rss"].to_dict(),
        "stage_s": costs["s"].to_dict(),
        "catalog_cpu_s_per_1000": 1000 * costs.loc["query_catalog", "cpu_s"] / len(catalog),
        "sample": sample,
        "dry_run_s": dry_s,
        "dry_run_rss_mb": dry_rss,
        "jobs": jobs,
    }


def per_galaxy(scale: dict) -> pd.DataFrame:
    """Per galaxy of the wide and the deep area (sampled partitions): index rows
    (galaxy-band-frames), frames read by its partition, distinct frames, index seconds."""
    sample = pd.DataFrame(scale["sample"])
    sums = sample.groupby("deep")[["galaxies", "rows", "frames", "distinct_share", "index_s"]].sum()
    rates = sums[["rows", "frames", "distinct_share", "index_s"]].div(sums["galaxies"], axis=0)
    # a small plan may have no full partition of one area: it takes the other's rates
    rates = rates.reindex([False, True]).ffill().bfill()
    to_p19 = P19_GALAXIES / (scale["galaxies_wide"] + scale["galaxies_deep"])
    rates["galaxies"] = [to_p19 * scale["galaxies_deep" if deep else "galaxies_wide"] for deep in rates.index]
    return rates


def projection(
    sample: dict, real: dict, nets: dict, scale: dict, rates: pd.DataFrame, evaluation: dict
) -> pd.DataFrame:
    """CPU- and GPU-hours of every stage for the P19 survey (``rates``: :func:`per_galaxy`):
    frames are read (rendered, downloaded, decompressed) once per partition that needs
    them, as with the paper preset's ``frames.temporary``."""
    n = P19_GALAXIES
    frames = float((rates["frames"] * rates["galaxies"]).sum())
    rows = float((rates["rows"] * rates["galaxies"]).sum())
    index_s = float((rates["index_s"] * rates["galaxies"]).sum())
    preset = yaml.safe_load((REPO / "presets" / "paper.yaml").read_text())["training"]
    images = 5 * preset["n_members"] * preset["steps"] * preset["batch_size"]
    gpu = nets["device"] == "GPU"
    rows_ = [
        ("catalog (synthetic)", n / 1000, "1000 galaxies", scale["catalog_cpu_s_per_1000"], False),
        ("frame index", n / 1000, "1000 galaxies", 1000 * index_s / n, False),
        ("render frames (synthetic)", frames, "frame read", sample["render_s_per_frame"], False),
        ("decompress real frames", frames, "frame read", real["decompress_s_per_frame"], False),
        ("resample (galaxy-band-frames)", rows, "row", sample["resample_s_per_row"], False),
        ("dataset shards", n / 1000, "1000 galaxies", sample["dataset_s_per_1000"], False),
        ("train 5 x 6 p19 members", images, "image", nets["cost_per_image"] / nets["train_img_s"], gpu),
        (
            "predict (6 members per galaxy)",
            n * preset["n_members"],
            "image",
            nets["cost_per_image"] / nets["infer_img_s"],
            gpu,
        ),
        ("evaluate (CNN, kNN, catalog)", n / 1000, "1000 galaxies", evaluation["cpu_s_per_1000"], False),
    ]
    table = pd.DataFrame(rows_, columns=["stage", "units", "unit", "seconds_per_unit", "on_gpu"])
    hours = table["units"] * table["seconds_per_unit"] / 3600
    table["cpu_hours"] = hours.where(~table["on_gpu"], 0.0)
    table["gpu_hours"] = hours.where(table["on_gpu"], 0.0)
    return table


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--plan-galaxies", type=int, default=P19_GALAXIES)
    parser.add_argument("--sample-galaxies", type=int, default=600)
    parser.add_argument("--wide-partitions", type=int, default=4, help="wide-area partitions indexed")
    parser.add_argument("--deep-partitions", type=int, default=1, help="Stripe 82 partitions indexed")
    parser.add_argument("--evaluate-galaxies", type=int, default=100_000, help="test galaxies evaluated")
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
        print(f"sample run of {sample['galaxies']} galaxies: {time.perf_counter() - t0:.0f} s", flush=True)
        real = real_frame_costs()
        nets = network_rates(work, args.batch, args.steps)
        evaluation = bench_evaluate.measure(args.evaluate_galaxies)
        evaluation["cpu_s_per_1000"] = 1000 * evaluation["cpu_s"] / evaluation["galaxies"]
        t0 = time.perf_counter()
        scale = plan_at_scale(work / "scale", args.plan_galaxies, args.wide_partitions, args.deep_partitions)
        print(f"planning run of {args.plan_galaxies} galaxies: {time.perf_counter() - t0:.0f} s")
    rates = per_galaxy(scale)
    table = projection(sample, real, nets, scale, rates, evaluation)
    measured = {"sample": sample, "real_frames": real, "networks": nets, "evaluate": evaluation}
    print("\nMeasured here: " + json.dumps(measured, default=str))
    print(
        f"\nPlanning {scale['galaxies']} galaxies (paper preset, real MGS density, "
        f"{P19_DEEP_FRACTION:.1%} in a {P19_DEEP_EPOCHS}-epoch Stripe 82): {scale['partitions']} partitions; "
        f"peak RSS per stage (MB) {scale['stage_rss_mb']}; wall s {scale['stage_s']}; snakemake -n "
        f"{scale['dry_run_s']:.0f} s, peak {scale['dry_run_rss_mb']:.0f} MB; jobs {scale['jobs']}"
    )
    sampled = pd.DataFrame(scale["sample"])
    print("\nSampled partitions:\n" + sampled.to_string(index=False))
    if sampled["deep"].nunique() < 2:
        print("(one area had no full partition to sample: its galaxies are counted at the other's rates)")
    print("\n| area | P19 galaxies | galaxy-band-frames | frames read | distinct frames | extra reads |")
    print("|---|---|---|---|---|---|")
    for deep, r in rates.iterrows():
        print(
            f"| {'Stripe 82' if deep else 'wide'} | {r.galaxies:,.0f} | {r.rows:.1f} per galaxy | "
            f"{r.frames:.2f} per galaxy | {r.distinct_share:.2f} per galaxy | "
            f"{r.frames / r.distinct_share - 1:.1%} |"
        )
    reads = float((rates["frames"] * rates["galaxies"]).sum())
    distinct = float((rates["distinct_share"] * rates["galaxies"]).sum())
    in_flight = args.nodes * args.cores // 4  # partitions fetched at once (fetch_frames: 4 threads)
    size = yaml.safe_load((REPO / "presets" / "paper.yaml").read_text())["partitions"]["max_galaxies"]
    per_partition = rates["frames"] * size  # frames of a full partition of each kind
    n_deep = math.ceil(rates.loc[True, "galaxies"] / size)
    # worst case: every Stripe 82 partition in flight at once, wide ones beside them
    peak = min(in_flight, n_deep) * per_partition[True] + max(0, in_flight - n_deep) * per_partition[False]
    mb = real["bytes_per_frame"] / 1e6
    print(
        f"\nP19 survey ({P19_GALAXIES:,} galaxies): {reads:,.0f} frame reads by partitions of "
        f"{distinct:,.0f} distinct frames ({reads / distinct - 1:.1%} more reads than frames): "
        f"{(reads - distinct) * real['decompress_s_per_frame'] / 3600:,.1f} CPU-hours of decompression and "
        f"{(reads - distinct) * mb / 1e6:.2f} TB of downloads (frames.temporary) beyond once per frame.\n"
        f"Downloaded: {reads * mb / 1e6:.1f} TB with frames.temporary, {distinct * mb / 1e6:.1f} TB with a "
        f"shared cache. A partition of {size:,} galaxies reads {per_partition[False]:,.0f} frames "
        f"({per_partition[False] * mb / 1e3:.0f} GB) in the wide area and {per_partition[True]:,.0f} "
        f"({per_partition[True] * mb / 1e6:.2f} TB) in Stripe 82 ({n_deep} such partitions); peak frame "
        f"disk with frames.temporary and {in_flight} partitions in flight <= {peak * mb / 1e6:.1f} TB."
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
        document = {**measured, "scale": scale}
        document["projection"] = table.to_dict("records")
        Path(args.out).write_text(json.dumps(document, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
