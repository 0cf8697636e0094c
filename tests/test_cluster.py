"""Cluster use: the pipeline through a real SLURM (Debian slurm-wlm, started here) and
recovery from a run killed mid-stage; both must reproduce an uninterrupted local run."""

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
    log = (workdir / f"logs/train/baseline/{fold}/member0.log").read_text()
    assert re.search(r"resumed from .*ckpt-(\d+) at step (\d+)", log), log[-2000:]
    # the history survives Snakemake deleting the interrupted job's outputs
    assert list(pd.read_csv(member / "history.csv")["step"]) == [20, 40]
    assert_same_outputs(workdir, reference_run)
