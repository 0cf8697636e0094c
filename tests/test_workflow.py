"""The Snakemake workflow: formatting, lint, dry run and a real end-to-end run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from browser import chromium_paths, inspect_page
from conftest import REPO, snakemake_command
from scipy.stats import spearmanr

from photoz.dataset.shards import verify_manifest
from photoz.evaluation.captions import FIGURES
from photoz.evaluation.stage import read_metrics
from photoz.synthetic.galaxies import frame_flux
from photoz.tables import read_cubes, read_photoz, read_table_metadata

BIN = Path(sys.executable).parent
SCRIPTS = sorted((REPO / "workflow" / "scripts").glob("[a-z]*.py"))


def _run(cmd: list[str], cwd: Path = REPO, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _snakemake(*args: str, workdir: Path) -> subprocess.CompletedProcess:
    return _run(
        [*snakemake_command(workdir), *args],
        timeout=900,
    )


def test_rules_are_snakefmt_formatted():
    result = _run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint_is_clean():
    result = _run([str(BIN / "snakemake"), "--lint"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


def test_python_is_ruff_clean_and_formatted():
    result = _run([str(BIN / "ruff"), "check", "."])
    assert result.returncode == 0, result.stdout + result.stderr
    result = _run([str(BIN / "ruff"), "format", "--check", "."])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_stage_scripts_have_help(script):
    result = _run([sys.executable, str(script), "--help"])
    assert result.returncode == 0 and "usage:" in result.stdout, result.stderr


def test_default_config_dry_run_plans_the_stages(tmp_path):
    result = _snakemake("-n", workdir=tmp_path)
    assert result.returncode == 0, result.stderr
    # Per-partition stages join the DAG once the plan_partitions checkpoint has run;
    # whole-survey stages after it are planned already.
    for rule in ("query_catalog", "plan_partitions", "build_dataset"):
        assert rule in result.stdout
    assert "checkpoint" in result.stdout


TINY_OVERRIDE = {
    "synthetic": {
        "n_galaxies": 240,
        "reference_size": 600,
        "seed": 5,
        "frame_width": 512,
        "frame_height": 372,
        "deep_epochs": 2,
    },
    "partitions": {"max_galaxies": 90},
    "frames": {"temporary": True},
    # 5 folds x 1 member of the smallest network, a few steps each (ensembles of several
    # members: tests/test_training.py).
    "training": {
        "network": "p19_tiny",
        "n_members": 1,
        "steps": 6,
        "batch_size": 16,
        "checkpoint_every": 3,
        "validate_every": 3,
        "shuffle_buffer": 64,
        "threads": 1,
    },
    "evaluate": {"n_bootstrap": 20},
    # L22 steps 1-4 beside the baseline (variants 3a/3b plan the same rules as step 3)
    "methods": ["baseline", "step1", "step2", "step3", "step4", "baseline_calibrated"],
    "lin2022": {"steps": 6, "batch_size": 8, "learning_rate": 1.0e-3},
}
L22_METHODS = ["step1", "step2", "step3", "step4"]
CONTROLS = ["baseline_calibrated"]  # the baseline through step 4's calibration


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, Path]:
    """A real run of the whole pipeline on a tiny survey: (work directory, config file)."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    cfg = workdir / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(TINY_OVERRIDE))
    result = _snakemake("--cores", "2", "--configfile", str(cfg), workdir=workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    return workdir, cfg


@pytest.mark.slow
def test_end_to_end_tiny_run(tiny_run):
    """Every stage's outputs on the tiny survey, then a no-op rerun."""
    tmp_path, cfg = tiny_run

    catalog = pd.read_parquet(tmp_path / "results/catalog/catalog.parquet")
    assert len(catalog) == 240
    meta = read_table_metadata(tmp_path / "results/catalog/catalog.parquet")
    assert meta["synthetic"]["config"]["seed"] == 5
    summary = pd.read_csv(tmp_path / "results/catalog/partitions.tsv", sep="\t")
    assert summary["n_galaxies"].sum() == 240 and summary["n_galaxies"].max() <= 90
    assert len(summary) >= 3
    assert sorted(p.stem for p in (tmp_path / "results/partitions").glob("*.parquet")) == list(
        summary["partition"]
    )
    for rule in ("query_catalog", "plan_partitions", "list_partitions"):
        assert (tmp_path / f"logs/{rule}/{rule}.log").exists()
        bench = pd.read_csv(tmp_path / f"logs/benchmarks/{rule}/{rule}.tsv", sep="\t")
        assert {"s", "max_rss"} <= set(bench.columns)
    for part in summary["partition"]:
        index = pd.read_parquet(tmp_path / f"results/frames/index/{part}.parquet")
        manifest = pd.read_parquet(tmp_path / f"results/frames/manifest/{part}.parquet")
        members = pd.read_parquet(tmp_path / f"results/partitions/{part}.parquet")
        assert set(index["objid"]) == set(members["objid"]), "every galaxy has frames"
        assert set(index["band"]) == set("ugriz")
        assert set(manifest["status"]) == {"rendered"}
        assert set(manifest["path"]) == set(index["path"])
        # frames.temporary: the partition's frames were deleted once its cubes existed.
        assert not (tmp_path / f"resources/frames/partitions/{part}").exists()
        table, cubes, weights = read_cubes(tmp_path / f"results/cubes/{part}.parquet")
        assert list(table["objid"]) == list(members["objid"])
        assert cubes.shape == (len(members), 5, 64, 64) and np.isfinite(cubes).all()
        # Every galaxy lies inside the survey, so every band has data at its centre.
        assert (weights[:, :, 31:33, 31:33] > 0).all()
        assert (table[[f"n_frames_{b}" for b in "ugriz"]] >= 1).all().all()
        # The cutouts hold the galaxies' true light (plus neighbours' and noise): the
        # median ratio of cutout flux to true r flux is ~1 and the ranks agree.
        true = frame_flux(members, "r")  # zero points (~1%) aside
        ratio = cubes[:, 2].sum(axis=(1, 2)) / true
        assert 0.95 < np.median(ratio) < 1.1, np.median(ratio)
        assert spearmanr(cubes[:, 2, 16:48, 16:48].sum(axis=(1, 2)), true).statistic > 0.8
        for rule in ("index_frames", "fetch_frames", "resample_cubes"):
            assert (tmp_path / f"logs/benchmarks/{rule}/{part}.tsv").exists()
    # Stage 6: every galaxy in one fold, every example in its fold's shards, intact.
    dataset = pd.read_parquet(tmp_path / "results/dataset/catalog.parquet")
    assert sorted(dataset["objid"]) == sorted(catalog["objid"]) and dataset["in_dataset"].all()
    assert dataset["fold"].value_counts().sort_index().tolist() == [48] * 5
    shards = verify_manifest(tmp_path / "results/dataset/manifest.tsv")
    tfrecords = shards[shards["format"] == "tfrecord"]
    assert tfrecords["n_records"].sum() == 240
    assert (tfrecords.groupby("fold")["n_records"].sum() == 48).all()
    assert (tmp_path / "logs/benchmarks/build_dataset/build_dataset.tsv").exists()
    # Stages 7-9 and the kNN baseline: one photo-z per galaxy and method, PDFs normalised.
    for method in ("baseline", "knn", *L22_METHODS, *CONTROLS):
        photoz = read_photoz(tmp_path / f"results/photoz/{method}.parquet")
        assert sorted(photoz["objid"]) == sorted(catalog["objid"])
        assert np.allclose(np.stack(photoz["pdf"]).sum(axis=1), 1.0, atol=1e-4)
        z_lo, z_hi = photoz.attrs["pdf_range"]
        assert photoz["z_phot"].between(z_lo, z_hi).all() and photoz["pit"].between(0, 1).all()
    assert read_photoz(tmp_path / "results/photoz/step3.parquet").attrs["pdf_range"] == pytest.approx(
        (-0.2, 0.6)
    )
    step4 = read_photoz(tmp_path / "results/photoz/step4.parquet")
    step3 = read_photoz(tmp_path / "results/photoz/step3.parquet").set_index("objid").loc[step4["objid"]]
    np.testing.assert_allclose(
        step4["z_phot"], step3["z_phot"].to_numpy() - step4["calibration_offset"], atol=1e-9
    )
    # The control: the baseline's own photo-z through the same calibration.
    control = read_photoz(tmp_path / "results/photoz/baseline_calibrated.parquet")
    base = read_photoz(tmp_path / "results/photoz/baseline.parquet").set_index("objid").loc[control["objid"]]
    np.testing.assert_allclose(
        control["z_phot"], base["z_phot"].to_numpy() - control["calibration_offset"], atol=1e-9
    )
    assert np.abs(control["calibration_offset"]).max() > 0
    for fold in range(5):
        for method in ("baseline", "step1", "step2", "step3"):
            history = pd.read_csv(tmp_path / f"results/models/{method}/fold{fold}/member0/history.csv")
            assert list(history["step"]) == [3, 6]
    for method in ("step2", "step3"):
        record = json.loads((tmp_path / f"results/models/{method}/fold0/member0/params.json").read_text())
        assert record["step1_dir"].endswith("results/models/step1/fold0/member0") and record["cell_cap"] == 1
    # Stages 10-11: metrics of every method on the same 240 galaxies, and the report.
    metrics = read_metrics(tmp_path / "results/report/metrics.json")
    assert metrics["provenance"]["synthetic"] is True
    assert set(metrics["methods"]) == {"baseline", "knn", "catalog", *L22_METHODS, *CONTROLS}
    for res in metrics["methods"].values():
        assert res["subsets"].iloc[0]["n"] == 240 and np.isfinite(res["subsets"].iloc[0]["sigma_mad"])
    page = (tmp_path / "results/report/index.html").read_text()
    assert page.count("data:image/png;base64,") == len(FIGURES)
    assert not list(tmp_path.rglob("*.tmp")), "no temporary file may survive"

    again = _snakemake("--cores", "2", "--configfile", str(cfg), "-n", workdir=tmp_path)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tiny_run):
    """Every figure of the run's report renders with ink, the tables hold numbers; a
    screenshot is kept under results/test-artifacts/ (CI keeps it)."""
    if chromium_paths() is None:
        pytest.skip("Debian chromium and chromium-driver are not installed (.ci/run installs them)")
    workdir, _ = tiny_run
    shot = workdir / "results/report/screenshot.png"
    seen = inspect_page(workdir / "results/report/index.html", shot)
    assert seen["title"] == "Photo-z report" and "not SDSS results" in seen["banner"]
    assert [img["alt"] for img in seen["images"]] == list(FIGURES)
    for img in seen["images"]:
        assert img["complete"] and img["width"] > 300 and img["height"] > 150, img
        assert img["shown_width"] > 200 and img["inked"] > 0.02, img
    numbers = [c for c in seen["cells"] if re.fullmatch(r"[-+]?\d+(\.\d+)?", c)]
    assert len(numbers) > 100
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    artifacts = REPO / "results" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, artifacts / "report-screenshot.png")


@pytest.mark.slow
def test_snakemake_report_zip(tiny_run):
    workdir, cfg = tiny_run
    out = workdir / "results/report/report.zip"
    result = _snakemake("--configfile", str(cfg), "--report", str(out), workdir=workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    for name in (*FIGURES, "index", "metrics"):
        assert any(name in n for n in names), (name, names[:20])


def test_readme_opens_with_the_two_commands():
    lines = (REPO / "README.md").read_text().splitlines()
    block = lines[lines.index("```bash") + 1 : lines.index("```bash") + 3]
    assert block[0].endswith(".venv/bin/snakemake --cores all")
    assert block[1].endswith(".venv/bin/python -m pytest")
    ci = (REPO / ".ci" / "run").read_text()
    assert block[1].replace("pip install", "pip install -q") in ci
    assert shutil.which("python3")


def test_conda_envs_match_the_pip_dependencies():
    """Every package of envs/*.yaml is a pyproject dependency with the same lower bound."""
    import re
    import tomllib

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = dict(re.match(r"([A-Za-z0-9_.-]+)>=([\d.]+)", d).groups() for d in deps)
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert envs
    for env in envs:
        for dep in yaml.safe_load(env.read_text())["dependencies"]:
            name, _, bound = dep.partition(" ")
            if name == "python":
                assert bound == "=3.11"
                continue
            assert name in pins, f"{env.name}: {name} is not a pip dependency"
            assert bound == f">={pins[name]}", f"{env.name}: {name} {bound} vs >={pins[name]}"


def _planned(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Job counts per rule of a dry run ({} when nothing is to be done)."""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stats = result.stdout.split("Job stats:")[1].split("\n\n")[0] if "Job stats:" in result.stdout else ""
    return {
        line.split()[0]: int(line.split()[1])
        for line in stats.splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit() and line.split()[0] != "total"
    }


@pytest.mark.slow
def test_rerun_recipes_plan_only_what_depends(tiny_run, tmp_path):
    """The README's rerun recipes (dry runs on the finished tiny run): one stage, one
    member, a changed hyperparameter, --until."""
    workdir, cfg = tiny_run
    base = ["--configfile", str(cfg), "-n"]
    forced = _planned(_snakemake(*base, "--forcerun", "resample_cubes", workdir=workdir))
    n_parts = len(list((workdir / "results/cubes").glob("*.parquet")))
    assert forced["resample_cubes"] == n_parts and forced["build_dataset"] == 1
    # frames.temporary: the frames were deleted after resampling, so they are fetched
    # again (from the index, which is not redone); the catalog stages are not rerun
    assert (
        forced["fetch_frames"] == n_parts and "index_frames" not in forced and "query_catalog" not in forced
    )
    member = "results/models/baseline/fold2/member0/weights.weights.h5"
    one = _planned(_snakemake(*base, "--forcerun", member, workdir=workdir))
    # baseline fold 2 and what starts from it (lin2022.step1_init: baseline): step 1's
    # member, step 2's fold-2 heads, and step 3's heads of every fold (fold 2 on the new
    # step 1, the others on the new step 2 pre-estimates of fold 2's galaxies)
    assert (one["train"], one["train_heads"], one["predict"]) == (2, 6, 8)
    assert one["calibrate"] == 2 and "build_dataset" not in one  # step 4 and baseline_calibrated
    # a changed hyperparameter reruns what it feeds: lin2022 -> heads, not networks
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        yaml.safe_dump({**TINY_OVERRIDE, "lin2022": {**TINY_OVERRIDE["lin2022"], "learning_rate": 2e-3}})
    )
    heads = _planned(_snakemake("--configfile", str(changed), "-n", workdir=workdir))
    assert heads["train_heads"] == 10 and "train" not in heads and heads["calibrate"] == 1
    # ... and a step 4 setting only the calibration
    changed.write_text(
        yaml.safe_dump(
            {**TINY_OVERRIDE, "lin2022": {**TINY_OVERRIDE["lin2022"], "calibration_z_width": 0.02}}
        )
    )
    assert set(_planned(_snakemake("--configfile", str(changed), "-n", workdir=workdir))) == {
        "calibrate",
        "evaluate",
        "report",
        "all",
    }
    changed.write_text(yaml.safe_dump({**TINY_OVERRIDE, "evaluate": {"n_bootstrap": 7}}))
    report_only = _planned(_snakemake("--configfile", str(changed), "-n", workdir=workdir))
    assert set(report_only) == {"evaluate", "report", "all"}
    fresh = tmp_path / "fresh"
    until = _planned(_snakemake("--configfile", str(cfg), "-n", "--until", "build_dataset", workdir=fresh))
    assert until.get("build_dataset") == 1 and "train" not in until and "all" not in until
