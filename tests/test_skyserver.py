"""The skyserver backend against SkyServer-format responses served at the HTTP layer.

``responses`` intercepts requests' transport, so astroquery's real request code runs;
the callback plays SkyServer: it answers each RA chunk with the rows of a result file
in SkyServer's CSV format that fall in the chunk.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
import responses
from conftest import REPO

from photoz.catalog.selection import CatalogError, SelectionParams
from photoz.catalog.skyserver import SkyServerParams, query_skyserver

DATA = Path(__file__).parent / "data" / "skyserver"
TEMPLATE = str(REPO / "resources" / "sql" / "p19_mgs.sql")
URL = re.compile(r"https://skyserver\.sdss\.org/.*")
RA_RANGE = re.compile(r"po\.ra >= ([\d.]+) AND po\.ra < ([\d.]+)")


def _rows() -> pd.DataFrame:
    return pd.read_csv(DATA / "p19_result.csv", comment="#")


class FakeSkyServer:
    """Answers SQL-search GETs from the recorded result, chunk by chunk."""

    def __init__(self, extra: dict | None = None):
        self.rows = _rows()
        self.chunks: list[tuple[float, float]] = []
        self.extra = extra or {}  # (lo, hi) -> list of (status, body) to serve first

    def __call__(self, request):
        query = parse_qs(urlparse(request.url).query)
        sql = query["cmd"][0]
        assert query["format"] == ["csv"] and "--" not in sql
        lo, hi = map(float, RA_RANGE.search(sql).groups())
        self.chunks.append((lo, hi))
        queued = self.extra.get((lo, hi))
        if queued:
            return queued.pop(0)
        sub = self.rows[(self.rows["ra"] >= lo) & (self.rows["ra"] < hi)]
        if (lo, hi) == (180.0, 210.0):
            # A chunk boundary glitch: one row of the 120-150 chunk comes back here too.
            sub = pd.concat([sub, self.rows[self.rows["ra"] < 150].iloc[:1]])
        return 200, {}, "#Table1\n" + sub.to_csv(index=False)


def _run(server: FakeSkyServer, **params) -> tuple[pd.DataFrame, dict, list[float]]:
    sleeps: list[float] = []
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, URL, callback=server)
        table, prov = query_skyserver(
            SelectionParams.from_config(),
            12,
            SkyServerParams.from_config(**params),
            TEMPLATE,
            sleep=sleeps.append,
        )
    return table, prov, sleeps


def test_chunks_are_issued_joined_and_deduplicated():
    server = FakeSkyServer()
    table, prov, _ = _run(server, n_chunks=12)
    assert server.chunks == [(30.0 * k, 30.0 * (k + 1)) for k in range(12)]
    expected = _rows()
    assert prov["rows_returned"] == len(expected) + 1  # the duplicated row
    assert len(table) == len(expected) == prov["rows_after_dedup"]
    assert sorted(table["specobjid"]) == sorted(expected["specobjid"].astype("uint64"))
    assert table["objid"].dtype == "int64"  # CAS objID is a signed bigint (this table said uint64)
    assert {c["rows"] for c in prov["chunks"]} >= {0}
    assert "$" not in prov["sql"] and "(zi.primtarget & 64) > 0" in prov["sql"]


def test_chunk_at_row_limit_is_split_and_requeried():
    server = FakeSkyServer()
    table, prov, _ = _run(server, n_chunks=4, row_limit=10)
    assert len(table) == len(_rows())
    splits = [c for c in prov["chunks"] if c["split"]]
    assert splits, "a chunk with >= row_limit rows must be split"
    assert all(c["rows"] < 10 for c in prov["chunks"] if not c["split"])


def test_sql_error_names_the_chunk():
    error = "#Table1\nerror_message\n Invalid column name 'psfFWHM_q'.\n"
    server = FakeSkyServer(extra={(30.0, 60.0): [(200, {}, error)]})
    with pytest.raises(CatalogError, match=r"chunk ra in \[30, 60\).*Invalid column name 'psfFWHM_q'"):
        _run(server, n_chunks=12)


def test_transient_overload_page_is_retried():
    page = (DATA / "overload_503.html").read_text()
    server = FakeSkyServer(extra={(120.0, 150.0): [(200, {}, page), (502, {}, "Bad Gateway")]})
    table, _, sleeps = _run(server, n_chunks=12, backoff_s=1.5)
    assert len(table) == len(_rows())
    assert sleeps == [1.5, 3.0]
    assert server.chunks.count((120.0, 150.0)) == 3


def test_persistent_error_page_fails_with_chunk_and_message():
    page = (DATA / "error_page.html").read_text()
    server = FakeSkyServer(extra={(330.0, 360.0): [(200, {}, page)]})
    with pytest.raises(CatalogError, match=r"chunk ra in \[330, 360\).*error page.*timeout expired"):
        _run(server, n_chunks=12)


def test_transient_errors_exhaust_retries():
    server = FakeSkyServer(extra={(0.0, 30.0): [(503, {}, "Service Unavailable")] * 3})
    with pytest.raises(CatalogError, match=r"chunk ra in \[0, 30\) failed after 3 attempts"):
        _run(server, n_chunks=12, retries=3)
