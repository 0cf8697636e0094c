"""Injected faults: flaky and slow HTTP, damaged frames in the cache, unreadable frames at
resampling time, a full disk and bad catalog files. Real processes, real files and
loopback servers only; each case checks that nothing already written is lost and that
the stage either heals or fails with one line naming what is wrong.

(Killed runs resumed to byte-identical outputs are in test_cluster.py, beside the
reference run they compare with; leaked credentials in test_casjobs.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from sas_server import SASServer
from test_frames_download import FIXTURES, _index
from test_resample import rendered_partition
from test_skyserver import DATA

from photoz.frames.download import DownloadParams, download_many
from photoz.frames.fetch import fetch_partition
from photoz.frames.integrity import sidecar
from photoz.frames.sas import frame_relpath
from photoz.retry import TransientError, retry_after_s, with_retries

needs_fixtures = pytest.mark.skipif(
    not (FIXTURES / "dr12").is_dir(), reason=f"real SDSS frames not found in {FIXTURES}"
)
PHOTOZ = str(Path(sys.executable).parent / "photoz")


# -- HTTP ------------------------------------------------------------------------------
@pytest.fixture()
def sas_mirror(tmp_path) -> Path:
    """A SAS tree holding the five real frames of field 136 (links)."""
    root = tmp_path / "sas"
    for band in "ugriz":
        rel = frame_relpath(2583, 301, 2, 136, band)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(FIXTURES / rel, root / rel)
    return root


@needs_fixtures
def test_flaky_and_slow_server_each_fault_heals_or_fails_naming_the_url(sas_mirror, tmp_path):
    """429 with Retry-After (waited as asked), an HTML page served with status 200
    (rejected, fetched again), a reset connection, a server slower than the time-out;
    and a file that stays rate-limited fails with the status in the manifest's reason."""
    rel = {b: frame_relpath(2583, 301, 2, 136, b) for b in "ugriz"}
    params = DownloadParams.from_config(concurrency=1, retries=3, backoff_s=0.01, timeout_s=1.5)
    sleeps: list[float] = []
    with SASServer(sas_mirror) as server:
        server.faults[rel["u"]] = ["429"]
        server.faults[rel["g"]] = ["html"]
        server.faults[rel["r"]] = ["reset"]
        server.faults[rel["i"]] = ["slow"]
        server.faults[rel["z"]] = ["429"] * 3
        jobs = [(f"{server.url}/{rel[b]}", tmp_path / "cache" / rel[b]) for b in "ugriz"]
        results = dict(zip("ugriz", download_many(jobs, params, sleep=sleeps.append), strict=True))
        requests_made = dict(server.requests)
    for band in "ugri":
        assert results[band].status == "downloaded", (band, results[band].reason)
        assert (tmp_path / "cache" / rel[band]).read_bytes() == (FIXTURES / rel[band]).read_bytes()
        assert requests_made[rel[band]] == 2
    assert sleeps.count(1.0) >= 3  # u's Retry-After: 1 and z's two waits, not 0.01 s
    assert results["z"].status == "failed" and "HTTP 429 Too Many Requests" in results["z"].reason
    assert requests_made[rel["z"]] == 3 and not (tmp_path / "cache" / rel["z"]).exists()
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_retry_after_is_honoured_and_the_total_wait_bounded():
    class Response:
        def __init__(self, value):
            self.headers = {"Retry-After": value}

    assert retry_after_s(Response("120")) == 120.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert retry_after_s(Response(later)) == pytest.approx(60, abs=2)
    assert retry_after_s(Response("soon")) is None and retry_after_s(object()) is None

    sleeps: list[float] = []
    calls = iter([TransientError("HTTP 503", retry_after_s=30), TransientError("HTTP 503")])

    def flaky():
        exc = next(calls, None)
        if exc:
            raise exc
        return "ok"

    assert with_retries(flaky, "http://x/a", attempts=4, backoff_s=1, sleep=sleeps.append) == "ok"
    assert sleeps == [30, 2]  # the server's wait, then the backoff's

    def rate_limited():
        raise TransientError("HTTP 429", retry_after_s=3600)

    started = time.monotonic()
    with pytest.raises(
        TransientError, match=r"http://x/b: gave up after 0 s .*3600 s.*900 s limit.*HTTP 429"
    ):
        with_retries(rate_limited, "http://x/b", attempts=4, backoff_s=1, sleep=sleeps.append)
    assert time.monotonic() - started < 1 and sleeps == [30, 2]  # nothing slept for the hour


# -- damaged frames --------------------------------------------------------------------
def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:  # one flipped bit in the middle
        data[len(data) // 2] ^= 0x10
        path.write_bytes(bytes(data))


@needs_fixtures
def test_damaged_downloaded_frames_are_found_and_fetched_again(sas_mirror, tmp_path):
    cache, part = tmp_path / "cache", tmp_path / "part"
    params = DownloadParams.from_config(retries=2, backoff_s=0.01)
    rel = {b: frame_relpath(2583, 301, 2, 136, b) for b in "ugriz"}
    with SASServer(sas_mirror) as server:
        index = _index(server.url, part)
        first = fetch_partition(index, cache, tmp_path / "m1.parquet", download=params)
        assert set(first["status"]) == {"downloaded"} and sidecar(cache / rel["r"]).is_file()
        _damage(cache / rel["r"], "truncate")
        _damage(cache / rel["g"], "flip")
        sidecar(cache / rel["u"]).unlink()  # a cache filled by hand: verified in full once
        _damage(cache / rel["u"], "truncate")
        second = fetch_partition(index, cache, tmp_path / "m2.parquet", download=params).set_index("band")
        third = fetch_partition(index, cache, tmp_path / "m3.parquet", download=params)
        assert dict(server.requests) == {rel[b]: 2 if b in "rgu" else 1 for b in "ugriz"}
    for band in "rgu":
        assert second.loc[band, "status"] == "downloaded"
        assert second.loc[band, "reason"].startswith("replaced a damaged cached copy")
        assert (cache / rel[band]).read_bytes() == (FIXTURES / rel[band]).read_bytes()
        assert (part / rel[band]).samefile(cache / rel[band])
    assert "checksum" in second.loc["g", "reason"]  # a flipped bit: only the checksum sees it
    assert set(second.loc[["i", "z"], "status"]) == {"present"} and set(third["status"]) == {"present"}


@pytest.mark.slow
def test_damaged_rendered_frames_are_rendered_again_identically(tmp_path):
    galaxies, index, manifest, renderer = rendered_partition(tmp_path)
    paths = sorted(index["path"].unique())
    originals = {p: Path(p).read_bytes() for p in paths}
    _damage(Path(paths[0]), "truncate")
    _damage(Path(paths[1]), "flip")
    again = fetch_partition(index, None, tmp_path / "m2.parquet", renderer=renderer).set_index("path")
    assert list(again.loc[paths[:2], "status"]) == ["rendered"] * 2
    assert again.loc[paths[:2], "reason"].str.startswith("replaced a damaged cached copy").all()
    assert (again.drop(paths[:2])["status"] == "present").all()
    assert all(Path(p).read_bytes() == originals[p] for p in paths)


@pytest.mark.slow
def test_a_frame_unreadable_at_resampling_is_recorded_and_the_partition_goes_on(tmp_path):
    from photoz.resample.cubes import ResampleParams, resample_partition

    galaxies, index, manifest, _ = rendered_partition(tmp_path)
    reference = resample_partition(galaxies, index, manifest, ResampleParams())
    # every r frame of a wide galaxy (one epoch), damaged after the fetch checked them
    wide = int(galaxies["objid"].iloc[-1])
    victims = set(index.loc[(index["objid"] == wide) & (index["band"] == "r"), "path"])
    for path in victims:
        _damage(Path(path), "truncate")
    table, cubes, weights, missing = resample_partition(galaxies, index, manifest, ResampleParams())
    hit = set(index.loc[index["path"].isin(victims), "objid"].astype(int))
    r_missing = missing[missing["band"] == "r"].set_index("objid")["reason"]
    r_frames = index[index["band"] == "r"].groupby("objid")["path"].apply(set)
    only_victims = {o for o in hit if r_frames[o] <= victims}
    assert wide in only_victims
    for objid in hit:
        row = int(np.flatnonzero(table["objid"] == objid)[0])
        assert table.loc[row, "flags"] & (1 << (8 + 2))  # r: a frame failed
        if objid in only_victims:  # no r data at all: a missing row naming the frame
            assert table.loc[row, "n_frames_r"] == 0 and table.loc[row, "flags"] & (1 << 2)
            assert r_missing[objid].startswith("frames failed: unreadable:")
            assert any(path in r_missing[objid] for path in victims)
    # the galaxies the damaged frame does not touch keep exactly their cubes
    ref_table, ref_cubes = reference[0], reference[1]
    untouched = ~table["objid"].astype(int).isin(hit).to_numpy()
    np.testing.assert_array_equal(cubes[untouched], ref_cubes[untouched])
    assert (table.loc[untouched, "flags"] == ref_table.loc[untouched, "flags"]).all()


@pytest.mark.slow
def test_galaxies_outside_every_frame_are_recorded_not_dropped(tmp_path):
    from photoz.resample.cubes import ResampleParams, resample_partition

    galaxies, index, manifest, _ = rendered_partition(tmp_path)
    far = galaxies.assign(ra=(galaxies["ra"] + 90.0) % 360.0)
    table, cubes, weights, missing = resample_partition(far, index.iloc[:0], manifest, ResampleParams())
    assert len(table) == len(far) and (table["flags"] & 0x1F == 0x1F).all()
    assert len(missing) == 5 * len(far) and set(missing["reason"]) == {"no frame overlaps the cutout"}
    assert not cubes.any() and not weights.any()


# -- a full disk -----------------------------------------------------------------------
@pytest.fixture()
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs (root only; skipped with the reason elsewhere)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def _small_config(tmp_path: Path, **sections) -> Path:
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["synthetic"].update(n_galaxies=150, reference_size=400)
    for key, value in sections.items():
        cfg[key].update(value)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _stage(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PHOTOZ, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_a_full_disk_fails_with_one_line_and_leaves_no_file(tmp_path, tiny_disk):
    config = _small_config(tmp_path)
    log = tmp_path / "query.log"
    done = _stage(
        "query_catalog",
        "--configfile",
        str(config),
        "--catalog",
        str(tiny_disk / "catalog.parquet"),
        "--rejected",
        str(tiny_disk / "rejected.parquet"),
        "--without-spectra",
        str(tiny_disk / "without.parquet"),
        "--log",
        str(log),
        cwd=tmp_path,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], done.stderr
    assert lines[0].startswith("query_catalog: ") and str(tiny_disk) in lines[0]
    assert "Traceback" not in done.stderr and "Traceback" in log.read_text()
    # the output that did not fit is named and absent; what was written is whole
    outputs = [tiny_disk / name for name in ("catalog.parquet", "rejected.parquet", "without.parquet")]
    failed = [p for p in outputs if str(p) in lines[0]]
    assert len(failed) == 1 and not failed[0].exists(), lines[0]
    for path in set(outputs) - set(failed):
        if path.exists():
            pd.read_parquet(path)  # a half-written Parquet file would not read
    assert not [p.name for p in tiny_disk.iterdir() if p.name.startswith(".") or ".tmp" in p.name]


# -- bad catalog files -----------------------------------------------------------------
def _catalog_case(tmp_path: Path, name: str, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    config = _small_config(tmp_path, catalog={"backend": "file", "file": {"path": str(path)}})
    return _stage(
        "query_catalog",
        "--configfile",
        str(config),
        "--catalog",
        str(tmp_path / f"{name}.parquet"),
        "--rejected",
        str(tmp_path / f"{name}.rejected.parquet"),
        "--log",
        str(tmp_path / f"{name}.log"),
        cwd=tmp_path,
    )


def test_bad_catalog_files_fail_with_one_line_or_are_rejected_by_row(tmp_path):
    export = (DATA / "p19_result.csv").read_text().splitlines()
    header, rows = export[1], export[2:]  # export[0] is SkyServer's "#Table1"
    cases = {
        "empty": ("", r"empty\.csv: cannot read catalog"),
        "duplicated_header": (
            "\n".join([header, header, *rows]),
            r"column 'objid' is not numeric: row 1 has 'objid'",
        ),
        "missing_column": (
            "\n".join(",".join(line.split(",")[1:]) for line in [header, *rows]),
            r"missing required column\(s\): \['objid'\]",
        ),
    }
    for name, (text, expected) in cases.items():
        done = _catalog_case(tmp_path, name, text)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1 and len(lines) == 1, (name, done.stderr)
        assert lines[0].startswith("query_catalog: ") and pd.Series(lines).str.contains(expected).all(), (
            name,
            lines,
        )
        assert "Traceback" not in done.stderr and not (tmp_path / f"{name}.parquet").exists()

    # one galaxy, and rows with out-of-range coordinates: written, the bad ones rejected
    one = _catalog_case(tmp_path, "one_row", "\n".join([header, rows[0]]))
    assert one.returncode == 0, one.stderr
    assert len(pd.read_parquet(tmp_path / "one_row.parquet")) == 1
    columns = header.split(",")
    bad = [line.split(",") for line in rows[:4]]
    bad[0][columns.index("ra")] = "-3.5"
    bad[1][columns.index("dec")] = "91"
    bad[2][columns.index("petromag_r")] = "inf"
    done = _catalog_case(tmp_path, "ranges", "\n".join([header, *(",".join(r) for r in bad), *rows[4:]]))
    assert done.returncode == 0, done.stderr
    rejected = pd.read_parquet(tmp_path / "ranges.rejected.parquet").set_index("objid")["reject_reason"]
    ids = [int(r[0]) for r in bad[:3]]
    assert rejected[ids[0]] == "ra -3.5 outside [0, 360) deg"
    assert rejected[ids[1]] == "dec 91 outside [-90, 90] deg"
    assert "petromag_r" in rejected[ids[2]]
    kept = pd.read_parquet(tmp_path / "ranges.parquet")
    assert not set(ids) & set(kept["objid"]) and int(bad[3][0]) in set(kept["objid"])
