"""Stage 9, ``ensemble``: average the members' PDFs per fold; summarise every galaxy.

P19 averages the N = 6 members' PDFs (and point estimates); z_phot is the mean of the
averaged PDF at bin midpoints (the mode for L22's multi-channel networks, as recorded in
the prediction files). Output per galaxy: objid, fold, z_spec, z_phot, pdf,
68% width, PIT, CRPS, and each member's own z_phot (to compare members and ensemble).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..metrics.pdf import crps, pdf_width68, pit, point_estimate
from ..tables import OBJID_DTYPE, read_pdf_range, read_pdfs, read_point_estimate, write_photoz

_FOLD_MEMBER = re.compile(r"fold(\d+)/member(\d+)\.parquet$")


def summarise(
    objids,
    fold,
    z_spec,
    pdf,
    *,
    z_min: float = 0.0,
    z_max: float,
    member_zphot=None,
    estimator: str = "mean",
) -> pd.DataFrame:
    """The per-galaxy photo-z table of one method (pdf rows sum to 1, on [z_min, z_max);
    z_phot the PDF's ``estimator``, see :func:`photoz.metrics.pdf.point_estimate`)."""
    table = pd.DataFrame(
        {
            "objid": np.asarray(objids, dtype=OBJID_DTYPE),
            "fold": np.asarray(fold, dtype=np.int8),
            "z_spec": np.asarray(z_spec, dtype=np.float64),
            "z_phot": point_estimate(pdf, estimator, z_min=z_min, z_max=z_max),
            "width68": pdf_width68(pdf, z_min=z_min, z_max=z_max),
            "pit": pit(pdf, z_spec, z_min=z_min, z_max=z_max),
            "crps": crps(pdf, z_spec, z_min=z_min, z_max=z_max),
        }
    )
    table["pdf"] = list(np.asarray(pdf, dtype=np.float32))
    if member_zphot is not None:
        table["z_phot_members"] = list(np.asarray(member_zphot, dtype=np.float32))
    table.attrs.update(pdf_range=(float(z_min), float(z_max)), point_estimate=estimator)
    return table


def ensemble(prediction_files: list[str], dataset_catalog: str, out_path: str) -> pd.DataFrame:
    """Average each fold's member PDFs and write ``results/photoz/{method}.parquet``."""
    ranges = {read_pdf_range(path) for path in prediction_files}
    if len(ranges) != 1:
        raise ValueError(f"the prediction files mix PDF ranges {sorted(ranges)}")
    z_min, z_max = ranges.pop()
    estimators = {read_point_estimate(path) for path in prediction_files}
    if len(estimators) != 1:
        raise ValueError(f"the prediction files mix point estimates {sorted(estimators)}")
    estimator = estimators.pop()
    catalog = pd.read_parquet(dataset_catalog, columns=["objid", "z", "fold", "in_dataset"])
    by_fold: dict[int, dict[int, str]] = {}
    for path in prediction_files:
        match = _FOLD_MEMBER.search(str(path).replace("\\", "/"))
        if not match:
            raise ValueError(f"prediction file {path} is not named .../fold<k>/member<m>.parquet")
        by_fold.setdefault(int(match[1]), {})[int(match[2])] = str(path)
    parts = []
    for fold, members in sorted(by_fold.items()):
        expected = catalog.loc[(catalog["fold"] == fold) & catalog["in_dataset"], "objid"].astype(np.int64)
        pdfs, ids = [], None
        for _, path in sorted(members.items()):
            objids, pdf = read_pdfs(path)
            if ids is None:
                ids = objids
                if set(ids) != set(expected):
                    raise ValueError(f"{path}: galaxies differ from fold {fold} of {dataset_catalog}")
            elif not np.array_equal(objids, ids):
                raise ValueError(f"{path}: galaxies or order differ from the fold's other members")
            pdfs.append(pdf.astype(np.float64) / pdf.sum(axis=1, keepdims=True))
        stack = np.stack(pdfs)
        z_spec = catalog.set_index(catalog["objid"].astype(np.int64)).loc[ids, "z"].to_numpy()
        members_z = np.stack([point_estimate(p, estimator, z_min=z_min, z_max=z_max) for p in stack], axis=1)
        folds = np.full(len(ids), fold)
        parts.append(
            summarise(
                ids,
                folds,
                z_spec,
                stack.mean(axis=0),
                z_min=z_min,
                z_max=z_max,
                member_zphot=members_z,
                estimator=estimator,
            )
        )
    table = pd.concat(parts, ignore_index=True)
    members = {k: len(v) for k, v in by_fold.items()}
    meta = {"members_per_fold": members, "z_min": z_min, "z_max": z_max, "point_estimate": estimator}
    write_photoz(table, out_path, meta)
    return table
