"""Retries with exponential backoff for transient network failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import requests

log = logging.getLogger(__name__)
T = TypeVar("T")


#: The longest one retry loop waits in all, a server's Retry-After included, before it
#: gives up with the last error: a server asking for an hour does not stall a stage.
MAX_TOTAL_WAIT_S = 900.0


class TransientError(RuntimeError):
    """A failure worth retrying (HTTP 5xx, 429, time-outs, dropped connections), with
    the wait the server asked for (``Retry-After``) when it said."""

    def __init__(self, message: str, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


def retry_after_s(response) -> float | None:
    """Seconds a response's ``Retry-After`` header asks to wait (delta-seconds or an
    HTTP date), or None when it has none or it cannot be read."""
    value = (getattr(response, "headers", None) or {}).get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _asked_wait(exc: BaseException) -> float | None:
    if isinstance(exc, TransientError):
        return exc.retry_after_s
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return retry_after_s(exc.response)
    return None


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
    max_total_wait_s: float = MAX_TOTAL_WAIT_S,
) -> T:
    """Call ``fn`` up to ``attempts`` times; after a ``transient`` error wait
    ``backoff_s * 2**k``, or longer if the server's Retry-After asks, and try again;
    the last error is raised, also once the waits would pass ``max_total_wait_s`` (then
    as a :class:`TransientError` naming ``what`` and the wait). The project's one retry
    loop (SkyServer, CasJobs, SAS downloads)."""
    waited = 0.0
    for k in range(attempts):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified just below
            if not transient(exc) or k == attempts - 1:
                raise
            delay = max(backoff_s * 2**k, _asked_wait(exc) or 0.0)
            if waited + delay > max_total_wait_s:
                raise TransientError(
                    f"{what}: gave up after {waited:.0f} s of retries (the next wait, {delay:.0f} s, "
                    f"would pass the {max_total_wait_s:.0f} s limit): {exc}"
                ) from exc
            log.warning(
                "%s: transient error (%s), retry %d/%d in %.0f s", what, exc, k + 1, attempts - 1, delay
            )
            sleep(delay)
            waited += delay
    raise AssertionError("unreachable")
