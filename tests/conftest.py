"""Shared fixtures: repository paths, configurations and one synthetic catalog."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from photoz.catalog.query import query_catalog  # noqa: E402
from photoz.config import load_config  # noqa: E402
from photoz.tables import read_table_metadata  # noqa: E402

#: Large enough that n(z) fractions of ~0.5% are measured to better than 20%.
SURVEY_SIZE = 10000


def snakemake_command(workdir: Path) -> list[str]:
    """The environment's snakemake on this repository's Snakefile, working in ``workdir``."""
    snakemake = Path(sys.executable).parent / "snakemake"
    return [str(snakemake), "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture()
def default_config() -> dict:
    """The validated default configuration (a fresh copy per test)."""
    return copy.deepcopy(load_config(REPO / "config.yaml"))


def small_config(n_galaxies: int = 300, seed: int = 7, reference_size: int = 1000) -> dict:
    """A validated configuration of a small synthetic survey."""
    cfg = load_config(REPO / "config.yaml")
    cfg["synthetic"].update(n_galaxies=n_galaxies, seed=seed, reference_size=reference_size)
    cfg["catalog"]["sql_template"] = str(REPO / "resources" / "sql" / "p19_mgs.sql")
    return cfg


@pytest.fixture(scope="session")
def survey_catalog(tmp_path_factory) -> tuple[pd.DataFrame, dict, Path]:
    """A 10,000-galaxy synthetic catalog: (table, parquet metadata, path)."""
    out = tmp_path_factory.mktemp("survey")
    cfg = small_config(n_galaxies=SURVEY_SIZE, seed=20190101, reference_size=5000)
    # Pinned (not the default config's) so partition tests see a fixed sky density.
    cfg["synthetic"].update(density_boost=20.0, deep_epochs=8)
    query_catalog(cfg, out / "catalog.parquet", out / "rejected.parquet")
    path = out / "catalog.parquet"
    return pd.read_parquet(path), read_table_metadata(path), path
