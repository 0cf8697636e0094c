"""Shard writing and the shard manifest.

Each (fold, role) stream (role ``train`` or ``valid``) is cut into numbered shards of
about ``target_bytes``: a TFRecord file ``fold{k}/part-{role}-{n:05d}.tfrecord`` and
its Parquet twin with the same rows in the same order (for pandas/pyarrow, Spark,
HuggingFace datasets). Shards are written under a temporary name and renamed when
closed. The manifest lists every file with its record count, size and SHA-256;
:func:`verify_manifest` finds a truncated or corrupted shard and names it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..constants import BANDS
from ..errors import DatasetError  # noqa: F401  (raised here; re-exported)
from ..io import atomic_path, publish, temp_path_beside
from ..tables import TableStream
from .example import CUBE_SHAPE, encode_example

ROLES = ("train", "valid")
MANIFEST_COLUMNS = ["path", "format", "fold", "role", "shard", "n_records", "n_bytes", "sha256"]
TFRECORD_OVERHEAD = 16  # length (8) + two masked CRC32C (4 + 4) per record

SHARD_METADATA = {"cube_shape": list(CUBE_SHAPE), "band_order": list(BANDS)}
# Parquet twins: objid, fold, validation, ebv, z, r, cube, weight (read_table(kind="dataset_shard"))
SHARD_KIND = "dataset_shard"


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@dataclass
class ShardStream:
    """Writes one (fold, role) stream as numbered TFRecord + Parquet shard pairs."""

    shards_dir: Path
    parquet_dir: Path
    manifest_dir: Path
    fold: int
    role: str
    target_bytes: int
    manifest: list[dict] = field(default_factory=list)
    _shard: int = -1
    _records: int = 0
    _bytes: int = 0
    _tf_writer: object = None
    _pq_writer: TableStream | None = None
    _paths: tuple[Path, Path, Path, Path] | None = None

    def name(self, shard: int) -> str:
        return f"fold{self.fold}/part-{self.role}-{shard:05d}"

    def write(self, columns: dict[str, np.ndarray], cubes: np.ndarray, weights: np.ndarray) -> list[tuple]:
        """Append galaxies; return (tfrecord path, parquet path, record index) of each."""
        locations, pending = [], []
        for k in range(len(cubes)):
            record = encode_example(
                int(columns["objid"][k]),
                cubes[k],
                weights[k],
                columns["ebv"][k],
                columns["z"][k],
                columns["r"][k],
                self.fold,
                bool(columns["validation"][k]),
            )
            size = len(record) + TFRECORD_OVERHEAD
            if self._tf_writer is None or (self._records and self._bytes + size > self.target_bytes):
                self._flush_parquet(columns, cubes, weights, pending)
                pending = []
                self._open_next()
            self._tf_writer.write(record)
            self._bytes += size
            pending.append(k)
            name = self.name(self._shard)
            locations.append((f"shards/{name}.tfrecord", f"parquet/{name}.parquet", self._records))
            self._records += 1
        self._flush_parquet(columns, cubes, weights, pending)
        return locations

    def close(self) -> None:
        """Close and publish the current shard pair (records its manifest rows)."""
        if self._tf_writer is None:
            return
        self._tf_writer.close()
        self._pq_writer.close()
        tf_tmp, tf_final, pq_tmp, pq_final = self._paths
        for tmp, final, fmt in ((tf_tmp, tf_final, "tfrecord"), (pq_tmp, pq_final, "parquet")):
            publish(tmp, final)
            self.manifest.append(
                {
                    "path": os.path.relpath(final, self.manifest_dir),
                    "format": fmt,
                    "fold": self.fold,
                    "role": self.role,
                    "shard": self._shard,
                    "n_records": self._records,
                    "n_bytes": final.stat().st_size,
                    "sha256": sha256_of(final),
                }
            )
        self._tf_writer = self._pq_writer = self._paths = None

    def abort(self) -> None:
        """Remove the unfinished shard pair (after an error)."""
        for writer in (self._tf_writer, self._pq_writer):
            if writer is not None:
                writer.close()
        for path in (self._paths or ())[::2]:
            path.unlink(missing_ok=True)
        self._tf_writer = self._pq_writer = self._paths = None

    def _open_next(self) -> None:
        import tensorflow as tf

        self.close()
        self._shard += 1
        self._records = self._bytes = 0
        name = self.name(self._shard)
        tf_final = self.shards_dir / f"{name}.tfrecord"
        pq_final = self.parquet_dir / f"{name}.parquet"
        tf_tmp, pq_tmp = temp_path_beside(tf_final), temp_path_beside(pq_final)
        self._paths = (tf_tmp, tf_final, pq_tmp, pq_final)
        self._tf_writer = tf.io.TFRecordWriter(str(tf_tmp))
        # Snappy halves real cubes (weight maps compress well). Dictionary encoding and
        # statistics of 20480 floats per row cost ~35% of the writer's time for nothing.
        self._pq_writer = TableStream(
            pq_tmp,
            compression="snappy",
            use_dictionary=False,
            write_statistics=["objid", "fold", "validation", "ebv", "z", "r"],
        )

    def _flush_parquet(self, columns, cubes, weights, rows: list[int]) -> None:
        if not rows:
            return
        idx = np.asarray(rows)
        frame = pd.DataFrame(
            {
                "objid": columns["objid"][idx].astype(np.int64),
                "fold": np.full(len(idx), self.fold, dtype=np.int8),
                "validation": columns["validation"][idx].astype(bool),
                "ebv": columns["ebv"][idx].astype(np.float32),
                "z": columns["z"][idx].astype(np.float32),
                "r": columns["r"][idx].astype(np.float32),
            }
        )
        arrays = {"cube": cubes[idx], "weight": weights[idx]}
        self._pq_writer.write(frame, SHARD_METADATA, arrays, SHARD_KIND)


def write_manifest(rows: list[dict], path: str | os.PathLike) -> pd.DataFrame:
    """Write the manifest TSV atomically (sorted by fold, role, shard, format)."""
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS).sort_values(["fold", "role", "shard", "format"])
    with atomic_path(path) as tmp:
        manifest.to_csv(tmp, sep="\t", index=False)
    return manifest.reset_index(drop=True)


def read_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """The manifest table, with ``abspath`` added (paths are relative to its directory)."""
    manifest = pd.read_csv(path, sep="\t", dtype={"sha256": str})
    base = Path(path).resolve().parent
    manifest["abspath"] = [str(base / p) for p in manifest["path"]]
    return manifest


def verify_manifest(path: str | os.PathLike, checksums: bool = True) -> pd.DataFrame:
    """Check every listed file exists with its size (and SHA-256); raise naming the file."""
    manifest = read_manifest(path)
    for row in manifest.itertuples():
        file = Path(row.abspath)
        if not file.exists():
            raise DatasetError(f"dataset shard {file} is missing (listed in {path})")
        size = file.stat().st_size
        if size != row.n_bytes:
            raise DatasetError(
                f"dataset shard {file} has {size} bytes but the manifest {path} says {row.n_bytes}"
                " (truncated or overwritten); rebuild with snakemake --forcerun build_dataset"
            )
        if checksums and sha256_of(file) != row.sha256:
            raise DatasetError(
                f"dataset shard {file} is corrupted: its SHA-256 differs from the manifest {path};"
                " rebuild with snakemake --forcerun build_dataset"
            )
    return manifest
