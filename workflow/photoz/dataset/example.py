"""The training example: one galaxy as a ``tf.train.Example`` protocol buffer.

Features (all fixed length, so ``tf.io.parse_example`` reads them without Python):

=========  ==========  =====================================================
objid      int64       SDSS objID (< 2**63)
cube       float[20480] float32 cube, shape (5, 64, 64), bands u, g, r, i, z
weight     float[20480] its per-pixel weight map, same shape
ebv        float       E(B-V) (SFD), the network's second input
z          float       spectroscopic redshift (float32; the catalog keeps float64)
r          float       dereddened Petrosian r magnitude
fold       int64       test fold of the galaxy
validation int64       1 if the galaxy is in the validation set
=========  ==========  =====================================================

The cube is a packed float list rather than raw bytes: TensorFlow parses packed
floats straight into the tensor (~6x faster than bytes + ``decode_raw``, measured in
benchmarks/bench_dataset.py). Python's protobuf builds such a list element by element
(~1 ms per cube), so the wire format is written here directly (protobuf encoding of
``Example`` is stable and public); tests check it parses to the same message.
"""

from __future__ import annotations

import numpy as np

from ..constants import CUBE_SHAPE

CUBE_SIZE = int(np.prod(CUBE_SHAPE))
INT_FEATURES = ("objid", "fold", "validation")
FLOAT_FEATURES = ("ebv", "z", "r")
ARRAY_FEATURES = ("cube", "weight")


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # int64 negatives are 10-byte two's complement varints
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def _float_feature(values: np.ndarray) -> bytes:
    # Feature.float_list = 2; FloatList.value = 1 (packed little-endian float32).
    return _field(2, _field(1, np.ascontiguousarray(values, dtype="<f4").tobytes()))


def _int_feature(value: int) -> bytes:
    # Feature.int64_list = 3; Int64List.value = 1 (packed varints).
    return _field(3, _field(1, _varint(int(value))))


def encode_example(
    objid: int,
    cube: np.ndarray,
    weight: np.ndarray,
    ebv: float,
    z: float,
    r: float,
    fold: int,
    validation: bool,
) -> bytes:
    """Serialize one galaxy as a ``tf.train.Example`` (see the module docstring)."""
    if cube.shape != CUBE_SHAPE or weight.shape != CUBE_SHAPE:
        raise ValueError(f"galaxy {objid}: cube and weight must be {CUBE_SHAPE}, got {cube.shape}")
    if not 0 <= int(objid) < 2**63:
        raise ValueError(f"galaxy {objid}: objid does not fit an int64 feature")
    features = {
        "objid": _int_feature(objid),
        "cube": _float_feature(cube.ravel()),
        "weight": _float_feature(weight.ravel()),
        "ebv": _float_feature(np.array([ebv])),
        "z": _float_feature(np.array([z])),
        "r": _float_feature(np.array([r])),
        "fold": _int_feature(fold),
        "validation": _int_feature(int(validation)),
    }
    # Example.features = 1; Features.feature = 1 (map entries: key = 1, value = 2).
    entries = b"".join(_field(1, _field(1, k.encode()) + _field(2, v)) for k, v in features.items())
    return _field(1, entries)
