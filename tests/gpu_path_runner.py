"""Train one member through one execution path on CPU devices (run as a subprocess:
logical devices and the precision policy must be set before TensorFlow starts).

    python tests/gpu_path_runner.py PATH MANIFEST OUT_DIR

PATH: ``float32`` (one device, the CPU default), ``mixed_xla`` (mixed float16 with loss
scaling and an XLA-compiled step, the single-GPU path) or ``mirrored`` (MirroredStrategy
over two logical CPU devices, the multi-GPU path).
"""

from __future__ import annotations

import sys

import tensorflow as tf

from photoz.models.member import TrainParams, execution_on
from photoz.models.train import train_member

#: 8 steps of p19_tiny, a checkpoint and a validation row every 4.
PARAMS = {
    "network": "p19_tiny",
    "steps": 8,
    "batch_size": 16,
    "learning_rate": 1e-3,
    "checkpoint_every": 4,
    "validate_every": 4,
    "shuffle_buffer": 64,
    "threads": 1,
}


def main(path: str, manifest: str, out_dir: str) -> None:
    cpu = tf.config.list_physical_devices("CPU")[0]
    if path == "mirrored":
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    execution = {
        "float32": lambda: execution_on(["/cpu:0"], mixed=False, jit=False),
        "mixed_xla": lambda: execution_on(["/cpu:0"], mixed=True, jit=True),
        "mirrored": lambda: execution_on(["/cpu:0", "/cpu:1"], mixed=False, jit=False),
    }[path]()
    train_member(TrainParams.from_config(PARAMS), manifest, 1, 0, out_dir, execution=execution)


if __name__ == "__main__":
    main(*sys.argv[1:])
