#!/usr/bin/env python
"""Benchmark the networks: training and inference images/s, peak memory.

Synthetic in-memory batches (each variant's crop x 5 bands + E(B-V)) through the same
train step as photoz.models.train (Adam, cross-entropy on 180 bins, tf.function; XLA and
mixed float16 when a GPU is present; float32 on a CPU, optionally also mixed bfloat16),
after a warm-up. P19 reports 0.21 s per batch of 128 on
a GTX Titan X, i.e. ~610 images/s for training.

    .venv/bin/python benchmarks/bench_training.py --networks p19 p19_cpu p19_tiny --steps 10
    .venv/bin/python benchmarks/bench_training.py --networks p19_tiny --batch 64 --threads 1
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from photoz.models.networks import build_network, input_size  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--networks", nargs="+", default=["p19", "p19_cpu", "p19_tiny"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all cores)")
    parser.add_argument("--bfloat16", action="store_true", help="also time mixed bfloat16 on a CPU")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    gpus = tf.config.list_physical_devices("GPU")
    # On CPUs with AMX, --bfloat16 also measures mixed bfloat16 (not used by the pipeline:
    # no gain for p19_tiny, +19% for p19_cpu on this project's Xeon).
    if gpus:
        policies = ["mixed_float16"]
    else:
        policies = ["float32", *(["mixed_bfloat16"] if args.bfloat16 else [])]
    device = (
        f"{len(gpus)} GPU(s), XLA"
        if gpus
        else f"CPU, {os.cpu_count()} cores, threads {args.threads or 'all'}"
    )
    print(f"device: {device}; batch {args.batch}")
    rng = np.random.default_rng(0)
    labels = tf.constant(rng.integers(0, 180, args.batch))
    for name, policy in [(n, p) for n in args.networks for p in policies]:
        keras.mixed_precision.set_global_policy(policy)
        size = input_size(name)  # the variant's central crop
        inputs = {
            "image": tf.constant(rng.normal(size=(args.batch, size, size, 5)).astype(np.float32)),
            "ebv": tf.constant(rng.uniform(size=(args.batch, 1)).astype(np.float32)),
        }
        keras.utils.set_random_seed(0)
        model = build_network(name)
        optimizer = keras.optimizers.Adam(1e-4)
        if policy == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)

        @tf.function(jit_compile=bool(gpus))
        def train_step(x, y, model=model, optimizer=optimizer, scale=policy == "mixed_float16"):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(
                    keras.losses.sparse_categorical_crossentropy(y, model(x, training=True))
                )
                scaled = optimizer.scale_loss(loss) if scale else loss
            grads = tape.gradient(scaled, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            return loss

        @tf.function(jit_compile=bool(gpus))
        def infer(x, model=model):
            return model(x, training=False)

        train_step(inputs, labels).numpy()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            loss = train_step(inputs, labels)
        loss.numpy()
        train_rate = args.steps * args.batch / (time.perf_counter() - t0)
        infer(inputs).numpy()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            out = infer(inputs)
        out.numpy()
        infer_rate = args.steps * args.batch / (time.perf_counter() - t0)
        print(
            f"{name:10s} {policy:15s} {model.count_params():>11,d} parameters: "
            f"training {train_rate:7.0f} images/s "
            f"({args.batch / train_rate:.3f} s per batch), inference {infer_rate:7.0f} images/s"
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
