#!/usr/bin/env python
"""Where one training job's time goes besides the training steps: the fixed cost per
member that grouping members into one job would save (issue 24).

Runs ``photoz train`` itself (a fresh process, as Snakemake does) for 1 step and for
``--steps`` steps of the default config on a dataset of random cubes, reads the phases
from the job's log and prints: the imports alone (a separate interpreter), start to the
first step (imports, TensorFlow set-up, data, model), the first step to the end
(tracing, validation, saving), the per-step cost, and the fixed cost = time(1 step) -
1 step's share.

    .venv/bin/python benchmarks/bench_member_overhead.py --galaxies 1200 --steps 200
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_training  # noqa: E402  (puts photoz on the import path)
import yaml  # noqa: E402

REPO = bench_training.REPO
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO (\S+): (.*)$")


def run_member(work: Path, manifest: Path, steps: int) -> dict:
    """Wall time of one ``photoz train`` job and the log timestamps of its phases."""
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["training"].update(steps=steps, validate_every=steps, checkpoint_every=steps)
    config = work / f"steps{steps}.yaml"
    config.write_text(yaml.safe_dump(cfg))
    out, log = work / f"member{steps}", work / f"member{steps}.log"
    cmd = [str(Path(sys.executable).parent / "photoz"), "train", "--configfile", str(config)]
    cmd += [
        "--manifest",
        str(manifest),
        "--fold",
        "0",
        "--member",
        "0",
        "--out-dir",
        str(out),
        "--log",
        str(log),
    ]
    started = time.time()
    done = subprocess.run(cmd, capture_output=True, text=True)
    ended = time.time()
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    stamps = []
    for line in log.read_text().splitlines():
        m = STAMP.match(line)
        if m:
            stamps.append((datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp(), m.group(3)))
    training_starts = next(t for t, text in stamps if "training examples" in text)
    return {
        "wall": ended - started,
        "to_training": training_starts - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--galaxies", type=int, default=1200)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="member-overhead-") as tmp:
        work = Path(tmp)
        manifest = bench_training.random_dataset(work, args.galaxies)
        t0 = time.perf_counter()
        imports = "import tensorflow, keras, photoz.models.train, photoz.dataset.reader"
        subprocess.run([sys.executable, "-c", imports], check=True, capture_output=True)
        import_s = time.perf_counter() - t0
        one = run_member(work, manifest, 1)
        many = run_member(work, manifest, args.steps)
    per_step = (many["wall"] - one["wall"]) / (args.steps - 1)
    fixed = one["wall"] - per_step
    print(
        f"one member job, default config: {one['wall']:.1f} s for 1 step, "
        f"{many['wall']:.1f} s for {args.steps}"
    )
    print(f"  of which Python, TensorFlow and photoz imports alone: {import_s:.1f} s")
    print(f"  start to the first step (imports, TensorFlow set-up, data, model): {one['to_training']:.1f} s")
    tail = one["wall"] - one["to_training"]
    print(f"  first step to the end (tracing, 1 step, validation, saving): {tail:.1f} s")
    print(f"  per step: {1000 * per_step:.1f} ms; fixed cost per member job: {fixed:.1f} s")
    default_steps = yaml.safe_load((REPO / "config.yaml").read_text())["training"]["steps"]
    share = fixed / (fixed + default_steps * per_step)
    print(f"  at the default {default_steps} steps the fixed cost is {share:.0%} of a member's job")
    return 0


if __name__ == "__main__":
    sys.exit(main())
