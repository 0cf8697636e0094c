"""The evaluate and report stages on a small dataset with known photo-z errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from cube_factory import build_dataset, write_random_partitions

from photoz.config import load_config
from photoz.evaluation.captions import FIGURES, caption
from photoz.evaluation.evaluated_galaxies import in_stripe82, load_methods
from photoz.evaluation.report import report
from photoz.evaluation.stage import evaluate, read_metrics
from photoz.metrics import diagnostics as dg
from photoz.metrics.diagnostics import tv_distance
from photoz.metrics.pdf import bin_midpoints, pdf_mode
from photoz.metrics.point import bias, sigma_mad
from photoz.models.ensemble import summarise
from photoz.tables import write_photoz, write_table

Z_MAX, N_BINS = 0.4, 180
N_DEEP = 60


def _gaussian_pdfs(centres: np.ndarray, width: float) -> np.ndarray:
    mids = bin_midpoints(N_BINS, z_max=Z_MAX)
    pdf = np.exp(-0.5 * ((mids[None, :] - centres[:, None]) / width) ** 2)
    return pdf / pdf.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    catalog_path, cubes = write_random_partitions(root / "cubes", 2, 150, seed=4)
    catalog = pd.read_parquet(catalog_path)
    rng = np.random.default_rng(8)
    n = len(catalog)
    catalog.loc[: N_DEEP - 1, "ra"] = rng.uniform(310, 359, N_DEEP)  # Stripe 82
    catalog.loc[: N_DEEP - 1, "dec"] = rng.uniform(-1.0, 1.0, N_DEEP)
    catalog["petromagerr_r"] = rng.uniform(0.003, 0.05, n)
    catalog["zphot"] = catalog["z"] + rng.normal(0, 0.02, n) * (1 + catalog["z"])
    catalog.to_parquet(catalog_path)
    cfg = load_config(REPO / "config.yaml")
    build_dataset(cfg, catalog_path, cubes, root / "dataset")
    dataset = pd.read_parquet(root / "dataset" / "catalog.parquet")
    usable = dataset[dataset["in_dataset"]]
    files = {}
    for name, scatter, shift in (("baseline", 0.01, 0.002), ("knn", 0.015, 0.0)):
        z = usable["z"].to_numpy()
        centres = np.clip(z + shift + rng.normal(0, scatter, len(z)) * (1 + z), 0.005, 0.395)
        pdf = _gaussian_pdfs(centres, scatter * 1.2)
        table = summarise(usable["objid"], usable["fold"], z, pdf, z_max=Z_MAX)
        files[name] = str(root / f"{name}.parquet")
        write_photoz(table, files[name], {"method": name})
    provenance_catalog = root / "catalog.parquet"
    write_table(catalog, provenance_catalog, {"backend": "synthetic", "data_release": 12, "seed": 1})
    histories = []
    for fold in (0, 1):
        path = root / "models" / "baseline" / f"fold{fold}" / "member0" / "history.csv"
        path.parent.mkdir(parents=True)
        pd.DataFrame(
            {
                "step": [100, 200],
                "train_loss": [4.5, 3.9],
                "val_loss": [4.4, 4.0],
                "val_sigma_mad": [0.03, 0.02],
            }
        ).to_csv(path, index=False)
        histories.append(str(path))
    eval_cfg = {**cfg["evaluate"], "z_max": Z_MAX, "n_bootstrap": 20}
    out = root / "report"
    evaluate(files, str(root / "dataset" / "catalog.parquet"), str(provenance_catalog), str(out), eval_cfg)
    page = report(
        str(out / "metrics.json"),
        files,
        str(root / "dataset" / "catalog.parquet"),
        str(root / "dataset" / "manifest.tsv"),
        histories,
        cfg,
        str(out),
    )
    return root, files, out, page


def test_stripe82_footprint():
    assert in_stripe82([0.5, 310, 59, 61, 200, 330], [0, 1.2, -1.2, 0, 0, 1.3]).tolist() == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]


def test_metrics_files_hold_the_numbers_of_every_method(evaluated):
    root, files, out, _ = evaluated
    document = read_metrics(out / "metrics.json")
    assert document["provenance"]["synthetic"] is True
    methods = document["methods"]
    assert set(methods) == {"baseline", "knn", "catalog"}
    tables = load_methods(files, str(root / "dataset" / "catalog.parquet"))
    dataset = pd.read_parquet(root / "dataset" / "catalog.parquet")
    n_deep = int(in_stripe82(dataset["ra"], dataset["dec"]).sum())
    assert n_deep >= N_DEEP  # the placed ones, and any random position inside
    for name, res in methods.items():
        table = tables[name]
        full = res["subsets"].set_index("subset").loc["full"]
        assert full["n"] == len(table) == 300
        assert full["sigma_mad"] == pytest.approx(sigma_mad(table["z_phot"], table["z_spec"]))
        assert full["bias"] == pytest.approx(bias(table["z_phot"], table["z_spec"]))
        folds = res["folds"]
        assert folds["fold"].tolist() == ["0", "1", "2", "3", "4", "mean", "std"]
        assert folds.iloc[:5]["n"].sum() == 300
        assert folds.iloc[5]["sigma_mad"] == pytest.approx(folds.iloc[:5]["sigma_mad"].mean())
        subsets = res["subsets"].set_index("subset")
        assert subsets.loc["deep area", "n"] == n_deep
        assert subsets.loc["outside deep area", "n"] == 300 - n_deep
        zp, zs = table["z_phot"].to_numpy(), table["z_spec"].to_numpy()
        variances = dg.residual_variances(zp, zs, table["r"].to_numpy(), z_max=Z_MAX)
        slope = dg.residual_slope(dg.binned_residuals_zspec(zp, zs, variances, z_max=Z_MAX))
        assert (res["slope_above_0.15"], res["slope_above_0.15_error"]) == pytest.approx(slope)
        assert res["tv_distance"] == pytest.approx(dg.tv_distance(zp, zs, z_max=Z_MAX, n_boot=20)[0])
        assert len(res["residual_vs_zspec"]) == 40 and len(res["sigma_mad_vs_r"]) == 11
    # PDF subsets only where there are PDFs; the injected scatters come out in order
    base = methods["baseline"]["subsets"].set_index("subset")
    assert base.loc["widest 20% removed", "n"] == pytest.approx(240, abs=2)
    assert base.loc["widest 10% removed", "n"] == pytest.approx(270, abs=2)
    assert base.loc["full", "crps"] > 0 and 0 < base.loc["full", "pit_ks"] < 0.2
    assert "widest 20% removed" not in set(methods["catalog"]["subsets"]["subset"])
    # the PDF mode's TV distance, recomputed; none for the catalog column (no PDFs)
    pdfs = np.stack(tables["baseline"]["pdf"].to_numpy())
    mode_tv = tv_distance(pdf_mode(pdfs, z_max=Z_MAX), tables["baseline"]["z_spec"], z_max=Z_MAX, n_boot=20)
    assert methods["baseline"]["tv_distance_pdf_mode"] == pytest.approx(mode_tv[0])
    assert methods["catalog"]["tv_distance_pdf_mode"] is None or np.isnan(
        methods["catalog"]["tv_distance_pdf_mode"]
    )
    assert np.isnan(methods["catalog"]["subsets"].iloc[0]["crps"])
    smad = {m: methods[m]["subsets"].iloc[0]["sigma_mad"] for m in methods}
    assert smad["baseline"] < smad["knn"] < smad["catalog"]
    assert methods["baseline"]["subsets"].iloc[0]["bias"] == pytest.approx(0.002 / 1.2, abs=0.0015)
    # machine-readable copies
    csv = pd.read_csv(out / "metrics.csv")
    assert set(csv["method"]) == set(methods) and set(csv["table"]) == {"folds", "subsets", "estimators"}
    diag = pd.read_csv(out / "diagnostics.csv")
    assert {"residual_vs_zspec", "sigma_mad_vs_snr", "tomographic"} <= set(diag["diagnostic"])
    assert "NaN" not in (out / "metrics.json").read_text()  # strict JSON: NaN written as null
    json.loads((out / "metrics.json").read_text())


def test_both_point_estimates_with_both_conventions_and_errors(evaluated):
    """Like with like: every method with PDFs by its PDF mean and mode, P19's and RAIL's
    conventions computed here from their definitions, bootstrap errors of the right size."""
    from photoz.metrics.pdf import pdf_mean

    root, files, out, page = evaluated
    methods = read_metrics(out / "metrics.json")["methods"]
    edges = np.array(load_config(REPO / "config.yaml")["evaluate"]["tomographic_edges"])
    tables = load_methods(files, str(root / "dataset" / "catalog.parquet"))
    for name in ("baseline", "knn"):
        rows = methods[name]["estimators"].set_index("estimator")
        assert list(rows.index) == ["mean", "mode"]
        pdfs = np.stack(tables[name]["pdf"].to_numpy())
        zs = tables[name]["z_spec"].to_numpy()
        for estimator, zp in (("mean", pdf_mean(pdfs, z_max=Z_MAX)), ("mode", pdf_mode(pdfs, z_max=Z_MAX))):
            dz = (zp - zs) / (1 + zs)
            q75, q25 = np.percentile(dz, [75, 25])
            s_iqr = (q75 - q25) / 1.349
            row = rows.loc[estimator]
            assert row["bias"] == pytest.approx(dz.mean(), abs=1e-12)
            assert row["bias_median"] == pytest.approx(np.median(dz), abs=1e-12)
            assert row["sigma_mad"] == pytest.approx(1.4826 * np.median(np.abs(dz - np.median(dz))))
            assert row["sigma_iqr"] == pytest.approx(s_iqr)
            assert row["outlier_fraction"] == pytest.approx(np.mean(np.abs(dz) > 0.05))
            assert row["outlier_fraction_rail"] == pytest.approx(np.mean(np.abs(dz) > max(0.06, 3 * s_iqr)))
            # bootstrap error of a mean ~ std / sqrt(n), within the 20 resamples' noise
            assert row["bias_error"] == pytest.approx(dz.std() / np.sqrt(len(dz)), rel=0.5)
            assert np.isfinite(row["slope_above_0.15"]) and row["slope_above_0.15_error"] > 0
            tv = dg.tv_distance(zp, zs, z_max=Z_MAX, n_boot=20)
            assert (row["tv_distance"], row["tv_distance_error"]) == pytest.approx(tv)
            offsets = dg.mean_redshift_offsets(zp, zs, edges)
            counted = offsets[offsets["n"] >= 50]
            assert row["tomographic_max_offset"] == pytest.approx(counted["delta_mean_z"].abs().max())
            assert row["tomographic_bins_failing"] == (counted["delta_mean_z"].abs() >= 0.002).sum()
        assert rows.loc["mean", "is_z_phot"] and not rows.loc["mode", "is_z_phot"]  # both carry the mean
        # the mode sits on a bin centre and differs from the mean
        assert rows.loc["mode", "bias"] != pytest.approx(rows.loc["mean", "bias"], abs=1e-6)
    catalog_rows = methods["catalog"]["estimators"]
    assert list(catalog_rows["estimator"]) == ["z_phot"]
    assert "Like with like" in page.read_text() and "sigma_iqr" in page.read_text()


def test_html_report_embeds_every_figure_and_table(evaluated):
    _, _, out, page = evaluated
    text = page.read_text()
    assert 'id="synthetic-banner"' in text and "not SDSS results" in text
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', text)
    assert [name for name, _ in images] == list(FIGURES)
    assert all(len(data) > 5000 for _, data in images)
    for name in FIGURES:
        png = (out / "figures" / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    cells = re.findall(r"<td>([^<]*)</td>", text)
    numbers = [c for c in cells if re.fullmatch(r"[-+]?\d+(\.\d+)?", c)]
    assert len(numbers) > 200
    assert "Configuration of this run" in text and "n_folds" in text


def test_report_rule_lists_every_figure_with_its_caption():
    """The rule's report() outputs come from photoz.evaluation.captions.FIGURES (no
    copy in common.smk) and every figure has its caption file, which the page shows."""
    text = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert "REPORT_FIGURES = list(photoz_captions.FIGURES)" in text
    assert not re.search(r"REPORT_FIGURES = \[", text), "a hand-written figure list in common.smk"
    for name in FIGURES:
        assert (REPO / "workflow" / "report" / f"{name}.rst").read_text().strip() == caption(name) != ""
