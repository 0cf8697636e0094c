"""Stage 1 of the target sample and the checks every catalog row now gets: a region,
numeric columns, valid ranges, values a cut needs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_config
from test_skyserver import DATA

from photoz.catalog.query import query_catalog
from photoz.catalog.region import region_mask, region_sql
from photoz.catalog.selection import CatalogError
from photoz.catalog.targets import query_targets
from photoz.errors import ConfigError
from photoz.tables import read_table_metadata


@pytest.fixture(scope="module")
def sky(tmp_path_factory):
    """A small synthetic sky: (directory, config) with the training catalog and the
    galaxies without spectra."""
    out = tmp_path_factory.mktemp("sky")
    cfg = small_config(n_galaxies=300)
    cfg["synthetic"]["n_without_spectra"] = 120
    query_catalog(cfg, out / "catalog.parquet", out / "rejected.parquet", out / "without.parquet")
    return out, cfg


def test_synthetic_targets_are_the_skys_galaxies_without_spectra(sky, tmp_path):
    out, cfg = sky
    training = pd.read_parquet(out / "catalog.parquet")
    meta = query_targets(
        cfg, out / "catalog.parquet", out / "without.parquet", tmp_path / "t.parquet", tmp_path / "r.parquet"
    )
    targets = pd.read_parquet(tmp_path / "t.parquet")
    assert len(targets) + len(pd.read_parquet(tmp_path / "r.parquet")) == 120
    assert not targets["objid"].isin(training["objid"]).any()  # disjoint from the training
    assert {"z", "zerr", "specobjid"}.isdisjoint(targets.columns) and "sim_z" in targets
    assert (targets["dered_petro_r"] <= 17.8).all()
    # the training sample's redshift range, drawn from the same sky
    assert abs(np.median(targets["sim_z"]) - np.median(training["z"])) < 0.03
    assert (
        meta["sky"] == "synthetic"
        and meta["synthetic"] == read_table_metadata(out / "catalog.parquet")["synthetic"]
    )


def test_a_region_limits_the_targets_and_is_sql(sky, tmp_path):
    out, cfg = sky
    without = pd.read_parquet(out / "without.parquet")
    ra0, dec0 = float(without["ra"].median()), float(without["dec"].median())
    cfg = {**cfg, "targets": {**cfg["targets"], "region": {"ra": ra0, "dec": dec0, "radius_deg": 0.2}}}
    query_targets(
        cfg, out / "catalog.parquet", out / "without.parquet", tmp_path / "t.parquet", tmp_path / "r.parquet"
    )
    targets = pd.read_parquet(tmp_path / "t.parquet")
    inside = region_mask(without["ra"], without["dec"], cfg["targets"]["region"])
    assert 0 < len(targets) == inside.sum() < len(without)
    d = np.degrees(
        np.arccos(
            np.clip(
                np.sin(np.radians(dec0)) * np.sin(np.radians(targets["dec"]))
                + np.cos(np.radians(dec0))
                * np.cos(np.radians(targets["dec"]))
                * np.cos(np.radians(targets["ra"] - ra0)),
                -1,
                1,
            )
        )
    )
    assert d.max() <= 0.2
    box = {"ra_min": 350.0, "ra_max": 10.0, "dec_min": -1.0, "dec_max": 1.0}  # wraps through 0
    assert region_mask(np.array([355.0, 5.0, 180.0, 5.0]), np.array([0.0, 0.0, 0.0, 2.0]), box).tolist() == [
        True,
        True,
        False,
        False,
    ]
    assert "po.ra >= 350.0 OR po.ra <= 10.0" in region_sql(box)
    assert ">= 0.9999" in region_sql(cfg["targets"]["region"])


def _user_targets(tmp_path, sky_dir, edit=None):
    df = pd.read_parquet(sky_dir / "without.parquet")[["objid", "ra", "dec", "e_bv_sfd", "dered_petro_r"]]
    df = df.head(20).astype({"dec": object})
    if edit:
        edit(df)
    path = tmp_path / "mine.csv"
    df.to_csv(path, index=False)
    return path


def _file_config(cfg, path):
    return {**cfg, "targets": {**cfg["targets"], "backend": "file", "file": {"path": str(path)}}}


def test_a_user_file_needs_only_position_ebv_and_r(sky, tmp_path):
    out, cfg = sky

    def bad_rows(df):
        df.loc[3, "ra"] = 400.0
        df.loc[4, "e_bv_sfd"] = np.nan
        df.loc[5, "objid"] = df.loc[6, "objid"]

    path = _user_targets(tmp_path, out, bad_rows)
    query_targets(
        _file_config(cfg, path),
        out / "catalog.parquet",
        out / "without.parquet",
        tmp_path / "t.parquet",
        tmp_path / "r.parquet",
    )
    kept, rejected = pd.read_parquet(tmp_path / "t.parquet"), pd.read_parquet(tmp_path / "r.parquet")
    assert len(kept) + len(rejected) == 20
    reasons = sorted(rejected["reject_reason"])
    assert reasons[0].startswith("duplicate objid") and reasons[1] == "missing e_bv_sfd"
    assert reasons[2] == "ra 400 outside [0, 360) deg"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda df: df.pop("e_bv_sfd"),
            r"missing required column\(s\): \['e_bv_sfd'\]",
        ),
        (
            lambda df: df.__setitem__("dec", ["abc" if k == 2 else v for k, v in enumerate(df["dec"])]),
            r"column 'dec' is not numeric: row 3 \(objid \d+\) has 'abc'",
        ),
    ],
)
def test_a_bad_target_file_stops_with_one_line_naming_it(sky, tmp_path, edit, message):
    out, cfg = sky
    path = _user_targets(tmp_path, out, edit)
    with pytest.raises(CatalogError, match=message) as err:
        query_targets(
            _file_config(cfg, path),
            out / "catalog.parquet",
            out / "without.parquet",
            tmp_path / "t.parquet",
            tmp_path / "r.parquet",
        )
    assert "\n" not in str(err.value)
    assert not (tmp_path / "t.parquet").exists()


def test_synthetic_targets_need_a_synthetic_sky(sky, tmp_path):
    out, cfg = sky
    sdss = tmp_path / "sdss.parquet"
    from photoz.tables import write_table

    write_table(
        pd.read_parquet(out / "catalog.parquet").head(3), sdss, {"backend": "skyserver", "sky": "sdss"}
    )
    with pytest.raises(ConfigError, match="targets.backend: 'synthetic' needs a synthetic sky"):
        query_targets(cfg, sdss, out / "without.parquet", tmp_path / "t.parquet", tmp_path / "r.parquet")


def test_training_rows_missing_z_or_outside_the_sky_are_rejected_not_cut(tmp_path):
    df = pd.read_csv(DATA / "p19_result.csv", comment="#")
    df.loc[0, "z"] = np.nan  # once removed silently by the redshift cut
    df.loc[1, "ra"] = 400.0
    df["dec"] = df["dec"].astype(object)
    path = tmp_path / "export.csv"
    df.to_csv(path, index=False)
    cfg = small_config()
    cfg["catalog"].update(backend="file", file={"path": str(path)})
    query_catalog(cfg, tmp_path / "c.parquet", tmp_path / "r.parquet")
    rejected = pd.read_parquet(tmp_path / "r.parquet").set_index("objid")["reject_reason"]
    assert rejected[df.loc[0, "objid"]] == "missing z"
    assert rejected[df.loc[1, "objid"]] == "ra 400 outside [0, 360) deg"
    assert len(pd.read_parquet(tmp_path / "c.parquet")) == len(df) - 2
    df.loc[7, "dec"] = "abc"
    df.to_csv(path, index=False)
    with pytest.raises(CatalogError, match=r"column 'dec' is not numeric: row 8 \(objid \d+\) has 'abc'"):
        query_catalog(cfg, tmp_path / "c2.parquet", tmp_path / "r2.parquet")
