"""``skyserver`` backend: synchronous SQL through astroquery, split into RA chunks.

SkyServer's SQL search returns at most 500,000 rows per query (DR8 limits page) and
the P19 sample is just above that, so the query is issued per right-ascension range.
A chunk that comes back at the row limit was truncated: it is split in two and
re-queried, so no row is silently lost. Chunks are concatenated and de-duplicated on
``specobjid``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..config import FromConfig
from ..skyserver_sql import run_sql
from .columns import normalise_columns
from .selection import CatalogError, SelectionParams
from .sql import render_sql

log = logging.getLogger(__name__)


#: Narrowest RA chunk worth splitting (about an arcsecond).
MIN_CHUNK_DEG = 3e-4


@dataclass(frozen=True)
class SkyServerParams(FromConfig):
    """The ``catalog.skyserver`` config section."""

    config_section = "catalog.skyserver"

    base_url: str
    n_chunks: int
    row_limit: int
    timeout_s: float
    retries: int
    backoff_s: float


def ra_chunks(n: int) -> list[tuple[float, float]]:
    """``n`` equal half-open RA ranges covering [0, 360)."""
    edges = [360.0 * k / n for k in range(n + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _ra_condition(lo: float, hi: float) -> str:
    return f"AND po.ra >= {lo!r} AND po.ra < {hi!r}"


def query_skyserver(
    selection: SelectionParams,
    data_release: int,
    params: SkyServerParams,
    template: str,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[pd.DataFrame, dict]:
    """Run the query (P19 or the targets') chunk by chunk; return the joined table and provenance."""
    pending = list(ra_chunks(params.n_chunks))
    frames: list[pd.DataFrame] = []
    chunk_log = []
    while pending:
        lo, hi = pending.pop(0)
        sql = render_sql(selection, template, extra_where=_ra_condition(lo, hi))
        what = f"SkyServer DR{data_release} chunk ra in [{lo:g}, {hi:g})"

        table = normalise_columns(
            run_sql(
                sql,
                what,
                data_release,
                params.timeout_s,
                params.retries,
                params.backoff_s,
                sleep,
                params.base_url,
            )
        )
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
    # a row repeated across chunk borders: one spectrum (P19) or one object (targets)
    key = "specobjid" if "specobjid" in joined else "objid"
    deduped = joined.drop_duplicates(key, keep="first").reset_index(drop=True)
    provenance = {
        "chunks": chunk_log,
        "rows_returned": len(joined),
        "rows_after_dedup": len(deduped),
        "sql": render_sql(selection, template),
    }
    return deduped, provenance
