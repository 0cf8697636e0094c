"""Photo-z for galaxies without spectra: every trained member of a method (all folds)
applied to the galaxies' cubes and averaged.

A target's PDF is the mean of the members' normalised PDFs (5 folds x 6 members = 30
for the default protocol: each fold's model is as good as any other for a galaxy none
of them trained on). Point estimates: the PDF mean and mode, ``z_phot`` being the
method's estimator (the mean for P19, the mode for L22's multi-channel methods, as in
the cross-validation); the 16, 50 and 84% quantiles and width68 = z84 - z16. ``flags``
are the cube's (bit b: band b had no valid pixel; bit 8 + b: a frame of band b failed to
fetch), so a galaxy lacking a band is marked, not dropped.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from .catalog.sky import catalog_sky
from .errors import ModelError
from .metrics.pdf import pdf_mean, pdf_mode, pdf_quantile
from .tables import read_cubes, read_table, read_table_metadata, write_photoz

log = logging.getLogger(__name__)


def apply_members(
    member_dirs: list[str],
    cube_files: list[str],
    catalog: str,
    out: str,
    method: str,
    threads: int = 0,
    training_catalog: str | None = None,
) -> pd.DataFrame:
    """Average the PDFs of ``member_dirs`` over the galaxies of ``cube_files`` (position
    and E(B-V) from ``catalog``) and write the photo-z table ``out`` (``threads``: CPU
    threads of TensorFlow, 0 for all). The skies of the targets and of the models'
    ``training_catalog`` are recorded in the table; models trained on the synthetic
    survey applied to SDSS galaxies are said so in the log."""
    from .models.member import configure_tensorflow, load_member, pdf_range
    from .models.predict import cube_file_ebv, cube_pdfs

    if not member_dirs:
        raise ModelError(f"{method}: no trained member given")
    configure_tensorflow(threads, deterministic=True)
    cat = pd.read_parquet(catalog, columns=["objid", "ra", "dec", "e_bv_sfd"]).set_index("objid")
    members = [(str(m), *load_member(m)) for m in sorted(member_dirs)]  # each model loaded once
    grid = pdf_range(members[0][2])
    for name, _, params in members[1:]:
        if pdf_range(params) != grid:
            raise ModelError(
                f"{name}: its PDF grid {pdf_range(params)} differs from {members[0][0]}'s {grid}"
            )
    ids, flags, pdfs, t0 = [], [], [], time.perf_counter()
    for path in cube_files:  # each cube file read once, every member applied to it
        table, cubes, _ = read_cubes(path)
        ebv = cube_file_ebv(path, table, cat["e_bv_sfd"])
        pdfs.append(sum(cube_pdfs(model, params, cubes, ebv) for _, model, params in members) / len(members))
        ids.append(table["objid"].to_numpy(np.int64))
        flags.append(table["flags"].to_numpy())
    objids, pdf = np.concatenate(ids), np.concatenate(pdfs)
    elapsed = time.perf_counter() - t0
    log.info(
        "%s: %d members x %d galaxies in %.1f s (%.0f galaxy-members/s)",
        method,
        len(members),
        len(objids),
        elapsed,
        len(members) * len(objids) / max(elapsed, 1e-9),
    )
    z_grid = {"z_min": grid["z_min"], "z_max": grid["z_max"]}
    quantiles = {q: pdf_quantile(pdf, q / 100, **z_grid) for q in (16, 50, 84)}
    mean, mode = pdf_mean(pdf, **z_grid), pdf_mode(pdf, **z_grid)
    table = pd.DataFrame(
        {
            "objid": objids,
            "ra": cat.loc[objids, "ra"].to_numpy(),
            "dec": cat.loc[objids, "dec"].to_numpy(),
            "z_phot": mean if grid["point_estimate"] == "mean" else mode,
            "z_phot_mean": mean,
            "z_phot_mode": mode,
            "z16": quantiles[16],
            "z50": quantiles[50],
            "z84": quantiles[84],
            "width68": quantiles[84] - quantiles[16],
            "flags": np.concatenate(flags),
            "n_members": np.full(len(objids), len(member_dirs), dtype=np.int16),
        }
    )
    table["pdf"] = list(pdf.astype(np.float32))
    meta = {
        "method": method,
        "members": sorted(map(str, member_dirs)),
        **grid,
        **_skies(catalog, training_catalog),
    }
    if meta.get("training_sky") == "synthetic" and meta["target_sky"] != "synthetic":
        log.warning(
            "%s: the models were trained on the SYNTHETIC survey, not on SDSS spectra; these are "
            "photo-z of real galaxies from a model trained on simulated ones (a test of the "
            "path, not SDSS science)",
            method,
        )
    write_photoz(table, out, meta)
    return table


def _skies(catalog: str, training_catalog: str | None) -> dict:
    """Where the targets' images come from and where the models learnt."""

    def sky(path: str) -> str:
        meta = read_table_metadata(path)
        return catalog_sky(meta) if meta else "unknown"  # a plain table of the user's

    if training_catalog is None:
        return {"target_sky": sky(catalog)}
    return {"target_sky": sky(catalog), "training_sky": sky(training_catalog)}


def calibrate_targets(
    target_photoz: str,
    cv_photoz: str,
    dataset_catalog: str,
    target_catalog: str,
    out: str,
    z_width: float,
    z_max: float,
    seed: int,
    method: str = "step4",
) -> pd.DataFrame:
    """L22 step 4 for targets (``method``: step 4, or a control such as
    baseline_calibrated): the targets' z_phot (of step 3's members) minus the mean
    z_phot - z_spec, per (r, z_phot) cell, of every cross-validated galaxy with its
    out-of-fold step 3 photo-z (all folds together: none of them is a target); the
    PDFs are moved with their z_phot, as in the cross-validation."""
    from .lin2022.calibration import calibration_offsets, shift_pdfs
    from .tables import read_photoz

    targets, cv = read_photoz(target_photoz), read_photoz(cv_photoz)
    r_cv = pd.read_parquet(dataset_catalog, columns=["objid", "dered_petro_r"]).set_index("objid")
    r_targets = pd.read_parquet(target_catalog, columns=["objid", "dered_petro_r"]).set_index("objid")
    for table, r, path in ((cv, r_cv, dataset_catalog), (targets, r_targets, target_catalog)):
        absent = ~table["objid"].isin(r.index)
        if absent.any():
            raise ModelError(f"galaxy {table['objid'][absent].iloc[0]} has no dered_petro_r in {path}")
    z_edges = np.linspace(0.0, z_max, int(round(z_max / z_width)) + 1)
    offsets = calibration_offsets(
        targets["z_phot"].to_numpy(np.float64),
        r_targets.loc[targets["objid"], "dered_petro_r"].to_numpy(np.float64),
        cv["z_spec"].to_numpy(np.float64),
        cv["z_phot"].to_numpy(np.float64),
        r_cv.loc[cv["objid"], "dered_petro_r"].to_numpy(np.float64),
        seed,
        z_edges,
    )
    z_min, z_hi = targets.attrs["pdf_range"]
    calibrated = targets.copy()
    calibrated["pdf"] = list(shift_pdfs(np.stack(targets["pdf"]), -offsets, z_min, z_hi).astype(np.float32))
    for column in ("z_phot", "z_phot_mean", "z_phot_mode", "z16", "z50", "z84"):
        calibrated[column] = targets[column].to_numpy() - offsets
    calibrated["calibration_offset"] = offsets
    meta = {"calibrated": target_photoz, "calibration_set": cv_photoz, "z_width": z_width, "method": method}
    write_photoz(calibrated, out, meta)
    return calibrated


MISSING_COLUMNS = ["objid", "stage", "band", "reason"]


def list_missing_targets(
    rejected: str, catalog: str, cube_files: list[str], missing_files: list[str], out: str
) -> pd.DataFrame:
    """The targets without full photo-z, one row per (galaxy, reason): rejected by the
    query (no photo-z; ``band`` empty), or a band without data in the cube (photo-z kept,
    flagged). :class:`ModelError` if a catalog galaxy is in no cube file: nothing may
    vanish between the stages."""
    from .io import atomic_path

    rejected_rows = pd.read_parquet(rejected, columns=["objid", "reject_reason"])
    rows = [
        pd.DataFrame(
            {
                "objid": rejected_rows["objid"].to_numpy(np.int64),
                "stage": "query_targets",
                "band": "",
                "reason": rejected_rows["reject_reason"],
            }
        )
    ]
    # the ids only: a cube file's pixels are most of its bytes
    in_cubes = np.concatenate(
        [read_table(p, "cubes", ["objid"]).frame["objid"].to_numpy(np.int64) for p in cube_files]
    )
    lost = np.setdiff1d(pd.read_parquet(catalog, columns=["objid"])["objid"].to_numpy(np.int64), in_cubes)
    if lost.size:
        raise ModelError(f"galaxy {lost[0]} of {catalog} is in none of the cube files ({lost.size} such)")
    for path in missing_files:
        table = pd.read_csv(path, sep="\t", dtype={"band": str, "reason": str})
        if len(table):
            rows.append(table.assign(stage="resample_cubes")[MISSING_COLUMNS])
    table = pd.concat(rows, ignore_index=True)[MISSING_COLUMNS].sort_values(["objid", "band"])
    with atomic_path(out) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    return table
