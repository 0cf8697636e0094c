"""Metrics of one method's table (:mod:`.samples`): per fold, per subset, diagnostics.

Subsets follow P19 Table 2: the full test sample, the widest 10% and 20% of PDFs
removed (68% width), the deep (Stripe 82) area alone and with its widest 20% removed,
and the rest of the sky.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import diagnostics as dg
from ..metrics.pdf import pdf_mean, pdf_mode
from ..metrics.point import CONVENTIONS, bias, outlier_fraction, sigma_mad

SUMMARY_COLUMNS = ["n", "bias", "sigma_mad", "outlier_fraction", "crps", "pit_ks", "width68"]


def has_pdfs(table: pd.DataFrame) -> bool:
    """Whether the method gives PDFs (the catalog column does not)."""
    return "pdf" in table


def sample_metrics(table: pd.DataFrame) -> dict[str, float]:
    """n, bias, sigma_MAD, outlier fraction and (with PDFs) mean CRPS, PIT KS statistic,
    median 68% width of the galaxies of ``table``."""
    zp, zs = table["z_phot"].to_numpy(), table["z_spec"].to_numpy()
    out = {
        "n": int(len(table)),
        "bias": bias(zp, zs),
        "sigma_mad": sigma_mad(zp, zs),
        "outlier_fraction": outlier_fraction(zp, zs),
    }
    pdfs = has_pdfs(table) and len(table)
    out["crps"] = float(table["crps"].mean()) if pdfs else float("nan")
    out["pit_ks"] = dg.pit_ks(table["pit"].to_numpy()) if pdfs else float("nan")
    out["width68"] = float(table["width68"].median()) if pdfs else float("nan")
    return out


def point_estimates(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every point estimate of a method: the PDF mean (P19's) and mode (L22's) for
    methods with PDFs, else the table's z_phot."""
    if not has_pdfs(table):
        return {"z_phot": table["z_phot"].to_numpy()}
    pdf = np.stack(table["pdf"].to_numpy())
    z_lo, z_hi = table.attrs["pdf_range"]
    return {"mean": pdf_mean(pdf, z_min=z_lo, z_max=z_hi), "mode": pdf_mode(pdf, z_min=z_lo, z_max=z_hi)}


def estimator_table(table: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """Like with like: one row per point estimate (:func:`point_estimates`) with both
    metric conventions (P19 and RAIL, :data:`photoz.metrics.point.CONVENTIONS`), the
    slope of the binned residual above z_spec = 0.15 and the TV distance, each with its
    bootstrap error (the same ``n_bootstrap`` resamples of the galaxies for every
    estimate and metric), and the largest tomographic mean-redshift offset (bins of at
    least :data:`photoz.metrics.diagnostics.TOMOGRAPHIC_MIN_GALAXIES`) with the number of
    bins beyond 0.002(1+z). ``is_z_phot`` marks the estimate the method's table carries as
    z_phot; one that is neither the PDF mean nor mode (a calibrated one) gets its own row."""
    zs = table["z_spec"].to_numpy()
    n, z_max = len(zs), cfg["z_max"]
    edges = np.array(cfg["tomographic_edges"], np.float64)
    rng = np.random.default_rng(cfg["seed"])
    resamples = [rng.integers(0, n, n) for _ in range(cfg["n_bootstrap"])] if n else []
    metrics = {name: f for convention in CONVENTIONS.values() for name, f in convention.items()}
    z_phot = table["z_phot"].to_numpy(np.float64)
    estimates = point_estimates(table)
    carried = {name: bool(np.allclose(zp, z_phot, rtol=0, atol=1e-6)) for name, zp in estimates.items()}
    if not any(carried.values()):  # e.g. step 4's calibrated mode: its own row
        estimates["z_phot"], carried["z_phot"] = z_phot, True
    rows = []
    for estimator, zp in estimates.items():
        row: dict = {"estimator": estimator, "is_z_phot": carried[estimator], "n": n}
        for name, f in metrics.items():
            row[name] = f(zp, zs)
            row[f"{name}_error"] = (
                float(np.std([f(zp[k], zs[k]) for k in resamples], ddof=1)) if n else np.nan
            )
        variances = dg.residual_variances(zp, zs, table["r"].to_numpy(), z_max=z_max)
        row["slope_above_0.15"], row["slope_above_0.15_error"] = dg.residual_slope(
            dg.binned_residuals_zspec(zp, zs, variances, z_max=z_max)
        )
        row["tv_distance"], row["tv_distance_error"] = dg.tv_distance(
            zp, zs, z_max=z_max, n_boot=cfg["n_bootstrap"], seed=cfg["seed"]
        )
        row["tomographic_max_offset"], row["tomographic_bins_failing"] = dg.tomographic_summary(
            dg.mean_redshift_offsets(zp, zs, edges)
        )
        rows.append(row)
    return pd.DataFrame(rows)


def subsets(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean masks of the P19 Table 2 rows this method supports."""
    masks = {"full": np.ones(len(table), bool)}
    deep = table["deep"].to_numpy(bool)
    if has_pdfs(table):
        width = table["width68"].to_numpy()
        for cut in (10, 20):
            masks[f"widest {cut}% removed"] = width <= np.quantile(width, 1 - cut / 100)
    masks["deep area"] = deep
    if has_pdfs(table) and deep.any():
        width = table["width68"].to_numpy()
        masks["deep area, widest 20% removed"] = deep & (width <= np.quantile(width[deep], 0.8))
    masks["outside deep area"] = ~deep
    return masks


def fold_table(table: pd.DataFrame) -> pd.DataFrame:
    """P19 Table 1: metrics per fold, then their mean and standard deviation."""
    rows = [{"fold": str(fold), **sample_metrics(part)} for fold, part in table.groupby("fold")]
    per_fold = pd.DataFrame(rows)
    numeric = per_fold[SUMMARY_COLUMNS]
    mean = {"fold": "mean", **numeric.mean().to_dict()}
    std = {"fold": "std", **numeric.std(ddof=1).to_dict()}
    return pd.concat([per_fold, pd.DataFrame([mean, std])], ignore_index=True)


def subset_table(table: pd.DataFrame) -> pd.DataFrame:
    """P19 Table 2 layout: metrics of each subset of :func:`subsets`."""
    rows = [{"subset": name, **sample_metrics(table[mask])} for name, mask in subsets(table).items()]
    return pd.DataFrame(rows)


def diagnostics(table: pd.DataFrame, cfg: dict) -> dict:
    """Bias diagnostics: binned residuals, slope above 0.15, TV distance and its no-
    collapse reference, the TV distance of the PDF mode (methods with PDFs), sigma_MAD
    vs r and SNR, tomographic mean-redshift offsets.

    ``cfg`` is the ``evaluate`` config section (n_bootstrap, seed, snr_edges,
    tomographic_edges) plus ``z_max``.
    """
    zp, zs = table["z_phot"].to_numpy(), table["z_spec"].to_numpy()
    z_max, n_boot, seed = cfg["z_max"], cfg["n_bootstrap"], cfg["seed"]
    variances = dg.residual_variances(zp, zs, table["r"].to_numpy(), z_max=z_max)
    vs_zspec = dg.binned_residuals_zspec(zp, zs, variances, z_max=z_max)
    vs_zphot = dg.binned_residuals_zphot(zp, zs, z_max=z_max)
    slope, slope_err = dg.residual_slope(vs_zspec)
    tv, tv_err = dg.tv_distance(zp, zs, z_max=z_max, n_boot=n_boot, seed=seed)
    tv_ref, tv_ref_err = dg.tv_reference(zp, zs, z_max=z_max, n_boot=n_boot, seed=seed)
    # TV of the PDF mode, L22's estimator, for every method with PDFs: the baseline's
    # z_phot is P19's PDF mean, which collapses less, so compare the steps with this
    tv_mode, tv_mode_err, mass_out = np.nan, np.nan, np.nan
    if has_pdfs(table):
        z_lo, z_hi = table.attrs.get("pdf_range", (0.0, z_max))
        pdf = np.stack(table["pdf"].to_numpy())
        z_mode = pdf_mode(pdf, z_min=z_lo, z_max=z_hi)
        tv_mode, tv_mode_err = dg.tv_distance(z_mode, zs, z_max=z_max, n_boot=n_boot, seed=seed)
        mass_out = dg.pdf_mass_outside(pdf, z_lo, z_hi, z_max)
    snr_edges = np.array(cfg["snr_edges"], dtype=np.float64)
    return {
        "slope_above_0.15": slope,
        "slope_above_0.15_error": slope_err,
        "tv_distance": tv,
        "tv_distance_error": tv_err,
        "tv_reference": tv_ref,
        "tv_reference_error": tv_ref_err,
        "tv_distance_pdf_mode": tv_mode,
        "tv_distance_pdf_mode_error": tv_mode_err,
        # what lies beyond [0, z_max] (step 3's extended range): counted, not dropped
        "zphot_outside_range": float(np.mean((zp < 0.0) | (zp > z_max))) if len(zp) else np.nan,
        "pdf_mass_outside_range": mass_out,
        "residual_vs_zspec": vs_zspec,
        "residual_vs_zphot": vs_zphot,
        "sigma_mad_vs_r": dg.sigma_mad_in_bins(table["r"], dg.R_MAG_EDGES, zp, zs, n_boot, seed),
        "sigma_mad_vs_snr": dg.sigma_mad_in_bins(table["snr_r"], snr_edges, zp, zs, n_boot, seed),
        "tomographic": dg.mean_redshift_offsets(zp, zs, np.array(cfg["tomographic_edges"], np.float64)),
    }
