"""Retries with exponential backoff for transient network failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import requests

log = logging.getLogger(__name__)
T = TypeVar("T")


class TransientError(RuntimeError):
    """A failure worth retrying (HTTP 5xx, 429, time-outs, dropped connections)."""


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a network hiccup rather than a real error."""
    if isinstance(exc, TransientError | requests.Timeout | requests.ConnectionError):
        return True
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return False


def with_retries(
    fn: Callable[[], T],
    what: str,
    attempts: int = 4,
    backoff_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    transient: Callable[[BaseException], bool] = is_transient,
) -> T:
    """Call ``fn`` up to ``attempts`` times; after a ``transient`` error wait
    ``backoff_s * 2**k`` and try again; the last error is raised. The project's one
    retry loop (SkyServer, CasJobs, SAS downloads)."""
    for k in range(attempts):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified just below
            if not transient(exc) or k == attempts - 1:
                raise
            delay = backoff_s * 2**k
            log.warning(
                "%s: transient error (%s), retry %d/%d in %.0f s", what, exc, k + 1, attempts - 1, delay
            )
            sleep(delay)
    raise AssertionError("unreachable")
