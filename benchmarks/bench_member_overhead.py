#!/usr/bin/env python
"""The fixed cost of a training job besides its steps, per member: one member per job
against every member of a fold in one job (``training.one_job_per_fold``).

Runs ``photoz train`` itself (a fresh process, as Snakemake does) on a dataset of
random cubes with the default config: one member for 1 step and for ``--steps`` steps,
and ``--members`` members of 1 step in one job. Prints the imports alone (a separate
interpreter), start to the first step (imports, TensorFlow set-up, data, model), the
first step to the end (tracing, validation, saving), the per-step cost, and the fixed
cost per member = (job time - steps x per-step cost) / members, both ways.

    .venv/bin/python benchmarks/bench_member_overhead.py --galaxies 1200 --steps 200 --members 6
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


def run_job(work: Path, manifest: Path, steps: int, members: int) -> dict:
    """Wall time of one ``photoz train`` job training ``members`` members for ``steps``
    steps each, and the log timestamp of its first member's first step."""
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["training"].update(steps=steps, validate_every=steps, checkpoint_every=steps)
    name = f"m{members}s{steps}"
    config = work / f"{name}.yaml"
    config.write_text(yaml.safe_dump(cfg))
    outs, log = [str(work / name / f"member{m}") for m in range(members)], work / f"{name}.log"
    cmd = [str(Path(sys.executable).parent / "photoz"), "train", "--configfile", str(config)]
    cmd += ["--manifest", str(manifest), "--fold", "0", "--member", *map(str, range(members))]
    cmd += ["--out-dir", *outs, "--log", str(log)]
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
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--galaxies", type=int, default=1200)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--members", type=int, default=6, help="members of the one-job-per-fold run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="member-overhead-") as tmp:
        work = Path(tmp)
        manifest = bench_training.random_dataset(work, args.galaxies)
        t0 = time.perf_counter()
        imports = "import tensorflow, keras, photoz.models.train, photoz.dataset.reader"
        subprocess.run([sys.executable, "-c", imports], check=True, capture_output=True)
        import_s = time.perf_counter() - t0
        one = run_job(work, manifest, 1, 1)
        many = run_job(work, manifest, args.steps, 1)
        group = run_job(work, manifest, 1, args.members)
    per_step = (many["wall"] - one["wall"]) / (args.steps - 1)
    fixed = one["wall"] - per_step
    fixed_in_group = (group["wall"] - args.members * per_step) / args.members
    print(
        f"one member per job, default config: {one['wall']:.1f} s for 1 step, "
        f"{many['wall']:.1f} s for {args.steps}"
    )
    print(f"  of which Python, TensorFlow and photoz imports alone: {import_s:.1f} s")
    print(f"  start to the first step (imports, TensorFlow set-up, data, model): {one['to_training']:.1f} s")
    tail = one["wall"] - one["to_training"]
    print(f"  first step to the end (tracing, 1 step, validation, saving): {tail:.1f} s")
    print(f"  per step: {1000 * per_step:.1f} ms; fixed cost per member: {fixed:.1f} s")
    print(
        f"{args.members} members in one job (training.one_job_per_fold): {group['wall']:.1f} s "
        "for 1 step each; "
        f"fixed cost per member {fixed_in_group:.1f} s ({fixed / fixed_in_group:.1f}x less)"
    )
    default_steps = yaml.safe_load((REPO / "config.yaml").read_text())["training"]["steps"]
    for label, cost in (("one per job", fixed), ("in one job", fixed_in_group)):
        share = cost / (cost + default_steps * per_step)
        print(f"  at the default {default_steps} steps, fixed cost ({label}): {share:.0%} of a member's time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
