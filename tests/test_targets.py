"""Photo-z for galaxies without spectra: members of every fold applied and averaged."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from photoz.tables import read_photoz, write_cubes


def _member(path, seed):
    import keras

    from photoz.models.member import TrainParams, save_member
    from photoz.models.networks import build_network

    params = TrainParams.from_config({"network": "p19_tiny"})
    keras.utils.set_random_seed(seed)
    model = build_network(params.network, params.n_bins, params.output)
    path.mkdir(parents=True)
    save_member(model, path, [], {"params.json": asdict(params)})
    return str(path)


def test_members_of_every_fold_are_averaged_with_flags_and_estimates(tmp_path):
    from photoz.models.predict import member_pdfs
    from photoz.targets import apply_members

    rng = np.random.default_rng(5)
    n = 40
    objid = np.arange(n) + 1237650000000000000
    cubes = rng.gamma(2.0, 0.05, size=(n, 5, 64, 64)).astype(np.float32)
    flags = np.where(np.arange(n) % 7 == 0, 1 << 0, 0)  # some lack u
    for k, rows in enumerate((slice(0, 25), slice(25, n))):
        table = pd.DataFrame({"objid": objid[rows], "flags": flags[rows]})
        write_cubes(table, cubes[rows], np.ones_like(cubes[rows]), tmp_path / f"part{k}.parquet", {})
    cubes_files = [str(tmp_path / "part0.parquet"), str(tmp_path / "part1.parquet")]
    catalog = tmp_path / "catalog.parquet"
    ebv = rng.uniform(0.01, 0.1, n)
    pd.DataFrame({"objid": objid, "ra": np.linspace(10, 11, n), "dec": 0.5, "e_bv_sfd": ebv}).to_parquet(
        catalog
    )
    members = [_member(tmp_path / f"fold{f}/member0", seed=f) for f in range(3)]

    table = apply_members(members, cubes_files, str(catalog), str(tmp_path / "out.parquet"), "baseline")
    back = read_photoz(tmp_path / "out.parquet")
    pdf = np.stack(back["pdf"]).astype(np.float64)
    np.testing.assert_allclose(pdf.sum(axis=1), 1.0, atol=1e-5)
    singles = [member_pdfs(m, pd.Series(ebv, index=objid), cubes_files)[1] for m in members]
    np.testing.assert_allclose(pdf, np.mean(singles, axis=0), atol=1e-6)
    assert np.abs(singles[0] - singles[1]).max() > 1e-3  # the members do differ
    np.testing.assert_array_equal(back["objid"], objid)
    np.testing.assert_array_equal(back["flags"], flags)
    centres = (np.arange(180) + 0.5) * 0.4 / 180
    np.testing.assert_allclose(back["z_phot"], pdf @ centres, atol=1e-5)  # P19: the PDF mean
    assert (back["z16"] <= back["z50"]).all() and (back["z50"] <= back["z84"]).all()
    np.testing.assert_allclose(back["width68"], back["z84"] - back["z16"], atol=1e-12)
    assert back.attrs["z_edges"][0] == 0.0 and len(back.attrs["z_edges"]) == 181
    assert (table["n_members"] == 3).all()


def test_a_galaxy_without_e_bv_is_named(tmp_path):
    from photoz.errors import ModelError
    from photoz.targets import apply_members

    cube = np.zeros((1, 5, 64, 64), np.float32)
    write_cubes(pd.DataFrame({"objid": [42], "flags": [0]}), cube, cube, tmp_path / "c.parquet", {})
    catalog = tmp_path / "cat.parquet"
    pd.DataFrame({"objid": [7], "ra": [1.0], "dec": [1.0], "e_bv_sfd": [0.02]}).to_parquet(catalog)
    member = _member(tmp_path / "fold0/member0", seed=0)
    with pytest.raises(ModelError, match=r"galaxy 42 of .*c\.parquet has no E\(B-V\)"):
        apply_members([member], [str(tmp_path / "c.parquet")], str(catalog), str(tmp_path / "o.parquet"), "b")


def test_step4_for_targets_removes_the_offset_the_cross_validation_shows(tmp_path):
    """Cross-validated galaxies whose out-of-fold z_phot is biased by +0.01 calibrate the
    targets, whose z_phot carries the same bias: afterwards it is gone."""
    from photoz.models.ensemble import summarise
    from photoz.tables import write_photoz
    from photoz.targets import calibrate_targets

    rng = np.random.default_rng(2)
    n_bins, z_lo, z_hi = 360, -0.2, 0.6
    centres = z_lo + (np.arange(n_bins) + 0.5) * (z_hi - z_lo) / n_bins

    def pdfs(z):
        pdf = np.zeros((len(z), n_bins))
        pdf[
            np.arange(len(z)), np.clip(((z - z_lo) / ((z_hi - z_lo) / n_bins)).astype(int), 0, n_bins - 1)
        ] = 1
        return pdf

    def sample(n, first_id):
        z = rng.uniform(0.03, 0.3, n)
        return np.arange(n) + first_id, z, rng.uniform(14.0, 17.7, n), z + 0.01 + rng.normal(0, 0.003, n)

    ids, z, r, zphot = sample(3000, 1)
    cv = summarise(ids, ids % 5, z, pdfs(zphot), z_min=z_lo, z_max=z_hi, estimator="mode")
    write_photoz(cv, tmp_path / "step3.parquet", {"method": "step3"})
    pd.DataFrame({"objid": ids, "dered_petro_r": r}).to_parquet(tmp_path / "dataset.parquet")
    t_ids, t_z, t_r, t_zphot = sample(800, 10**6)
    pdf = pdfs(t_zphot)
    mode = centres[pdf.argmax(axis=1)]
    targets = pd.DataFrame(
        {
            "objid": t_ids,
            "z_phot": mode,
            "z_phot_mean": mode,
            "z_phot_mode": mode,
            "z16": mode,
            "z50": mode,
            "z84": mode,
        }
    )
    targets["pdf"] = list(pdf.astype(np.float32))
    meta = {"method": "step3", "z_min": z_lo, "z_max": z_hi, "point_estimate": "mode"}
    write_photoz(targets, tmp_path / "targets_step3.parquet", meta)
    pd.DataFrame({"objid": t_ids, "dered_petro_r": t_r}).to_parquet(tmp_path / "targets.parquet")

    out = calibrate_targets(
        str(tmp_path / "targets_step3.parquet"),
        str(tmp_path / "step3.parquet"),
        str(tmp_path / "dataset.parquet"),
        str(tmp_path / "targets.parquet"),
        str(tmp_path / "step4.parquet"),
        z_width=0.01,
        z_max=0.4,
        seed=0,
    )
    before = np.mean(mode - t_z)
    after = np.mean(out["z_phot"] - t_z)
    assert before == pytest.approx(0.01, abs=0.002) and abs(after) < 0.002
    back = read_photoz(tmp_path / "step4.parquet")
    np.testing.assert_allclose(np.stack(back["pdf"]).sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(back["z_phot"], mode - back["calibration_offset"], atol=1e-12)
