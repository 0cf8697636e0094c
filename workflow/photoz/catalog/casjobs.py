"""``casjobs`` backend: a batch job through the SciServer CasJobs REST API.

The P19 query runs as ``SELECT ... INTO mydb.<table>`` in the long queue (no row
limit), is polled until it finishes, and the table is then downloaded page by page
(keyset pagination on ``specobjid``) as CSV. Credentials come only from the
environment (``SCISERVER_TOKEN``, or ``SCISERVER_USER`` + ``SCISERVER_PASSWORD``) and
are never logged or written anywhere.
"""

from __future__ import annotations

import io
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd
import requests

from ..config import FromConfig
from ..retry import TransientError, with_retries
from .columns import normalise_columns
from .selection import CatalogError, SelectionParams
from .sql import render_sql

log = logging.getLogger(__name__)

JOB_STATUS = {0: "ready", 1: "started", 2: "canceling", 3: "canceled", 4: "failed", 5: "finished"}


@dataclass(frozen=True)
class CasJobsParams(FromConfig):
    """The ``catalog.casjobs`` config section."""

    config_section = "catalog.casjobs"

    rest_url: str
    auth_url: str
    table: str
    poll_s: float
    max_wait_s: float
    page_rows: int
    retries: int
    backoff_s: float


class CasJobsClient:
    """Minimal CasJobs REST client (submit, status, quick query) on a requests session."""

    def __init__(self, params: CasJobsParams, token: str, session: requests.Session | None = None):
        self.params = params
        self._session = session or requests.Session()
        self._session.headers.update({"X-Auth-Token": token, "Content-Type": "application/json"})

    def _call(self, method: str, url: str, what: str, **kwargs) -> requests.Response:
        def once() -> requests.Response:
            resp = self._session.request(method, url, timeout=120, **kwargs)
            resp.raise_for_status()
            return resp

        try:
            return with_retries(once, what, self.params.retries, self.params.backoff_s)
        except requests.HTTPError as exc:
            body = exc.response.text[:500] if exc.response is not None else ""
            status = exc.response.status_code if exc.response is not None else "?"
            raise CatalogError(f"CasJobs {what} failed: HTTP {status} from {url}: {body}") from exc
        except (requests.RequestException, TransientError) as exc:
            raise CatalogError(f"CasJobs {what} failed ({url}): {exc}") from exc

    def quick_query(self, sql: str, context: str, what: str) -> pd.DataFrame:
        """Run a short synchronous query and parse its CSV result."""
        resp = self._call(
            "POST",
            f"{self.params.rest_url}/contexts/{context}/query",
            what,
            json={"Query": sql, "TaskName": "photoz.query_catalog"},
            headers={"Accept": "text/plain"},
        )
        text = resp.text.strip()
        if not text:
            return pd.DataFrame()
        return pd.read_csv(io.StringIO(text))

    def submit(self, sql: str, context: str) -> int:
        """Submit a batch job; return its id."""
        resp = self._call(
            "PUT",
            f"{self.params.rest_url}/contexts/{context}/jobs",
            f"job submission to context {context}",
            json={"Query": sql, "TaskName": "photoz.query_catalog"},
            headers={"Accept": "text/plain"},
        )
        try:
            return int(resp.text.strip())
        except ValueError as exc:
            raise CatalogError(f"CasJobs job submission: unexpected reply {resp.text[:200]!r}") from exc

    def wait(self, job_id: int, sleep: Callable[[float], None] = time.sleep) -> dict:
        """Poll until the job is canceled, failed or finished; return its description."""
        waited = 0.0
        while True:
            desc = self._call(
                "GET", f"{self.params.rest_url}/jobs/{job_id}", f"status of job {job_id}"
            ).json()
            status = int(desc.get("Status", -1))
            log.info("CasJobs job %d: %s", job_id, JOB_STATUS.get(status, status))
            if status in (3, 4):
                message = desc.get("Message") or desc.get("Error") or "no message"
                raise CatalogError(f"CasJobs job {job_id} {JOB_STATUS[status]}: {message}")
            if status == 5:
                return desc
            if waited >= self.params.max_wait_s:
                raise CatalogError(
                    f"CasJobs job {job_id} still {JOB_STATUS.get(status)} after {waited:.0f} s"
                )
            sleep(self.params.poll_s)
            waited += self.params.poll_s


def token_from_environment(
    params: CasJobsParams, env: Mapping[str, str] = os.environ, session: requests.Session | None = None
) -> str:
    """A SciServer token from ``SCISERVER_TOKEN`` or a login with user and password."""
    if env.get("SCISERVER_TOKEN"):
        return env["SCISERVER_TOKEN"]
    user, password = env.get("SCISERVER_USER"), env.get("SCISERVER_PASSWORD")
    if not (user and password):
        raise CatalogError(
            "casjobs backend: set SCISERVER_TOKEN, or SCISERVER_USER and SCISERVER_PASSWORD, "
            "in the environment (credentials are never read from the config)"
        )
    body = {"auth": {"identity": {"password": {"user": {"name": user, "password": password}}}}}
    resp = (session or requests.Session()).post(params.auth_url, json=body, timeout=60)
    if resp.status_code != 200 or "X-Subject-Token" not in resp.headers:
        raise CatalogError(f"SciServer login for user {user!r} failed: HTTP {resp.status_code}")
    return resp.headers["X-Subject-Token"]


def query_casjobs(
    selection: SelectionParams,
    data_release: int,
    params: CasJobsParams,
    template: str,
    env: Mapping[str, str] = os.environ,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    key: str = "specobjid",
) -> tuple[pd.DataFrame, dict]:
    """Run the query as a CasJobs batch job and download the result table, paged by the
    unique column ``key`` (``specobjid`` for P19's spectra, ``objid`` for targets)."""
    session = session or requests.Session()
    client = CasJobsClient(params, token_from_environment(params, env, session), session)
    context = f"DR{data_release}"
    table = params.table
    client.quick_query(
        f"IF OBJECT_ID('{table}') IS NOT NULL DROP TABLE {table}", "MyDB", f"drop of mydb.{table}"
    )
    sql = render_sql(selection, template, into_table=table)
    job_id = client.submit(sql, context)
    log.info("CasJobs job %d submitted to %s", job_id, context)
    desc = client.wait(job_id, sleep)
    pages, last = [], -1
    while True:
        page = client.quick_query(
            f"SELECT TOP {params.page_rows} * FROM {table} WHERE {key} > {last} ORDER BY {key}",
            "MyDB",
            f"download of mydb.{table} after {key} {last}",
        )
        if page.empty:
            break
        page = normalise_columns(page)
        pages.append(page)
        last = int(page[key].max())
        if len(page) < params.page_rows:
            break
    if not pages:
        raise CatalogError(f"CasJobs job {job_id}: result table mydb.{table} is empty")
    result = pd.concat(pages, ignore_index=True).drop_duplicates(key)
    return result, {
        "job_id": job_id,
        "context": context,
        "job": _public(desc),
        "sql": sql,
        "pages": len(pages),
        "rows_returned": len(result),
    }


def _public(desc: dict) -> dict:
    """Job description without anything that could identify credentials."""
    keep = ("JobID", "Status", "Submit", "Started", "Finished", "Rows", "Message", "Queue")
    return {k: desc[k] for k in keep if k in desc}
