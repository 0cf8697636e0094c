"""Stage 3, ``index_frames``: every frame that can contribute to each galaxy's cutout.

For each galaxy and band, all frames whose pixels reach its 64x64 cutout (plus the
Lanczos-3 apron), across all runs and epochs, not only the galaxy's own
run/camcol/field. Synthetic backend: from the simulated survey's frame geometry.
Real backend: a box query on the CAS ``Field`` table (chunked by sky area), refined by
the cutout's box; the resampler later drops a frame that brings no valid pixel.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..constants import BANDS, CUTOUT_SIZE, PIXEL_SCALE_ARCSEC
from ..synthetic.footprint import SurveyGeometry, radec_to_gc
from ..synthetic.survey import geometry_from_description
from .geometry import LANCZOS_HALF_WIDTH, cutout_corners, frame_overlaps
from .sas import SAS_SUFFIX, SYNTHETIC_SUFFIX, frame_relpath, frame_url

log = logging.getLogger(__name__)

INDEX_COLUMNS = ["objid", "band", "run", "rerun", "camcol", "field", "path", "url"]
#: Half-diagonal of a cutout with its apron, degrees.
CUTOUT_RADIUS_DEG = np.sqrt(2) * (CUTOUT_SIZE / 2 + LANCZOS_HALF_WIDTH) * PIXEL_SCALE_ARCSEC / 3600
#: Slack for the few-arcsecond offsets between the bands' frames.
BAND_SLACK_DEG = 10.0 / 3600.0


def _rows(
    objids, band, run, rerun, camcol, field_, release, cache_root, base_url, suffix=SAS_SUFFIX
) -> list[dict]:
    rel = frame_relpath(run, rerun, camcol, field_, band, release, suffix)
    path = str(Path(cache_root) / rel)
    url = frame_url(rel, base_url)
    return [
        {
            "objid": o,
            "band": band,
            "run": run,
            "rerun": rerun,
            "camcol": camcol,
            "field": field_,
            "path": path,
            "url": url,
        }
        for o in objids
    ]


def index_synthetic(
    galaxies: pd.DataFrame, geometry: SurveyGeometry, release: int, cache_root: str, base_url: str
) -> pd.DataFrame:
    """Index of a partition from the synthetic survey's frame geometry (exact test).

    A galaxy the survey placed (``sim_region``) is looked up in its region's runs; any
    other position (a user's own targets on the synthetic sky) in every region's."""
    corner_ra, corner_dec = cutout_corners(galaxies["ra"].to_numpy(), galaxies["dec"].to_numpy())
    regions = {r.name: r for r in geometry.regions}
    names = galaxies["sim_region"] if "sim_region" in galaxies else pd.Series(None, index=galaxies.index)
    candidates: dict[tuple[int, int, int], set[int]] = defaultdict(set)
    margin = CUTOUT_RADIUS_DEG + BAND_SLACK_DEG
    for i, (ra, dec, name) in enumerate(zip(galaxies["ra"], galaxies["dec"], names, strict=True)):
        for region in [regions[name]] if isinstance(name, str) else geometry.regions:
            mu, nu = radec_to_gc(np.array([ra]), np.array([dec]), region.incl)
            for run, camcol, fld in geometry.candidate_frames(region, float(mu[0]), float(nu[0]), margin):
                candidates[(run.run, camcol, fld)].add(i)
    objids = galaxies["objid"].to_numpy()
    rows: list[dict] = []
    for (run_id, camcol, fld), members in sorted(candidates.items()):
        run = geometry.run_by_number(run_id)
        members = np.asarray(sorted(members))
        for band in BANDS:
            wcs = geometry.frame_wcs(run, camcol, fld, band)
            hit = frame_overlaps(
                wcs,
                geometry.frame_width,
                geometry.frame_height,
                corner_ra[members],
                corner_dec[members],
            )
            rows += _rows(
                objids[members[hit]],
                band,
                run_id,
                301,
                camcol,
                fld,
                release,
                cache_root,
                base_url,
                SYNTHETIC_SUFFIX,
            )
    return _finish(rows)


def _finish(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    df["objid"] = df["objid"].astype(np.int64)
    for col in ("run", "rerun", "camcol", "field"):
        df[col] = df[col].astype(np.int64)
    band_order = {b: k for k, b in enumerate(BANDS)}
    return (
        df.assign(_b=df["band"].map(band_order))
        .sort_values(["objid", "_b", "run", "camcol", "field"])
        .drop(columns="_b")
        .reset_index(drop=True)
    )


def index_from_fields(
    galaxies: pd.DataFrame, fields: pd.DataFrame, release: int, cache_root: str, base_url: str
) -> pd.DataFrame:
    """Index from CAS ``Field`` bounds (ramin/ramax/decmin/decmax of whole frames).

    A frame is kept for a galaxy when its bounding box overlaps the cutout's box
    (half-size = cutout radius + band slack, RA scaled by cos Dec, RA wrap handled).
    """
    half = CUTOUT_RADIUS_DEG + BAND_SLACK_DEG
    ra = galaxies["ra"].to_numpy()[:, None]
    dec = galaxies["dec"].to_numpy()[:, None]
    half_ra = half / np.cos(np.radians(np.clip(np.abs(dec), 0, 89.0)))
    f_lo, f_hi = fields["ramin"].to_numpy()[None, :], fields["ramax"].to_numpy()[None, :]
    centre = 0.5 * (f_lo + f_hi)
    width = 0.5 * (f_hi - f_lo)
    d_ra = np.abs((ra - centre + 180.0) % 360.0 - 180.0)
    hit = d_ra <= width + half_ra
    hit &= (fields["decmax"].to_numpy()[None, :] >= dec - half) & (
        fields["decmin"].to_numpy()[None, :] <= dec + half
    )
    objids = galaxies["objid"].to_numpy()
    rows: list[dict] = []
    for j, f in enumerate(fields.itertuples(index=False)):
        members = objids[hit[:, j]]
        if members.size:
            for band in BANDS:
                rows += _rows(
                    members,
                    band,
                    int(f.run),
                    int(f.rerun),
                    int(f.camcol),
                    int(f.field),
                    release,
                    cache_root,
                    base_url,
                )
    return _finish(rows)


def build_index(
    partition: pd.DataFrame,
    catalog_meta: dict,
    backend: str,
    release: int,
    cache_root: str,
    base_url: str,
    field_query=None,
) -> pd.DataFrame:
    """Index a partition with the synthetic geometry or CAS ``Field`` rows."""
    if backend == "synthetic":
        geometry = geometry_from_description(catalog_meta["synthetic"])
        return index_synthetic(partition, geometry, release, cache_root, base_url)
    fields = field_query(partition)
    return index_from_fields(partition, fields, release, cache_root, base_url)
