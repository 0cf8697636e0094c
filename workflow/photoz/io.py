"""Atomic file output: write to a temporary name in the same directory, then rename.

An interrupted job therefore never leaves a file that looks complete. Files get the
permissions of the user's umask (0644 by default), not the 0600 of a temporary file,
so results on a shared filesystem stay readable by the group. Tables (Parquet with
array columns and metadata) are written by :mod:`photoz.tables` through this module.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# read once, at import (os.umask can only be read by setting it)
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def temp_path_beside(path: str | os.PathLike) -> Path:
    """A new, empty temporary file in ``path``'s directory (created if needed)."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    return Path(tmp)


def publish(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Give the finished temporary file ``tmp`` the umask's permissions and rename it
    onto ``path`` (atomic on POSIX)."""
    os.chmod(tmp, 0o666 & ~_UMASK)
    os.replace(tmp, path)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; publish it as ``path`` on success. An
    OSError that does not name a file (pyarrow's on a full disk) is raised again naming
    ``path``, so that the stage's one-line error says which output failed."""
    tmp_path = temp_path_beside(path)
    try:
        yield tmp_path
        publish(tmp_path, path)
    except OSError as exc:
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_json(document: dict, path: str | os.PathLike) -> None:
    """Write ``document`` as JSON atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(document, default=json_default))


def json_default(obj):
    """JSON encoding of numpy scalars (``json.dumps(..., default=json_default)``)."""
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
