"""The real-SDSS path as one workflow, against loopback servers only.

A model is trained on a tiny synthetic survey; then ``snakemake targets`` with
``targets.backend: skyserver`` asks a SkyServer stand-in (``catalog.skyserver.base_url``)
for photometric galaxies and for the CAS ``Field`` rows of the frame index, downloads
the real fixture frames from a SAS mirror served over HTTP (``frames.sas_base_url``),
resamples them into cubes and gives those real galaxies photo-z. Every request that is
not to the loopback address goes to a dead proxy, so the run cannot reach the internet.
"""

from __future__ import annotations

import os
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import snakemake_command
from sas_server import SASServer
from skyserver_standin import WINDOW_SIGMA_PX, SkyServerStandIn, fixture_targets
from test_frames_download import FIXTURES
from test_resample_reproject import CENTRE, windowed_centroid
from test_workflow import TINY_OVERRIDE

from photoz.tables import read_cubes, read_photoz, read_table_metadata

pytestmark = pytest.mark.skipif(
    not (FIXTURES / "dr12").is_dir(), reason=f"real SDSS frames not found in {FIXTURES}"
)

#: A tiny synthetic survey and model (5 folds x 1 member of p19_tiny, a few steps): the
#: model's quality is not the point, the path is.
TRAINING = {
    "synthetic": {
        "n_galaxies": 240,
        "n_without_spectra": 60,
        "reference_size": 600,
        "seed": 5,
        "frame_width": 512,
        "frame_height": 372,
        "deep_epochs": 2,
    },
    "partitions": {"max_galaxies": 120},
    "training": TINY_OVERRIDE["training"],
    "methods": ["baseline"],
}
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens


def _offline_env() -> dict[str, str]:
    """The environment of the run: every non-loopback HTTP(S) request fails."""
    proxies = {k: DEAD_PROXY for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    no_proxy = {k: "127.0.0.1,localhost" for k in ("NO_PROXY", "no_proxy")}
    return {**os.environ, **proxies, **no_proxy}


@pytest.mark.slow
def test_real_sdss_galaxies_get_photoz_from_a_synthetic_model(tmp_path):
    targets = fixture_targets(FIXTURES)
    assert len(targets) >= 5, "the fixture field should hold several extended sources"
    cfg = {
        **TRAINING,
        "targets": {"backend": "skyserver", "region": {"ra": 323.35, "dec": -0.73, "radius_deg": 0.3}},
    }
    with SkyServerStandIn(targets) as skyserver, SASServer(FIXTURES) as sas:
        cfg["catalog"] = {"skyserver": {"base_url": skyserver.url, "retries": 1, "backoff_s": 0.0}}
        cfg["frames"] = {
            "sas_base_url": sas.url,
            "field_query": {"retries": 1, "backoff_s": 0.0},
            "download": {"retries": 2, "backoff_s": 0.1},
        }
        config_file = tmp_path / "real.yaml"
        config_file.write_text(yaml.safe_dump(cfg))
        command = [*snakemake_command(tmp_path), "targets", "--cores", "2", "--configfile", str(config_file)]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env=_offline_env(), timeout=1800)
        print(f"real-SDSS targets run: {time.perf_counter() - start:.0f} s wall on 2 cores")
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
        assert skyserver.clients == {"127.0.0.1"} and skyserver.requests["photoprimary"] == 12
        assert skyserver.requests["field"] >= 1
        downloads = sum(sas.requests.values())
        assert downloads == 5, sas.requests  # the fixture field's five frames, once each

        # A second run (the fetch forced) finds every frame in the cache: nothing downloaded.
        again = subprocess.run(
            [*command, "--forcerun", "fetch_target_frames"],
            capture_output=True,
            text=True,
            env=_offline_env(),
            timeout=900,
        )
        assert again.returncode == 0, again.stdout[-5000:] + again.stderr[-5000:]
        assert sum(sas.requests.values()) == downloads

    root = tmp_path / "results/targets"
    catalog = pd.read_parquet(root / "catalog/catalog.parquet")
    assert read_table_metadata(root / "catalog/catalog.parquet")["sky"] == "sdss"
    assert sorted(catalog["objid"]) == sorted(targets["objid"])
    manifests = pd.concat(pd.read_parquet(p) for p in (root / "frames/manifest").glob("*.parquet"))
    assert set(manifests["status"]) == {"present"}  # the second run's
    assert all(url.startswith(sas.url) for url in manifests["url"])

    # Real-source cubes: each galaxy at the centre of its r cutout within 0.1 px (the
    # centroid measured as its position was: a Gaussian window of the same width).
    for path in sorted((root / "cubes").glob("*.parquet")):
        table, cubes, weights = read_cubes(path)
        assert (weights[:, :, 16:48, 16:48] > 0).all()
        for k, objid in enumerate(table["objid"]):
            row, col = windowed_centroid(cubes[k, 2], WINDOW_SIGMA_PX)
            assert abs(row - CENTRE) <= 0.1 and abs(col - CENTRE) <= 0.1, (objid, row, col)

    # Every target has a photo-z row (or a recorded reason), from the synthetic-sky model.
    photoz = read_photoz(root / "photoz/baseline.parquet")
    missing = pd.read_csv(root / "missing.tsv", sep="\t")
    assert set(photoz["objid"]) | set(missing["objid"]) == set(catalog["objid"])
    assert len(photoz) == len(catalog) and (photoz["n_members"] == 5).all()
    np.testing.assert_allclose(np.stack(photoz["pdf"]).sum(axis=1), 1.0, atol=1e-5)
    provenance = read_table_metadata(root / "photoz/baseline.parquet")
    assert provenance["training_sky"] == "synthetic" and provenance["target_sky"] == "sdss"
    log = (tmp_path / "logs/apply_models/baseline.log").read_text()
    assert "trained on the SYNTHETIC survey" in log
