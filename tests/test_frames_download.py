"""The SAS downloader, for real over HTTP, against a loopback server with real frames."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from sas_server import SASServer

from photoz.frames.download import DownloadParams
from photoz.frames.fetch import fetch_partition
from photoz.frames.reader import read_frame
from photoz.frames.sas import frame_relpath

FIXTURES = Path(os.environ.get("PHOTOZ_SDSS_FIXTURES", REPO.parent / "shared" / "data" / "sdss"))
pytestmark = pytest.mark.skipif(
    not (FIXTURES / "dr12").is_dir(), reason=f"real SDSS frames not found in {FIXTURES}"
)


@pytest.fixture()
def sas_tree(tmp_path) -> Path:
    """A SAS mirror with the five real frames (links) plus a corrupted copy and a gap."""
    root = tmp_path / "sas"
    for band in "ugriz":
        rel = frame_relpath(2583, 301, 2, 136, band)
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(FIXTURES / rel, dest)
    corrupt = bytearray((FIXTURES / frame_relpath(2583, 301, 2, 136, "r")).read_bytes())
    corrupt[len(corrupt) // 2 : len(corrupt) // 2 + 64] = b"\x00" * 64  # breaks the bz2 stream
    (root / frame_relpath(2583, 301, 2, 137, "r")).write_bytes(bytes(corrupt))
    return root


def _index(base_url: str, part_dir: Path, fields=((136, "ugriz"),)) -> pd.DataFrame:
    rows = []
    for fld, bands in fields:
        for band in bands:
            rel = frame_relpath(2583, 301, 2, fld, band)
            rows.append(
                {
                    "objid": np.uint64(1),
                    "band": band,
                    "run": 2583,
                    "rerun": 301,
                    "camcol": 2,
                    "field": fld,
                    "relpath": rel,
                    "path": str(part_dir / rel),
                    "url": f"{base_url}/{rel}",
                }
            )
    return pd.DataFrame(rows)


def test_concurrent_download_resume_retry_and_failures(sas_tree, tmp_path):
    cache, part_dir = tmp_path / "cache", tmp_path / "part"
    params = DownloadParams.from_config(concurrency=4, retries=3, backoff_s=0.01, timeout_s=20)
    with SASServer(sas_tree) as server:
        rel = {b: frame_relpath(2583, 301, 2, 136, b) for b in "ugriz"}
        server.faults[rel["g"]] = ["truncate"]
        server.faults[rel["i"]] = ["503", "503"]
        index = _index(server.url, part_dir, fields=((136, "ugriz"), (137, "r"), (138, "r")))
        manifest = fetch_partition(index, cache, tmp_path / "manifest.parquet", download=params)
        status = dict(zip(manifest["relpath"], manifest["status"], strict=True))
        reasons = dict(zip(manifest["relpath"], manifest["reason"], strict=True))
        for band in "ugriz":
            assert status[rel[band]] == "downloaded", reasons[rel[band]]
            got = (cache / rel[band]).read_bytes()
            assert got == (FIXTURES / rel[band]).read_bytes()
            assert (part_dir / rel[band]).samefile(cache / rel[band])
        # The truncated transfer resumed from where it stopped, with a Range request.
        assert any(r == rel["g"] and h.startswith("bytes=") and h != "bytes=0-" for r, h in server.ranges)
        assert server.requests[rel["g"]] == 2
        assert server.requests[rel["i"]] == 3  # two 503s, then success
        bad = frame_relpath(2583, 301, 2, 137, "r")
        missing = frame_relpath(2583, 301, 2, 138, "r")
        assert status[bad] == "failed" and "corrupt" in reasons[bad]
        assert status[missing] == "failed" and reasons[missing] == "HTTP 404 Not Found"
        assert not (cache / bad).exists() and not list(cache.rglob("*.part"))
        frame = read_frame(cache / rel["z"])
        assert frame.image.shape == (1489, 2048) and frame.band == "z"

        # A second run downloads nothing: valid files are never fetched again.
        before = dict(server.requests)
        again = fetch_partition(index, cache, tmp_path / "manifest2.parquet", download=params)
        assert set(again.loc[again["relpath"].isin(rel.values()), "status"]) == {"present"}
        assert all(server.requests[r] == before[r] for r in rel.values())
    on_disk = pd.read_parquet(tmp_path / "manifest.parquet")
    assert list(on_disk["status"]).count("failed") == 2


def test_temporary_mode_downloads_into_the_partition_directory(sas_tree, tmp_path):
    part_dir = tmp_path / "part"
    with SASServer(sas_tree) as server:
        index = _index(server.url, part_dir, fields=((136, "r"),))
        manifest = fetch_partition(
            index, None, tmp_path / "m.parquet", download=DownloadParams.from_config(retries=1)
        )
    assert list(manifest["status"]) == ["downloaded"]
    path = Path(manifest["path"][0])
    assert path.is_file() and path.stat().st_nlink == 1 and path.is_relative_to(part_dir)


def test_fixture_frames_read_and_noise_recipe_matches_background_rms():
    """All five real frames read, and the datamodel noise recipe (photoField gain and
    dark variance) gives a median per-pixel error within 10% of the background RMS."""
    from photoz.frames.reader import background_rms, read_photofield

    photofield = FIXTURES / "dr12/boss/photoObj/301/2583/2/photoField-002583-2.fits"
    for band in "ugriz":
        frame = read_frame(FIXTURES / frame_relpath(2583, 301, 2, 136, band))
        assert frame.image.shape == (1489, 2048) and frame.band == band
        assert frame.header["BUNIT"] == "nanomaggy" and frame.calib.shape == (2048,)
        gain, dark = read_photofield(photofield, 136, band)
        err = frame.error_image(gain, dark)
        ratio = np.median(err) / background_rms(frame.image)
        assert 0.9 < ratio < 1.1, (band, ratio)
    assert read_photofield(photofield, 136, "i") == (pytest.approx(5.195), pytest.approx(6.25))
