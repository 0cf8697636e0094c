"""Cluster use: the pipeline through a real SLURM (Debian slurm-wlm, started here), and
recovery from runs killed mid-stage (training, frame fetching, resampling, dataset) and
from a damaged frame cache; each must reproduce an uninterrupted local run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import slurm_cluster
import yaml
from conftest import REPO, snakemake_command

pytestmark = pytest.mark.slow

# The smallest full run: 120 galaxies in 2 partitions, 5 folds x 1 member, baseline only.
SMALL = {
    "synthetic": {
        "n_galaxies": 120,
        "reference_size": 400,
        "seed": 7,
        "frame_width": 512,
        "frame_height": 372,
        "deep_epochs": 2,
    },
    "partitions": {"max_galaxies": 60},
    "training": {
        "network": "p19_tiny",
        "n_members": 1,
        "steps": 40,
        "batch_size": 16,
        "checkpoint_every": 5,
        "validate_every": 20,
        "shuffle_buffer": 64,
        "threads": 1,
    },
    "evaluate": {"n_bootstrap": 5},
}
# Tables every run must reproduce exactly (the report's figures embed timestamps).
COMPARED = [
    "results/catalog/catalog.parquet",
    "results/dataset/catalog.parquet",
    "results/photoz/baseline.parquet",
    "results/photoz/knn.parquet",
]


def snakemake(workdir: Path, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    cmd = snakemake_command(workdir)
    # -k: a hung status check must not hang the test (the plugin ignores SIGTERM while polling)
    return subprocess.run(
        ["timeout", "-k", "10", str(timeout), *cmd, *args], capture_output=True, text=True, cwd=REPO
    )


def write_config(workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "small.yaml"
    cfg.write_text(yaml.safe_dump(SMALL))
    return cfg


def assert_same_outputs(run: Path, reference: Path) -> None:
    for rel in COMPARED:
        pd.testing.assert_frame_equal(pd.read_parquet(run / rel), pd.read_parquet(reference / rel), obj=rel)
    cubes = sorted(p.name for p in (reference / "results/cubes").glob("*.parquet"))
    assert cubes and cubes == sorted(p.name for p in (run / "results/cubes").glob("*.parquet"))
    for name in cubes:
        pd.testing.assert_frame_equal(
            pd.read_parquet(run / "results/cubes" / name), pd.read_parquet(reference / "results/cubes" / name)
        )
    assert not list(run.rglob("*.tmp")) and not list(run.rglob("*.partial")), "a temporary file survived"


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory) -> Path:
    """An uninterrupted local run of the small config."""
    workdir = tmp_path_factory.mktemp("reference")
    result = snakemake(workdir, "--cores", "2", "--configfile", str(write_config(workdir)))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir


@pytest.fixture(scope="module")
def slurm():
    """A running single-node SLURM (skipped, with the reason, where it cannot start)."""
    reason = slurm_cluster.why_unavailable()
    if reason:
        if os.environ.get("PHOTOZ_REQUIRE_SLURM"):
            pytest.fail(f"SLURM required (PHOTOZ_REQUIRE_SLURM) but unavailable: {reason}")
        pytest.skip(f"no local SLURM: {reason}")
    cluster = slurm_cluster.start()
    yield cluster
    cluster.stop()


def test_pipeline_through_slurm_equals_local_run(slurm, reference_run, tmp_path):
    workdir = tmp_path / "slurm"
    cfg = write_config(workdir)
    result = snakemake(workdir, "--profile", str(REPO / "tests/data/slurm-local"), "--configfile", str(cfg))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    # every job but the local rule `all` went through sbatch and was polled with squeue
    submitted = set(re.findall(r"has been submitted with SLURM jobid (\d+)", output))
    n_jobs = int(re.findall(r"(\d+) of (\d+) steps \(100%\) done", output)[-1][1])  # after the checkpoint
    assert len(submitted) == n_jobs - 1, output[-3000:]
    slurm_logs = list((workdir / "logs/slurm").rglob("*.log"))
    assert {p.stem for p in slurm_logs} == submitted  # the plugin names job logs by job id
    train_jobs = [p for p in slurm_logs if p.parts[-3] == "rule_train"]
    assert len(train_jobs) == 5 and all(p.read_text() for p in train_jobs)  # the job steps ran
    for job in train_jobs:  # the rule's declared resources reached SLURM (threads, mem_mb, runtime)
        record = subprocess.run(["scontrol", "show", "job", "-o", job.stem], capture_output=True, text=True)
        fields = dict(f.split("=", 1) for f in record.stdout.split() if "=" in f)
        assert fields["JobState"] == "COMPLETED" and fields["Partition"] == "debug", record.stdout
        assert fields["NumCPUs"] == "1" and fields["MinMemoryNode"] == "3000M", record.stdout
        assert fields["TimeLimit"] == "01:00:00", record.stdout
    assert_same_outputs(workdir, reference_run)


def test_killed_run_resumes_and_equals_uninterrupted_run(reference_run, tmp_path):
    """Kill the whole run (SIGKILL, no clean-up) while a training job is midway, rerun;
    the training resumes from its checkpoint and every output equals the reference."""
    workdir = tmp_path / "killed"
    cfg = write_config(workdir)
    cmd = snakemake_command(workdir)
    proc = subprocess.Popen(
        [*cmd, "--cores", "2", "--configfile", str(cfg)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    checkpoint = None
    deadline = time.time() + 900
    while time.time() < deadline and proc.poll() is None:
        found = list((workdir / "results/models").glob("baseline/fold*/member0/checkpoints/ckpt-*.index"))
        if found:
            checkpoint = found[0]
            break
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checkpoint is not None, "the run ended before any training checkpoint"
    member = checkpoint.parents[1]
    assert not (member / "weights.weights.h5").exists()  # killed midway
    # Snakemake itself was killed: its lock survives and must be removed first (README)
    unlocked = snakemake(workdir, "--unlock", "--configfile", str(cfg))
    assert unlocked.returncode == 0, unlocked.stderr[-2000:]
    resumed = snakemake(workdir, "--cores", "2", "--configfile", str(cfg))
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    fold = member.parent.name
    log = (workdir / f"logs/train/baseline/{fold}.log").read_text()  # one job per fold
    assert re.search(r"resumed from .*ckpt-(\d+) at step (\d+)", log), log[-2000:]
    # the history survives Snakemake deleting the interrupted job's outputs
    assert list(pd.read_csv(member / "history.csv")["step"]) == [20, 40]
    assert_same_outputs(workdir, reference_run)


def _run_until_killed(workdir: Path, cfg: Path, started: str, finished: str) -> None:
    """Run to the dataset; SIGKILL Snakemake and its jobs once ``started`` (a job's log)
    appears, before ``finished`` (that job's output) does."""
    proc = subprocess.Popen(
        [*snakemake_command(workdir), "--cores", "2", "--configfile", str(cfg), "--until", "build_dataset"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and not (workdir / started).exists():
        time.sleep(0.1)
    time.sleep(0.3)  # into the job
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (workdir / started).exists(), f"the run ended before {started}"
    assert not (workdir / finished).exists(), f"{finished} was complete before the kill"
    unlocked = snakemake(workdir, "--unlock", "--configfile", str(cfg))
    assert unlocked.returncode == 0, unlocked.stderr[-2000:]


def _assert_same_dataset(run: Path, reference: Path) -> None:
    """Catalog, cubes and dataset shards byte-identical (the manifest's SHA-256 per shard)."""
    for rel in ("results/catalog/catalog.parquet", "results/dataset/catalog.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(run / rel), pd.read_parquet(reference / rel), obj=rel)
    cubes = sorted(p.name for p in (reference / "results/cubes").glob("*.parquet"))
    assert cubes == sorted(p.name for p in (run / "results/cubes").glob("*.parquet"))
    for name in cubes:
        pd.testing.assert_frame_equal(
            pd.read_parquet(run / "results/cubes" / name), pd.read_parquet(reference / "results/cubes" / name)
        )
    manifest = "results/dataset/manifest.tsv"
    pd.testing.assert_frame_equal(
        pd.read_csv(run / manifest, sep="\t"), pd.read_csv(reference / manifest, sep="\t")
    )
    assert not list(run.rglob("*.tmp")) and not list(run.rglob("*.part")), "a temporary file survived"


def test_runs_killed_in_fetch_resample_and_dataset_resume_and_heal_a_damaged_cache(reference_run, tmp_path):
    """SIGKILL during frame rendering, then during resampling, then while the shards are
    written, each followed by a rerun: the dataset equals an uninterrupted run's byte for
    byte. Then a truncated and a bit-flipped frame in the cache: refetching finds both,
    renders them again and the dataset is again identical."""
    workdir = tmp_path / "killed"
    cfg = write_config(workdir)
    _run_until_killed(
        workdir, cfg, "logs/fetch_frames/part0000.log", "results/frames/manifest/part0000.parquet"
    )
    _run_until_killed(workdir, cfg, "logs/resample_cubes/part0000.log", "results/cubes/part0000.parquet")
    _run_until_killed(workdir, cfg, "logs/build_dataset/build_dataset.log", "results/dataset/manifest.tsv")
    resumed = snakemake(workdir, "--cores", "2", "--configfile", str(cfg), "--until", "build_dataset")
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    _assert_same_dataset(workdir, reference_run)

    frames = sorted((workdir / "resources/frames").glob("synthetic-*/dr12/**/*.fits.gz"))
    truncated, flipped = frames[0], frames[len(frames) // 2]
    truncated.write_bytes(truncated.read_bytes()[:1000])
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    healed = snakemake(
        workdir,
        "--cores",
        "2",
        "--configfile",
        str(cfg),
        "--until",
        "build_dataset",
        "--forcerun",
        "fetch_frames",
    )
    assert healed.returncode == 0, healed.stdout[-3000:] + healed.stderr[-3000:]
    manifests = pd.concat(pd.read_parquet(p) for p in (workdir / "results/frames/manifest").glob("*.parquet"))
    replaced = manifests[manifests["reason"].str.startswith("replaced a damaged cached copy")]
    assert {Path(p).name for p in replaced["relpath"]} == {truncated.name, flipped.name}
    _assert_same_dataset(workdir, reference_run)
