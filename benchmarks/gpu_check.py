#!/usr/bin/env python
"""One-command check of a GPU machine for this pipeline, in well under 10 minutes.

1. What TensorFlow sees: version, CUDA/cuDNN build, the GPUs (and nvidia-smi's view).
2. One member trained through ``train_member`` with the execution the pipeline picks
   itself (mixed float16 + XLA on a GPU; MirroredStrategy over several GPUs), a
   checkpoint and a validation row every quarter, on a random dataset built here: it
   must end with a finite loss.
3. ``bench_training`` on the full P19 network (batch 128): compute, input-pipeline and
   end-to-end images/s, GPU peak memory, whether the input pipeline is the bottleneck,
   against the goal of >= 6,100 images/s (10x P19's Titan X).

Exit status 0 when every step ran (the speed goal is reported, not enforced).

    .venv/bin/python benchmarks/gpu_check.py          # on the GPU machine
    .venv/bin/python benchmarks/gpu_check.py --tiny   # anywhere, seconds (CI)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_training  # noqa: E402  (sets up the import path of photoz)
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from photoz.models.member import TrainParams, configure_tensorflow  # noqa: E402
from photoz.models.train import train_member  # noqa: E402

#: The speed goal of issue 24 for the full p19 network (images/s).
GOAL_IMAGES_PER_S = 6100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiny", action="store_true", help="p19_tiny, a few steps: runs anywhere in seconds")
    args = parser.parse_args(argv)
    network, batch, steps, galaxies = ("p19_tiny", 16, 8, 200) if args.tiny else ("p19", 128, 50, 5000)
    started = time.perf_counter()

    print(f"TensorFlow {tf.__version__}; build: {dict(tf.sysconfig.get_build_info())}")
    gpus = tf.config.list_physical_devices("GPU")
    print(f"GPUs seen by TensorFlow: {[g.name for g in gpus] or 'none'}")
    if shutil.which("nvidia-smi"):
        query = "name,memory.total,driver_version"
        smi = subprocess.run(
            ["nvidia-smi", f"--query-gpu={query}", "--format=csv"], capture_output=True, text=True
        )
        print(smi.stdout.strip())

    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        manifest = bench_training.random_dataset(Path(tmp), galaxies)
        execution = configure_tensorflow(0, deterministic=False)
        print(f"execution: {execution.replicas} replica(s), {execution.policy}, XLA {execution.jit}")
        params = TrainParams.from_config(
            {
                "network": network,
                "steps": steps,
                "batch_size": batch,
                "checkpoint_every": max(1, steps // 4),
                "validate_every": max(1, steps // 4),
                "shuffle_buffer": 512,
            }
        )
        t0 = time.perf_counter()
        history = train_member(params, str(manifest), 0, 0, str(Path(tmp) / "member"), execution=execution)
        ok = bool(pd.notna(history["train_loss"]).all()) and list(history["step"])[-1] == steps
        losses = list(history["train_loss"].round(3))
        print(
            f"train_member: {steps} steps of {network} at batch {batch} in {time.perf_counter() - t0:.1f} s, "
            f"last {history['images_per_s'].iloc[-1]:.0f} images/s, losses {losses}: "
            + ("ok" if ok else "FAILED")
        )
        device = "/gpu:0" if gpus else "/cpu:0"
        r = bench_training.bench_network(network, execution, manifest, batch, steps, device)
    memory = f", GPU peak {r['gpu_peak_gib']:.1f} GiB" if r["gpu_peak_gib"] is not None else ""
    print(
        f"bench {network} batch {batch}: compute {r['compute']:.0f} images/s, input {r['input']:.0f}, "
        f"end to end {r['end_to_end']:.0f} ({'input-bound' if r['input_bound'] else 'compute-bound'}), "
        f"inference {r['inference']:.0f}{memory}"
    )
    if not args.tiny:
        verdict = "met" if r["end_to_end"] >= GOAL_IMAGES_PER_S else "NOT met"
        print(f"goal >= {GOAL_IMAGES_PER_S} images/s end to end for p19: {verdict}")
    print(f"gpu_check done in {time.perf_counter() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
