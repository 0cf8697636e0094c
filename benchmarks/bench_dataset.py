#!/usr/bin/env python
"""Benchmark stage 6: the shard writer and the tf.data readers.

Random cubes in partition files (the real cubes' format and size; pixel values do not
change the speed of either side) are built into a dataset by the stage script, then
read back:
  * writer: galaxies/s and MB/s of TFRecord + Parquet written (sizes and SHA-256
    included), peak RSS of the build process;
  * training reader (train on every fold but 0): examples/s with the 8-fold dihedral
    augmentation, shuffling and batching, and without augmentation;
  * evaluation reader: examples/s in shard order;
  * peak RSS of the reading process.

    .venv/bin/python benchmarks/bench_dataset.py --partitions 20 --per-partition 600
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cube_factory import build_dataset_command, write_random_partitions  # noqa: E402

from photoz.dataset.reader import count_examples, evaluation_dataset, training_dataset  # noqa: E402
from photoz.dataset.shards import read_manifest  # noqa: E402


def build(work: Path, n_parts: int, per_part: int, shard_mb: float) -> tuple[Path, float, float]:
    """Build the dataset in a child process: (manifest, seconds, peak RSS MB)."""
    catalog, cubes = write_random_partitions(work / "cubes", n_parts, per_part, seed=1)
    cfg = work / "config.yaml"
    cfg.write_text(yaml.safe_dump({"dataset": {"shard_mb": shard_mb}}))
    out = work / "dataset"
    cmd = build_dataset_command(cfg, catalog, cubes, out)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"build_dataset failed: {' '.join(cmd)}")
    return out / "manifest.tsv", time.perf_counter() - t0, usage.ru_maxrss / 1024


def rate(make_dataset, epochs: int) -> tuple[float, float, float]:
    """(examples/s after each epoch's first batch, mean seconds to that first batch,
    examples/s overall).

    The first batch of an epoch waits for the shuffle buffer to fill; at survey scale
    (~400k examples per epoch) that start-up is negligible, so it is reported apart.
    """
    n, busy, startup = 0, 0.0, 0.0
    for epoch in range(epochs):
        t0 = time.perf_counter()
        iterator = iter(make_dataset(epoch))
        next(iterator)
        t1 = time.perf_counter()
        for batch in iterator:
            n += int(batch["image"].shape[0])
        busy += time.perf_counter() - t1
        startup += t1 - t0
    return n / busy, startup / epochs, n / (busy + startup)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partitions", type=int, default=20)
    parser.add_argument("--per-partition", type=int, default=600)
    parser.add_argument("--shard-mb", type=float, default=150)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workdir", help="keep the files here (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dataset-") as tmp:
        work = Path(args.workdir or tmp)
        n = args.partitions * args.per_partition
        manifest_path, seconds, build_rss = build(work, args.partitions, args.per_partition, args.shard_mb)
        manifest = read_manifest(manifest_path)
        written = manifest["n_bytes"].sum() / 1e6
        tfr = manifest.loc[manifest["format"] == "tfrecord", "n_bytes"].sum() / 1e6
        print(f"galaxies: {n} in {args.partitions} partitions, {os.cpu_count()} CPUs")
        print(
            f"writer: {seconds:.1f} s (incl. ~3 s TensorFlow import) = {n / seconds:.0f} galaxies/s, "
            f"{written / seconds:.0f} MB/s written ({tfr:.0f} MB TFRecord + {written - tfr:.0f} MB Parquet), "
            f"peak RSS {build_rss:.0f} MB"
        )
        n_train = count_examples(manifest, [1, 2, 3, 4], ["train"])
        print(f"training set of fold 0: {n_train} examples, batch {args.batch}")
        for label, kwargs in (("dihedral augmentation", {}), ("no augmentation", {"augment": False})):
            speed, startup, overall = rate(
                lambda e, kw=kwargs: training_dataset(manifest, 0, args.batch, seed=1, epoch=e, **kw),
                args.epochs,
            )
            print(
                f"training reader, {label}: {speed:.0f} examples/s (first batch of an epoch after "
                f"{startup:.1f} s; {overall:.0f} examples/s including it)"
            )
        speed, startup, overall = rate(lambda e: evaluation_dataset(manifest, e % 5, args.batch), 5)
        print(f"evaluation reader (all 5 folds): {speed:.0f} examples/s ({overall:.0f} including start-up)")
        print(f"reader peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
