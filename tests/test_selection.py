"""The P19 cuts, the rejected table and the file backend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small_config
from test_skyserver import DATA

from photoz.catalog.filebackend import read_user_catalog
from photoz.catalog.query import query_catalog
from photoz.catalog.selection import (
    CatalogError,
    SelectionParams,
    apply_selection,
    reject_incomplete,
)
from photoz.tables import read_table_metadata


def _recorded() -> pd.DataFrame:
    return pd.read_csv(DATA / "p19_result.csv", comment="#")


def test_each_cut_removes_exactly_its_rows():
    df = _recorded().head(10).copy()
    df.loc[0, "z"] = 0.45  # z_range
    df.loc[1, "zwarning"] = 4
    df.loc[2, "class"] = "STAR"
    df.loc[3, "primtarget"] = 32  # LRG, not MGS
    df.loc[4, "clean"] = 0
    df.loc[5, "insidemask"] = 1
    df.loc[6, "dered_petro_r"] = 17.81
    df.loc[7, "primtarget"] = 64 | 32  # MGS and LRG: kept
    selected, counts = apply_selection(df, SelectionParams.from_config(), "test")
    assert [c["after"] for c in counts] == [9, 8, 7, 6, 5, 4, 3]
    assert list(selected.index) == [7, 8, 9]


def test_selection_names_a_missing_cut_column():
    with pytest.raises(CatalogError, match=r"mytable: missing column.*'zwarning'"):
        apply_selection(_recorded().drop(columns="zwarning"), SelectionParams.from_config(), "mytable")


def test_incomplete_and_duplicate_rows_are_rejected_with_reasons():
    df = _recorded().head(6).copy()
    df.loc[0, "petromag_g"] = np.nan
    df.loc[1, "e_bv_sfd"] = -9999.0
    df.loc[2, "sky_u"] = -9999.0  # optional: kept, as NaN
    df.loc[3, "objid"] = df.loc[4, "objid"]
    df.loc[3, "scienceprimary"] = 0
    kept, rejected = reject_incomplete(df, "test")
    assert len(kept) + len(rejected) == 6
    reasons = dict(zip(rejected.index, rejected["reject_reason"], strict=True))
    assert reasons[0] == "missing petromag_g"
    assert reasons[1] == "missing e_bv_sfd"
    assert reasons[3].startswith(f"duplicate objid {df.loc[4, 'objid']}")
    assert 4 in kept.index and 2 in kept.index and np.isnan(kept.loc[2, "sky_u"])


def test_file_backend_reads_a_casjobs_export_with_sdss_names(tmp_path):
    df = _recorded()
    export = df.rename(
        columns={
            "objid": "objID",
            "specobjid": "specObjID",
            "petromag_r": "petroMag_r",
            "e_bv_sfd": "E_BV_SFD",
        }
    ).drop(columns=[f"dered_petro_{b}" for b in "ugriz"])
    export.loc[5, "petroMag_r"] = -9999.0
    path = tmp_path / "my_export.csv"
    export.to_csv(path, index=False)
    cfg = small_config()
    cfg["catalog"].update(backend="file", file={"path": str(path)})
    meta = query_catalog(cfg, tmp_path / "cat.parquet", tmp_path / "rej.parquet")
    cat = pd.read_parquet(tmp_path / "cat.parquet")
    rej = pd.read_parquet(tmp_path / "rej.parquet")
    # Like the SQL (-9999 - extinction <= 17.8), row 5 passes the cuts; it is then
    # rejected with a reason instead of entering the catalog.
    assert len(cat) == len(df) - 1
    assert rej["objid"].tolist() == [df.loc[5, "objid"]]
    assert rej["reject_reason"].tolist() == ["missing petromag_r"]
    assert meta["cut_counts"][-1] == {"cut": "dered_r_limit", "before": 30, "after": 30}
    np.testing.assert_allclose(
        np.sort(cat["dered_petro_r"]), np.sort(np.delete(df["dered_petro_r"].to_numpy(), 5)), atol=2e-6
    )
    assert read_table_metadata(tmp_path / "cat.parquet")["file"] == str(path)


def test_file_backend_rejects_rows_missing_required_values(tmp_path):
    df = _recorded()
    df.loc[3, "psffwhm_r"] = np.nan
    df.loc[4, "zerr"] = np.nan
    path = tmp_path / "export.parquet"
    df.to_parquet(path)
    cfg = small_config()
    cfg["catalog"].update(backend="file", file={"path": str(path)})
    query_catalog(cfg, tmp_path / "cat.parquet", tmp_path / "rej.parquet")
    rej = pd.read_parquet(tmp_path / "rej.parquet")
    assert rej["objid"].tolist() == [df.loc[4, "objid"]]
    assert rej["reject_reason"].tolist() == ["missing zerr"]
    assert len(pd.read_parquet(tmp_path / "cat.parquet")) == 29


def test_file_backend_errors_name_the_file(tmp_path):
    with pytest.raises(CatalogError, match="nope.csv does not exist"):
        read_user_catalog(tmp_path / "nope.csv")
    bad = tmp_path / "cat.txt"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(CatalogError, match="cat.txt: unknown catalog format"):
        read_user_catalog(bad)
    few = tmp_path / "few.csv"
    _recorded().drop(columns=["ra"]).to_csv(few, index=False)
    cfg = small_config()
    cfg["catalog"].update(backend="file", file={"path": str(few)})
    with pytest.raises(CatalogError, match=r"missing required column\(s\): \['ra'\]"):
        query_catalog(cfg, tmp_path / "c.parquet", tmp_path / "r.parquet")
