"""SQL on SkyServer (the catalog query and the CAS ``Field`` index): one request
through astroquery, retried on transient failures, with the server's ways of failing
turned into one clear error naming the query."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pandas as pd
import requests
from astropy.table import Table

from .errors import CatalogError
from .retry import TransientError, retry_after_s, with_retries


def parse_skyserver_response(response, what: str) -> pd.DataFrame:
    """Table of a SkyServer SQL-search response (column names lower-cased), or a
    clear error.

    SkyServer reports failures in several shapes: an HTTP error status, a CSV with an
    ``error_message`` column (SQL errors), or an HTML error page served with status 200
    (overload, maintenance). Overload pages and 5xx are transient (retried).
    """
    status = getattr(response, "status_code", 200)
    text = response.text
    if status >= 500 or status == 429:
        raise TransientError(f"{what}: HTTP {status}: {_strip_html(text)}", retry_after_s(response))
    if status >= 400:
        raise CatalogError(f"{what}: HTTP {status}: {_strip_html(text)}")
    head = text.lstrip()[:2000].lower()
    if head.startswith("<") or "<html" in head:
        message = _strip_html(text)
        if any(k in message.lower() for k in ("503", "service unavailable", "no server is available")):
            raise TransientError(f"{what}: SkyServer unavailable: {message}")
        raise CatalogError(f"{what} failed: SkyServer error page: {message}")
    if "error_message" in text:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        detail = " ".join(ln for ln in lines if ln.lower() != "error_message")
        raise CatalogError(f"{what} failed: SkyServer says: {detail[:500]}")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) <= 1:  # header only (or nothing): no rows in this chunk
        return pd.DataFrame()
    table = Table.read("\n".join(lines), format="ascii.csv")
    table = table.to_pandas()
    return table.rename(columns={c: c.lower() for c in table.columns})


def _strip_html(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()[:500]


def run_sql(
    sql: str,
    what: str,
    data_release: int,
    timeout_s: float,
    retries: int,
    backoff_s: float,
    sleep: Callable[[float], None] = time.sleep,
    base_url: str | None = None,
) -> pd.DataFrame:
    """One SkyServer SQL search through astroquery, retried on transient failures;
    errors become :class:`~photoz.errors.CatalogError` naming ``what``.

    ``base_url``: the SkyServer (``catalog.skyserver.base_url``: SDSS's, a mirror or a
    local stand-in); None keeps astroquery's configured one."""
    from astroquery.sdss import SDSS, conf

    def once() -> pd.DataFrame:
        with conf.set_temp("skyserver_baseurl", base_url or conf.skyserver_baseurl):
            response = SDSS.query_sql_async(sql, timeout=timeout_s, data_release=data_release, cache=False)
        return parse_skyserver_response(response, what)

    try:
        return with_retries(once, what, retries, backoff_s, sleep=sleep)
    except (TransientError, requests.RequestException) as exc:
        raise CatalogError(f"{what} failed after {retries} attempts: {exc}") from exc
