"""``skyserver`` backend: synchronous SQL through astroquery, split into RA chunks.

SkyServer's SQL search returns at most 500,000 rows per query (DR8 limits page) and
the P19 sample is just above that, so the query is issued per right-ascension range.
A chunk that comes back at the row limit was truncated: it is split in two and
re-queried, so no row is silently lost. Chunks are concatenated and de-duplicated on
``specobjid``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import requests
from astropy.table import Table

from .columns import normalise_columns
from .retry import TransientError, with_retries
from .selection import CatalogError, SelectionParams
from .sql import render_sql

log = logging.getLogger(__name__)


#: Narrowest RA chunk worth splitting (about an arcsecond).
MIN_CHUNK_DEG = 3e-4


@dataclass(frozen=True)
class SkyServerParams:
    """The ``catalog.skyserver`` config section."""

    n_chunks: int = 12
    row_limit: int = 500_000
    timeout_s: float = 600.0
    retries: int = 4
    backoff_s: float = 5.0


def ra_chunks(n: int) -> list[tuple[float, float]]:
    """``n`` equal half-open RA ranges covering [0, 360)."""
    edges = [360.0 * k / n for k in range(n + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _ra_condition(lo: float, hi: float) -> str:
    return f"AND po.ra >= {lo!r} AND po.ra < {hi!r}"


def parse_skyserver_response(response, what: str) -> pd.DataFrame:
    """Table of a SkyServer SQL-search response, or a clear error.

    SkyServer reports failures in several shapes: an HTTP error status, a CSV with an
    ``error_message`` column (SQL errors), or an HTML error page served with status 200
    (overload, maintenance). Overload pages and 5xx are transient (retried).
    """
    status = getattr(response, "status_code", 200)
    text = response.text
    if status >= 500 or status == 429:
        raise TransientError(f"{what}: HTTP {status}: {_strip_html(text)}")
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
    return normalise_columns(table.to_pandas())


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
) -> pd.DataFrame:
    """One SkyServer SQL search through astroquery, retried on transient failures;
    errors become :class:`CatalogError` naming ``what``."""
    from astroquery.sdss import SDSS

    def once() -> pd.DataFrame:
        response = SDSS.query_sql_async(sql, timeout=timeout_s, data_release=data_release, cache=False)
        return parse_skyserver_response(response, what)

    try:
        return with_retries(once, what, retries, backoff_s, sleep=sleep)
    except (TransientError, requests.RequestException) as exc:
        raise CatalogError(f"{what} failed after {retries} attempts: {exc}") from exc


def query_skyserver(
    selection: SelectionParams,
    data_release: int,
    params: SkyServerParams,
    template: str,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[pd.DataFrame, dict]:
    """Run the P19 query chunk by chunk; return the joined table and provenance."""
    pending = list(ra_chunks(params.n_chunks))
    frames: list[pd.DataFrame] = []
    chunk_log = []
    while pending:
        lo, hi = pending.pop(0)
        sql = render_sql(selection, template, extra_where=_ra_condition(lo, hi))
        what = f"SkyServer DR{data_release} chunk ra in [{lo:g}, {hi:g})"

        table = run_sql(sql, what, data_release, params.timeout_s, params.retries, params.backoff_s, sleep)
        n = len(table)
        if n >= params.row_limit:
            if hi - lo < MIN_CHUNK_DEG:
                raise CatalogError(
                    f"{what} returned {n} rows (the row limit) and cannot be split further; "
                    "use the casjobs backend"
                )
            mid = 0.5 * (lo + hi)
            log.warning("%s hit the %d-row limit; splitting at ra=%g", what, params.row_limit, mid)
            pending[:0] = [(lo, mid), (mid, hi)]
            chunk_log.append({"ra_min": lo, "ra_max": hi, "rows": n, "split": True})
            continue
        log.info("%s: %d rows", what, n)
        chunk_log.append({"ra_min": lo, "ra_max": hi, "rows": n, "split": False})
        if n:
            frames.append(table)
    if not frames:
        raise CatalogError(f"SkyServer DR{data_release}: the query returned no rows at all")
    joined = pd.concat(frames, ignore_index=True)
    deduped = joined.drop_duplicates("specobjid", keep="first").reset_index(drop=True)
    provenance = {
        "chunks": chunk_log,
        "rows_returned": len(joined),
        "rows_after_dedup": len(deduped),
        "sql": render_sql(selection, template),
    }
    return deduped, provenance
