"""Every Parquet table of the pipeline: one writer, one reader, and the formats.

A table is a set of scalar columns, optional array columns (each row a fixed-size
float32 list, its per-row shape in the metadata) and a JSON metadata document under the
schema key ``photoz``, which also names the table's kind (``"pdfs"``, ``"photoz"``,
``"cubes"``, ...) so that a reader given the wrong file says so, naming it. Every PDF
table stores its redshift bin edges (``z_edges``). ``objid`` is signed 64-bit in every
table (SDSS ``objID`` is a ``bigint``; ``specObjID`` is unsigned and stays so).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .constants import BANDS, CUBE_SHAPE
from .errors import PhotozError
from .io import atomic_path, json_default
from .metrics.pdf import bin_edges

METADATA_KEY = b"photoz"
OBJID_DTYPE = np.int64


class TableFormatError(PhotozError, ValueError):
    """A file is not the table it should be; the message names the file."""


@dataclass
class Table:
    """A table read by :func:`read_table`."""

    frame: pd.DataFrame  # the scalar columns
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (N, *shape) float32
    metadata: dict = field(default_factory=dict)


def to_arrow(
    frame: pd.DataFrame,
    metadata: dict | None = None,
    arrays: dict[str, np.ndarray] | None = None,
    kind: str | None = None,
) -> pa.Table:
    """The Arrow table of ``frame`` (scalar columns) and ``arrays`` (name -> (N, ...)
    array, stored as fixed-size float32 lists), with ``metadata`` as JSON naming the
    table ``kind`` and the arrays' row shapes."""
    if "objid" in frame:
        frame = frame.assign(objid=frame["objid"].to_numpy().astype(OBJID_DTYPE))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    shapes = {}
    for name, data in (arrays or {}).items():
        data = np.ascontiguousarray(data, dtype=np.float32)
        if len(data) != len(frame):
            raise ValueError(f"array {name!r} has {len(data)} rows, the table {len(frame)}")
        size = int(np.prod(data.shape[1:]))
        column = pa.FixedSizeListArray.from_arrays(pa.array(data.ravel(), type=pa.float32()), size)
        table = table.append_column(name, column)
        shapes[name] = list(data.shape[1:])
    document = dict(metadata or {})
    if kind is not None:
        document["table"] = kind
    if shapes:
        document["array_shapes"] = shapes
    if document:
        encoded = json.dumps(document, sort_keys=True, default=json_default).encode()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), METADATA_KEY: encoded})
    return table


def write_table(
    frame: pd.DataFrame,
    path: str | os.PathLike,
    metadata: dict | None = None,
    arrays: dict[str, np.ndarray] | None = None,
    kind: str | None = None,
) -> None:
    """Write the table of :func:`to_arrow` to Parquet at ``path``, atomically."""
    table = to_arrow(frame, metadata, arrays, kind)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


class TableStream:
    """A table written in batches to the open file ``path`` (bounded memory: the
    dataset shards); every batch has the same columns. The caller publishes the file
    when it is complete (:func:`photoz.io.publish`)."""

    def __init__(self, path: str | os.PathLike, **parquet_options):
        self.path, self.options, self._writer = path, parquet_options, None

    def write(self, frame: pd.DataFrame, metadata: dict, arrays: dict[str, np.ndarray], kind: str) -> None:
        """Append one batch (see :func:`to_arrow`)."""
        table = to_arrow(frame, metadata, arrays, kind)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, **self.options)
        self._writer.write_table(table)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def read_table_metadata(path: str | os.PathLike) -> dict:
    """The metadata document of a table ({} if none); :class:`TableFormatError` naming
    ``path`` when it is not a Parquet file."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except FileNotFoundError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise TableFormatError(f"{path}: not a readable Parquet table ({exc})") from exc
    raw = meta.get(METADATA_KEY)
    return json.loads(raw) if raw else {}


def read_table(path: str | os.PathLike, kind: str | None = None, columns: list[str] | None = None) -> Table:
    """A table of :func:`write_table`; with ``kind``, :class:`TableFormatError` naming
    ``path`` unless the file is a table of that kind."""
    metadata = read_table_metadata(path)
    if kind is not None and metadata.get("table") != kind:
        found = metadata.get("table", "an unlabelled")
        raise TableFormatError(f"{path}: expected a {kind} table, found {found} table")
    table = pq.read_table(path, columns=columns)
    shapes = metadata.get("array_shapes", {})
    arrays = {}
    for name, shape in shapes.items():
        if name in table.column_names:
            flat = table.column(name).combine_chunks().flatten().to_numpy()
            arrays[name] = flat.reshape(len(table), *shape)
    frame = table.drop([n for n in arrays]).to_pandas()
    return Table(frame, arrays, metadata)


# -- PDF tables (one member's predictions): objid, pdf ---------------------------------


def pdf_range(metadata: dict) -> tuple[float, float]:
    """(z_min, z_max) of a PDF table from its metadata (its bin edges)."""
    edges = metadata["z_edges"]
    return float(edges[0]), float(edges[-1])


def write_pdfs(objids: np.ndarray, pdfs: np.ndarray, path: str | os.PathLike, metadata: dict) -> None:
    """One member's PDFs (``metadata`` with z_min, z_max and the point estimate)."""
    pdfs = np.asarray(pdfs)
    edges = bin_edges(pdfs.shape[1], z_min=metadata["z_min"], z_max=metadata["z_max"]).tolist()
    frame = pd.DataFrame({"objid": np.asarray(objids, dtype=OBJID_DTYPE)})
    write_table(frame, path, {**metadata, "z_edges": edges}, {"pdf": pdfs}, kind="pdfs")


def read_pdfs(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(objid, pdf (N, n_bins)) from a file of :func:`write_pdfs`."""
    table = read_table(path, kind="pdfs")
    return table.frame["objid"].to_numpy(OBJID_DTYPE), table.arrays["pdf"]


def read_pdf_range(path: str | os.PathLike) -> tuple[float, float]:
    """(z_min, z_max) of a PDF table (of :func:`write_pdfs` or :func:`write_photoz`)."""
    return pdf_range(read_table_metadata(path))


def read_point_estimate(path: str | os.PathLike) -> str:
    """The point estimate ("mean" or "mode") of a PDF table's z_phot."""
    return read_table_metadata(path)["point_estimate"]


# -- photo-z tables (one method): objid, fold, z_spec, z_phot, ..., pdf --------------------

PHOTOZ_ARRAYS = ("pdf", "z_phot_members")


def write_photoz(table: pd.DataFrame, path: str | os.PathLike, metadata: dict) -> None:
    """A method's photo-z table: scalar columns and ``pdf`` (and ``z_phot_members``) as
    rows of arrays; ``metadata`` (provenance) completed with the PDFs' redshift range
    and point estimate from ``table.attrs`` (set by :func:`photoz.models.ensemble.summarise`
    and :func:`read_photoz`) unless it gives them."""
    attrs = {}
    if "pdf_range" in table.attrs:
        attrs["z_min"], attrs["z_max"] = table.attrs["pdf_range"]
    if "point_estimate" in table.attrs:
        attrs["point_estimate"] = table.attrs["point_estimate"]
    document = {**attrs, **metadata}
    absent = [k for k in ("z_min", "z_max", "point_estimate") if k not in document]
    if absent:
        raise ValueError(f"{path}: the photo-z table's {absent} are not known")
    arrays = {name: np.stack(table[name]) for name in PHOTOZ_ARRAYS if name in table}
    n_bins = arrays["pdf"].shape[1]
    document["z_edges"] = bin_edges(n_bins, z_min=document["z_min"], z_max=document["z_max"]).tolist()
    scalars = table.drop(columns=[n for n in PHOTOZ_ARRAYS if n in table])
    write_table(scalars, path, document, arrays, kind="photoz")


def read_photoz(path: str | os.PathLike) -> pd.DataFrame:
    """A photo-z table with ``pdf`` (and ``z_phot_members``) as 2-D numpy rows; the PDFs'
    redshift range in ``attrs["pdf_range"]`` (z_min, z_max), their bin edges in
    ``attrs["z_edges"]``, the z_phot estimator in ``attrs["point_estimate"]``."""
    table = read_table(path, kind="photoz")
    df = table.frame
    for name, values in table.arrays.items():
        df[name] = list(values)
    df.attrs["pdf_range"] = pdf_range(table.metadata)
    df.attrs["z_edges"] = table.metadata["z_edges"]
    df.attrs["point_estimate"] = table.metadata["point_estimate"]
    return df


# -- cube tables (one partition): objid, cube, weight, n_frames_<band>, flags ------------


def write_cubes(
    table: pd.DataFrame, cubes: np.ndarray, weights: np.ndarray, path: str | os.PathLike, metadata: dict
) -> None:
    """A partition's cubes and weights (N, 5, 64, 64) with the per-galaxy columns."""
    document = {**metadata, "cube_shape": list(CUBE_SHAPE), "band_order": list(BANDS)}
    write_table(table, path, document, {"cube": cubes, "weight": weights}, kind="cubes")


def read_cubes(path: str | os.PathLike) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(table without the arrays, cubes (N, 5, 64, 64), weights (N, 5, 64, 64))."""
    table = read_table(path, kind="cubes")
    return table.frame, table.arrays["cube"], table.arrays["weight"]
