"""HTTP download of SDSS frames into a local mirror of the SAS tree.

Bounded concurrency (a thread pool over one pooled ``requests`` session), retries with
exponential backoff on 5xx, 429, time-outs and dropped connections, resume of partial
transfers with HTTP ``Range`` (partial data lives in ``<file>.part``), and verification
(size against the server's length, then a full FITS read of the corrected-frame
layout) before the file is renamed to its final name. A file at its final name is
therefore complete and valid, and is never downloaded again. A frame that cannot be
fetched is recorded with its reason; it does not stop the partition.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from ..config import FromConfig
from ..retry import TransientError, retry_after_s, with_retries
from .integrity import record_checksum, remove_if_damaged, verify_frame_file
from .reader import FrameError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownloadParams(FromConfig):
    """The ``frames.download`` config section."""

    config_section = "frames.download"

    concurrency: int
    retries: int
    backoff_s: float
    timeout_s: float
    chunk_bytes: int = 1 << 20


@dataclass
class DownloadResult:
    """What happened to one file."""

    status: str  # downloaded | present | failed
    bytes: int = 0
    attempts: int = 0
    seconds: float = 0.0
    reason: str = ""


class _Retry(TransientError):
    """A transient failure: try again (resuming any partial data)."""


class _Corrupt(TransientError):
    """The transferred file is not a valid frame: discard it and try again."""


_RETRIED = (
    TransientError,
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def _expected_size(resp: requests.Response, offset: int) -> int | None:
    if resp.status_code == 206:
        match = re.search(r"/(\d+)$", resp.headers.get("Content-Range", ""))
        return int(match.group(1)) if match else None
    length = resp.headers.get("Content-Length")
    return int(length) if length is not None else None


def download_file(
    session: requests.Session,
    url: str,
    dest: str | Path,
    params: DownloadParams,
    verify: Callable[[Path], None] = verify_frame_file,
    sleep: Callable[[float], None] = time.sleep,
) -> DownloadResult:
    """Fetch ``url`` to ``dest`` (see the module docstring for the guarantees)."""
    dest = Path(dest)
    start = time.monotonic()
    replaced = remove_if_damaged(dest, verify) if dest.exists() else ""
    if dest.exists():
        return DownloadResult("present", dest.stat().st_size)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    attempts = 0

    def attempt() -> DownloadResult:
        nonlocal attempts
        attempts += 1
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        with session.get(url, stream=True, timeout=params.timeout_s, headers=headers) as resp:
            if resp.status_code == 416:  # our partial file is stale or already complete
                part.unlink(missing_ok=True)
                raise _Retry("HTTP 416 on resume")
            if resp.status_code >= 500 or resp.status_code == 429:
                raise _Retry(f"HTTP {resp.status_code} {resp.reason}", retry_after_s(resp))
            if resp.status_code >= 400:
                reason = f"HTTP {resp.status_code} {resp.reason}"
                return DownloadResult("failed", 0, attempts, time.monotonic() - start, reason)
            if resp.status_code != 206:
                offset = 0  # the server ignored Range: start over
            expected = _expected_size(resp, offset)
            with open(part, "ab" if offset else "wb") as fh:
                for chunk in resp.iter_content(params.chunk_bytes):
                    fh.write(chunk)
        size = part.stat().st_size
        if expected is not None and size < expected:
            raise _Retry(f"truncated transfer ({size} of {expected} bytes)")
        if expected is not None and size > expected:
            part.unlink()
            raise _Corrupt(f"{size} bytes, server announced {expected}")
        try:
            verify(part)
        except FrameError as exc:
            part.unlink()
            raise _Corrupt(str(exc).replace(str(part), dest.name)) from exc
        os.replace(part, dest)
        record_checksum(dest)
        return DownloadResult("downloaded", size, attempts, time.monotonic() - start, replaced)

    try:
        return with_retries(
            attempt,
            url,
            params.retries,
            params.backoff_s,
            sleep=sleep,
            transient=lambda exc: isinstance(exc, _RETRIED),
        )
    except _RETRIED as exc:
        reason = f"{type(exc).__name__.strip('_').lower()}: {exc}"
        return DownloadResult("failed", 0, params.retries, time.monotonic() - start, reason)


def make_session(params: DownloadParams) -> requests.Session:
    """A session whose connection pool matches the concurrency."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=params.concurrency, pool_maxsize=params.concurrency)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def download_many(
    jobs: list[tuple[str, Path]],
    params: DownloadParams,
    verify: Callable[[Path], None] = verify_frame_file,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DownloadResult]:
    """Download (url, destination) pairs with at most ``params.concurrency`` at once."""
    session = make_session(params)
    with ThreadPoolExecutor(max_workers=params.concurrency) as pool:
        return list(pool.map(lambda job: download_file(session, job[0], job[1], params, verify, sleep), jobs))
