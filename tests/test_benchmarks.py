"""The GPU benchmark and the GPU check script run (at tiny sizes) wherever the tests do;
on a machine without a GPU they take the GPU code path on the CPU and say so."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
from conftest import REPO


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_training_benchmark_on_the_gpu_path_reports_every_rate():
    out = _run("benchmarks/bench_training.py", "--device", "gpu", "--networks", "p19_tiny", "--tiny")
    assert re.search(r"device: .*mixed_float16, XLA True", out), out
    rates = re.search(
        r"p19_tiny .*compute +(\d+) images/s .*input pipeline +(\d+), "
        r"end to end +(\d+) \((input|compute)-bound\); inference +(\d+)",
        out,
    )
    assert rates and all(int(rates.group(k)) > 0 for k in (1, 2, 3, 5)), out
    assert re.search(r"peak RSS \d+ MB", out)


def test_gpu_check_script_runs_end_to_end():
    out = _run("benchmarks/gpu_check.py", "--tiny")
    assert "GPUs seen by TensorFlow:" in out
    assert re.search(r"train_member: 8 steps of p19_tiny .*: ok", out), out
    assert re.search(r"bench p19_tiny batch 16: compute \d+ images/s", out), out


def test_frame_readers_counts_every_partition_that_reads_a_frame():
    """The survey-scale benchmark's count of partitions reading each frame: a frame
    read by two other partitions (one of them through two galaxies) has 3 readers."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_survey_scale import frame_readers

    own = pd.DataFrame({"path": ["a", "a", "b", "c"]})
    others = pd.DataFrame({"path": ["a", "a", "a", "b", "d"], "partition": [3, 3, 4, 3, 5]})
    assert frame_readers(own, others).to_dict() == {"a": 3, "b": 2, "c": 1}


def test_evaluate_benchmark_reports_cost_and_memory():
    out = _run("benchmarks/bench_evaluate.py", "--galaxies", "3000")
    found = re.search(r"evaluate: 3,000 test galaxies.*\(([\d.]+) CPU-s.*peak RSS (\d+) MB", out)
    assert found and float(found.group(1)) > 0 and int(found.group(2)) > 100, out
