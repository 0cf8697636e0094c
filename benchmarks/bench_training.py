#!/usr/bin/env python
"""Benchmark the networks' training and inference, and whether the input pipeline keeps up.

For each network, three rates in images/s after a warm-up:

* compute: the train step of photoz.models.train (Adam, cross-entropy on 180 bins) on
  one batch held on the device: what the accelerator can do;
* input: the photoz.dataset.reader training pipeline alone (shards of random cubes built
  here, parsing, augmentation, batching; prefetched to the GPU on a GPU);
* end to end: the train step fed by that pipeline.

The input pipeline is the bottleneck when end to end is well below compute and input is
not above it. Also inference images/s, peak RSS and (GPU) peak device memory.

``--device gpu`` takes the GPU path of photoz.models.member.Execution: mixed float16 with
loss scaling and an XLA-compiled step, the data prefetched to the device. Without a GPU
it runs that path on the CPU (so CI exercises it) and says so; its figures are then not
GPU figures. ``--device cpu``: float32, no XLA (the pipeline's CPU path). P19 reports
0.21 s per batch of 128 on a GTX Titan X (~610 images/s); issue 24's goal on an H100-class
GPU is >= 6,100 images/s for the full p19 network.

    .venv/bin/python benchmarks/bench_training.py --networks p19 p19_tiny --steps 20
    .venv/bin/python benchmarks/bench_training.py --device gpu --networks p19 --batch 128 --steps 50
    .venv/bin/python benchmarks/bench_training.py --device gpu --networks p19_tiny --tiny  # CI
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))
sys.path.insert(0, str(REPO / "tests"))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from photoz.config import load_config  # noqa: E402
from photoz.dataset.reader import training_dataset  # noqa: E402
from photoz.models.member import execution_on  # noqa: E402
from photoz.models.networks import build_network, input_size, model_inputs  # noqa: E402

#: ``--tiny``: sizes that run in seconds on a CPU (CI), not for figures.
TINY = {"batch": 16, "steps": 4, "galaxies": 200}


def random_dataset(out: Path, galaxies: int) -> Path:
    """Shards of ``galaxies`` random cubes in 5 folds (tests/cube_factory); the manifest."""
    from cube_factory import build_dataset, write_random_partitions

    parts = max(1, galaxies // 500)
    catalog, cubes = write_random_partitions(out / "cubes", parts, galaxies // parts, seed=1)
    cfg = load_config(REPO / "config.yaml")
    build_dataset(cfg, catalog, cubes, out / "dataset")
    return out / "dataset" / "manifest.tsv"


def _rate(fn, steps: int, batch: int) -> float:
    """Images/s of ``steps`` calls of ``fn`` (one batch each) after one warm-up call
    (tracing, XLA compilation), waiting for the device at the end."""
    first = fn()
    if hasattr(first, "numpy"):
        first.numpy()
    t0 = time.perf_counter()
    for _ in range(steps):
        out = fn()
    if hasattr(out, "numpy"):
        out.numpy()
    return steps * batch / (time.perf_counter() - t0)


def bench_network(name: str, execution, manifest: Path, batch: int, steps: int, device: str) -> dict:
    """Compute, input, end-to-end and inference images/s of one network."""
    keras.utils.set_random_seed(0)
    crop = input_size(name)
    with execution.strategy.scope():
        model = build_network(name)
        optimizer = keras.optimizers.Adam(1e-4)
        if execution.policy == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    scale = execution.policy == "mixed_float16"

    @tf.function(jit_compile=execution.jit)
    def train_step(batch_data):
        with tf.GradientTape() as tape:
            labels = tf.cast(tf.clip_by_value(batch_data["z"] / 0.4 * 180, 0, 179), tf.int64)
            pdf = model(model_inputs(batch_data), training=True)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(labels, pdf))
            scaled = optimizer.scale_loss(loss) if scale else loss
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    @tf.function(jit_compile=execution.jit)
    def infer(batch_data):
        return model(model_inputs(batch_data), training=False)

    def pipeline(epoch: int = 0):
        ds = training_dataset(str(manifest), 0, batch, seed=1, epoch=epoch, crop=crop, shuffle_buffer=512)
        if device.startswith("/gpu"):
            ds = ds.apply(tf.data.experimental.prefetch_to_device(device, 2))
        return ds

    def endless():
        epoch = 0
        while True:
            yield from pipeline(epoch)
            epoch += 1

    stream = endless()
    with tf.device(device):
        held = next(iter(pipeline()))
        held = {k: tf.identity(v) for k, v in held.items()}
    compute = _rate(lambda: train_step(held), steps, batch)
    inference = _rate(lambda: infer(held), steps, batch)
    input_rate = _rate(lambda: next(stream)["image"], steps, batch)
    end_to_end = _rate(lambda: train_step(next(stream)), steps, batch)
    memory = None
    if device.startswith("/gpu"):
        memory = tf.config.experimental.get_memory_info(device.strip("/").upper())["peak"] / 2**30
    return {
        "network": name,
        "parameters": model.count_params(),
        "compute": compute,
        "input": input_rate,
        "end_to_end": end_to_end,
        "inference": inference,
        "gpu_peak_gib": memory,
        "input_bound": end_to_end < 0.8 * compute and input_rate < 1.2 * compute,
    }


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--networks", nargs="+", default=["p19", "p19_cpu", "p19_tiny"])
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--galaxies", type=int, default=2000, help="random cubes in the benchmark's dataset")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all cores)")
    parser.add_argument("--tiny", action="store_true", help=f"CI sizes {TINY}: runs, measures nothing useful")
    args = parser.parse_args(argv)
    if args.tiny:
        args.batch, args.steps, args.galaxies = TINY["batch"], TINY["steps"], TINY["galaxies"]
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    gpus = tf.config.list_physical_devices("GPU")
    if args.device == "gpu":
        device = "/gpu:0" if gpus else "/cpu:0"
        execution = execution_on([device], mixed=True, jit=True)
        where = f"{len(gpus)} GPU(s), benchmarking /gpu:0" if gpus else "no GPU: the GPU path on the CPU"
    else:
        device = "/cpu:0"
        execution = execution_on([device], mixed=False, jit=False)
        where = f"CPU, {os.cpu_count()} cores, threads {args.threads or 'all'}"
    print(f"device: {where}; {execution.policy}, XLA {execution.jit}; batch {args.batch}, {args.steps} steps")
    with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
        manifest = random_dataset(Path(tmp), args.galaxies)
        for name in args.networks:
            r = bench_network(name, execution, manifest, args.batch, args.steps, device)
            memory = f", GPU peak {r['gpu_peak_gib']:.1f} GiB" if r["gpu_peak_gib"] is not None else ""
            verdict = "input-bound" if r["input_bound"] else "compute-bound"
            print(
                f"{name:10s} {r['parameters']:>11,d} parameters: training compute {r['compute']:7.0f} "
                f"images/s ({args.batch / r['compute']:.3f} s per batch), input pipeline {r['input']:7.0f}, "
                f"end to end {r['end_to_end']:7.0f} ({verdict}); "
                f"inference {r['inference']:7.0f} images/s{memory}"
            )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
