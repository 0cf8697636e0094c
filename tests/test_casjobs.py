"""The casjobs backend against a CasJobs REST service played at the HTTP layer."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pandas as pd
import pytest
import responses
from conftest import REPO
from test_skyserver import DATA

from photoz.catalog.casjobs import CasJobsParams, query_casjobs, token_from_environment
from photoz.catalog.selection import CatalogError, SelectionParams

TEMPLATE = str(REPO / "resources" / "sql" / "p19_mgs.sql")
REST = "https://skyserver.sdss.org/CasJobs/RestApi"
TOKEN = "s3cr3t-token-value"


class FakeCasJobs:
    """Job queue plus MyDB, with the recorded result table behind it."""

    def __init__(self, statuses=(0, 1, 5), message=None):
        self.rows = pd.read_csv(DATA / "p19_result.csv", comment="#").sort_values("specobjid")
        self.statuses = list(statuses)
        self.message = message
        self.submitted: list[str] = []
        self.quick: list[str] = []
        self.tokens: set[str] = set()

    def submit(self, request):
        self.tokens.add(request.headers.get("X-Auth-Token"))
        self.submitted.append(json.loads(request.body)["Query"])
        return 200, {}, "4242"

    def status(self, request):
        self.tokens.add(request.headers.get("X-Auth-Token"))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        desc = {"JobID": 4242, "Status": status, "Message": self.message or "", "Rows": len(self.rows)}
        return 200, {}, json.dumps(desc)

    def query(self, request):
        self.tokens.add(request.headers.get("X-Auth-Token"))
        sql = json.loads(request.body)["Query"]
        self.quick.append(sql)
        if sql.startswith("IF OBJECT_ID"):
            return 200, {}, ""
        top, last = map(int, re.search(r"TOP (\d+) .* specobjid > (-?\d+)", sql).groups())
        page = self.rows[self.rows["specobjid"] > last].head(top)
        return 200, {}, page.to_csv(index=False) if len(page) else ""

    def install(self, mock):
        mock.add_callback(responses.PUT, f"{REST}/contexts/DR12/jobs", callback=self.submit)
        mock.add_callback(responses.GET, re.compile(f"{REST}/jobs/4242"), callback=self.status)
        mock.add_callback(responses.POST, f"{REST}/contexts/MyDB/query", callback=self.query)


def _run(server: FakeCasJobs, env=None, **params):
    sleeps: list[float] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        server.install(mock)
        table, prov = query_casjobs(
            SelectionParams.from_config(),
            12,
            CasJobsParams.from_config(**params),
            TEMPLATE,
            env=env if env is not None else {"SCISERVER_TOKEN": TOKEN},
            sleep=sleeps.append,
        )
    return table, prov, sleeps


def test_batch_job_is_submitted_polled_and_downloaded_in_pages(caplog):
    caplog.set_level(logging.DEBUG)
    server = FakeCasJobs()
    table, prov, sleeps = _run(server, page_rows=7, poll_s=10)
    assert len(server.submitted) == 1
    assert "INTO mydb.photoz_p19_mgs" in server.submitted[0]
    assert "(zi.primtarget & 64) > 0" in server.submitted[0]
    assert sleeps == [10, 10]  # ready, started, then finished
    assert server.quick[0].startswith("IF OBJECT_ID('photoz_p19_mgs')")
    assert prov["pages"] == 5 and len(table) == len(server.rows) == 30
    assert sorted(table["specobjid"]) == sorted(server.rows["specobjid"].astype("uint64"))
    assert server.tokens == {TOKEN}
    # The credential appears nowhere in what we log or record.
    assert TOKEN not in caplog.text and TOKEN not in json.dumps(prov)


def test_failed_job_raises_with_the_server_message():
    server = FakeCasJobs(statuses=(1, 4), message="Invalid column name 'psfFWHM_q'.")
    with pytest.raises(CatalogError, match=r"job 4242 failed: Invalid column name 'psfFWHM_q'"):
        _run(server)


def test_missing_credentials_name_the_environment_variables():
    with pytest.raises(CatalogError, match="SCISERVER_TOKEN.*SCISERVER_USER.*SCISERVER_PASSWORD"):
        _run(FakeCasJobs(), env={})


def test_login_with_user_and_password_returns_the_keystone_token():
    params = CasJobsParams.from_config()
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, params.auth_url, status=200, headers={"X-Subject-Token": "tok-from-login"})
        token = token_from_environment(params, {"SCISERVER_USER": "me", "SCISERVER_PASSWORD": "pw"})
        body = json.loads(mock.calls[0].request.body)
    assert token == "tok-from-login"
    assert body["auth"]["identity"]["password"]["user"] == {"name": "me", "password": "pw"}


def test_http_error_on_submission_is_reported():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, f"{REST}/contexts/MyDB/query", body="")
        mock.add(responses.PUT, f"{REST}/contexts/DR12/jobs", status=401, body="Unauthorized token")
        with pytest.raises(CatalogError, match=r"job submission to context DR12 failed: HTTP 401"):
            query_casjobs(
                SelectionParams.from_config(),
                12,
                CasJobsParams.from_config(),
                TEMPLATE,
                env={"SCISERVER_TOKEN": "x"},
            )


class LoopbackCasJobs:
    """CasJobs REST and the SciServer login over real HTTP on 127.0.0.1, with
    :class:`FakeCasJobs` behind them; the login hands out ``token`` for ``password``."""

    def __init__(self, server: FakeCasJobs, user: str, password: str, token: str):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from types import SimpleNamespace

        routes = {
            ("PUT", "/contexts/DR12/jobs"): server.submit,
            ("GET", "/jobs/4242"): server.status,
            ("POST", "/contexts/MyDB/query"): server.query,
        }

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, method: str):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if method == "POST" and self.path == "/login":
                    ident = json.loads(body)["auth"]["identity"]["password"]["user"]
                    ok = ident == {"name": user, "password": password}
                    self.send_response(200 if ok else 401)
                    if ok:
                        self.send_header("X-Subject-Token", token)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                handler = routes.get((method, self.path))
                if handler is None or self.headers.get("X-Auth-Token") != token:
                    status, text = (404 if handler is None else 401), "no"
                else:
                    status, _, text = handler(SimpleNamespace(headers=dict(self.headers), body=body))
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._answer("GET")

            def do_PUT(self):  # noqa: N802
                self._answer("PUT")

            def do_POST(self):  # noqa: N802
                self._answer("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("how", ["login", "token"])
def test_credentials_reach_no_log_table_or_metadata(tmp_path, how):
    """The catalog stage run for real (its command, HTTP on loopback, DEBUG logging):
    neither the password nor the token appears in the log, the terminal, the catalog,
    the rejected rows or their Parquet metadata (which the report's provenance reads)."""
    import os
    import subprocess
    import sys

    import yaml

    password, token = "pa55-w0rd-never-logged", "tok-e3b0c442-never-logged"
    env = {**os.environ, "SCISERVER_USER": "astronomer", "SCISERVER_PASSWORD": password}
    if how == "token":
        env = {**os.environ, "SCISERVER_TOKEN": token}
    with LoopbackCasJobs(FakeCasJobs(), "astronomer", password, token) as server:
        cfg = yaml.safe_load((REPO / "config.yaml").read_text())
        cfg["catalog"]["backend"] = "casjobs"
        cfg["catalog"]["casjobs"].update(
            rest_url=server.url, auth_url=f"{server.url}/login", poll_s=0.01, page_rows=7
        )
        (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
        done = subprocess.run(
            [str(Path(sys.executable).parent / "photoz"), "query_catalog", "--configfile", "c.yaml"]
            + ["--catalog", "catalog.parquet", "--rejected", "rejected.parquet"]
            + ["--log", "query.log", "--log-level", "DEBUG"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(pd.read_parquet(tmp_path / "catalog.parquet")) > 0
    written = sorted(p for p in tmp_path.iterdir() if p.is_file() and p.name != "c.yaml")
    assert {p.name for p in written} >= {"catalog.parquet", "rejected.parquet", "query.log"}
    for secret in (password, token):
        assert secret not in done.stdout + done.stderr
        for path in written:
            assert secret.encode() not in path.read_bytes(), f"{secret} leaked into {path.name}"
