"""Frames already in the cache are checked before use; a damaged one is fetched again.

A frame this pipeline writes (downloaded and verified, or rendered) gets a sidecar
``<frame>.sha256``. A frame found present with a sidecar is checked against it (hashing
a ~3 MB file takes milliseconds, and a flipped bit anywhere is caught); one without a
sidecar (a cache filled by hand or by an older version) is read and verified in full
once, then gets its sidecar. bz2 and gzip carry CRCs, so a full read catches
truncation and most corruption of compressed frames even without a sidecar.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from ..errors import FrameError
from ..io import atomic_path
from .reader import read_frame

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".sha256"


def verify_frame_file(path: str | Path) -> None:
    """Raise :class:`FrameError` unless ``path`` is a readable corrected frame."""
    read_frame(path)


def sidecar(path: str | Path) -> Path:
    """The checksum file beside a frame."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_checksum(path: str | Path) -> None:
    """Write the sidecar of a frame just verified or written."""
    with atomic_path(sidecar(path)) as tmp:
        tmp.write_text(file_sha256(path) + "\n")


def cached_frame_damage(path: str | Path, verify=verify_frame_file) -> str | None:
    """Why the cached frame ``path`` cannot be used (``None``: it is intact)."""
    check = sidecar(path)
    if check.exists():
        expected = check.read_text().strip()
        found = file_sha256(path)
        return None if found == expected else f"checksum {found[:12]} is not the recorded {expected[:12]}"
    try:
        verify(path)
    except FrameError as exc:
        return str(exc)
    record_checksum(path)
    return None


def remove_if_damaged(path: str | Path, verify=verify_frame_file) -> str:
    """For a frame already at ``path``: "" when it is intact; else it is removed with
    its sidecar, so that it is fetched or rendered again, and the reason to record in
    the manifest is returned."""
    damage = cached_frame_damage(path, verify)
    if damage is None:
        return ""
    log.warning("cached frame %s is damaged (%s): fetching or rendering it again", path, damage)
    Path(path).unlink(missing_ok=True)
    sidecar(path).unlink(missing_ok=True)
    return f"replaced a damaged cached copy ({damage})"
