"""Stage 5 per partition: every galaxy's 5-band cube from all its indexed frames.

Frame-major: for each band, each frame is read and decompressed once and every galaxy
of the partition that touches it is cut from it in one vectorised call; the frames'
contributions are then combined per galaxy (MEDIAN, SWarp's default and what P19 ran,
or WEIGHTED). Memory holds one band's contributions for one partition.

Output: a Parquet table with objid, ``cube`` and ``weight`` (float32, 5x64x64 flattened,
band order u, g, r, i, z), the number of contributing frames per band and ``flags``
(bit b: band b has no valid pixel; bit 8+b: a frame of band b could not be fetched),
plus a table naming every (galaxy, band) without data and why. Nothing is dropped.
"""

from __future__ import annotations

import logging
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits
from astropy.wcs import WCS
from tqdm import tqdm

from ..constants import BANDS, CUTOUT_SIZE
from ..errors import FrameError
from ..frames.reader import background_rms, read_frame
from ..tables import OBJID_DTYPE
from .lanczos import combine, frame_covers, resample_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResampleParams:
    """The ``resample`` config section."""

    backend: str = "lanczos"  # lanczos (ours) | swarp (the reference binary) | reproject
    combine: str = "MEDIAN"  # MEDIAN | WEIGHTED
    threads: int = 1


def _frame_major_band(
    frames: pd.DataFrame, positions: pd.DataFrame, method: str, unreadable: dict, resample=resample_frame
):
    """(objid -> (value, weight, n_frames)) for one band, frame-major; ``resample`` maps
    one frame onto cutouts (Lanczos-3, or ``reproject_adaptive``). A frame that cannot
    be read goes into ``unreadable`` (path -> reason) and the others go on."""
    contributions: dict[int, list] = defaultdict(list)
    for path, group in frames.groupby("path", sort=True):
        try:
            frame = read_frame(path)
        except FrameError as exc:
            unreadable[path] = str(exc)
            continue
        ids = group["objid"].to_numpy()
        pos = positions.loc[ids]
        values, weights = resample(
            frame.image, frame.wcs, pos["ra"].to_numpy(), pos["dec"].to_numpy(), background_rms(frame.image)
        )
        for k, objid in enumerate(ids):
            if weights[k].any():
                contributions[int(objid)].append((values[k], weights[k]))
    out = {}
    for objid, items in contributions.items():
        v, w = combine(np.stack([i[0] for i in items]), np.stack([i[1] for i in items]), method)
        out[objid] = (v, w, len(items))
    return out


def _swarp_band(
    frames: pd.DataFrame, positions: pd.DataFrame, method: str, threads: int, scratch: Path, unreadable: dict
):
    from .swarp import decompress, swarp_cutout

    raw = {}
    for p in sorted(frames["path"].unique()):
        try:
            raw[p] = decompress(p, scratch)
        except FrameError as exc:
            unreadable[p] = str(exc)
    headers = {p: fits.getheader(r) for p, r in raw.items()}
    frames = frames[frames["path"].isin(raw)]

    def one(objid):
        paths = list(frames.loc[frames["objid"] == objid, "path"])
        pos = positions.loc[objid]
        ra, dec = float(pos["ra"]), float(pos["dec"])
        v, w = swarp_cutout([raw[p] for p in paths], ra, dec, method)
        # Frames counted as the Lanczos backend counts them: those giving valid pixels
        # (the index also lists frames that reach only the kernel's apron).
        n = sum(frame_covers(WCS(h), (h["NAXIS2"], h["NAXIS1"]), ra, dec) for h in map(headers.get, paths))
        return objid, v, w, n

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(one, sorted(frames["objid"].unique())))
    return {int(o): (v, w, n) for o, v, w, n in results if w.any()}


def resample_partition(
    galaxies: pd.DataFrame, index: pd.DataFrame, manifest: pd.DataFrame, params: ResampleParams
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, pd.DataFrame]:
    """Per-galaxy table (objid, frames per band, flags), cubes and weights (N, 5, 64, 64)
    in the table's order, and the (galaxy, band) pairs without data with the reason."""
    positions = galaxies.set_index("objid")[["ra", "dec"]]
    failed = manifest.loc[manifest["status"] == "failed", ["path", "reason"]].assign(
        reason=lambda d: "failed to fetch: " + d["reason"].astype(str)
    )
    usable = index[~index["path"].isin(failed["path"])]
    objids = galaxies["objid"].to_numpy()
    row_of = {int(o): k for k, o in enumerate(objids)}
    cubes = np.zeros((len(objids), len(BANDS), CUTOUT_SIZE, CUTOUT_SIZE), dtype=np.float32)
    weights = np.zeros_like(cubes)
    n_frames = np.zeros((len(objids), len(BANDS)), dtype=np.int16)
    flags = np.zeros(len(objids), dtype=np.int32)
    missing = []
    with tempfile.TemporaryDirectory(prefix="swarp-frames-") as scratch:
        for b, band in enumerate(tqdm(BANDS, desc="bands", mininterval=5)):
            frames = usable[usable["band"] == band]
            unreadable: dict[str, str] = {}
            if params.backend == "swarp":
                result = _swarp_band(
                    frames, positions, params.combine, params.threads, Path(scratch), unreadable
                )
            elif params.backend == "reproject":
                from .adaptive import reproject_frame

                result = _frame_major_band(frames, positions, params.combine, unreadable, reproject_frame)
            else:
                result = _frame_major_band(frames, positions, params.combine, unreadable)
            # a frame damaged since it was fetched counts as a failed fetch: recorded
            # with its reason, its galaxies flagged, the partition goes on
            for path, reason in unreadable.items():
                log.error("frame %s unreadable: %s", path, reason)
            failed = pd.concat(
                [
                    failed,
                    pd.DataFrame(
                        {
                            "path": list(unreadable),
                            "reason": [f"unreadable: {r}" for r in unreadable.values()],
                        }
                    ),
                ],
                ignore_index=True,
            )
            for objid, (v, w, n) in result.items():
                k = row_of[objid]
                cubes[k, b], weights[k, b], n_frames[k, b] = v, w, n
            band_failed = index[(index["band"] == band) & index["path"].isin(failed["path"])]
            for objid in set(band_failed["objid"]):
                flags[row_of[int(objid)]] |= 1 << (8 + b)
            for k, objid in enumerate(objids):
                if n_frames[k, b] == 0:
                    flags[k] |= 1 << b
                    if (band_failed["objid"] == objid).any():
                        reason = "frames failed: " + "; ".join(
                            failed.loc[
                                failed["path"].isin(band_failed.loc[band_failed["objid"] == objid, "path"]),
                                "reason",
                            ].astype(str)
                        )
                    elif ((index["objid"] == objid) & (index["band"] == band)).any():
                        reason = "frames overlap only outside their valid (Lanczos-3) area"
                    else:
                        reason = "no frame overlaps the cutout"
                    missing.append({"objid": objid, "band": band, "reason": reason})
    table = pd.DataFrame({"objid": objids.astype(OBJID_DTYPE)})
    for b, band in enumerate(BANDS):
        table[f"n_frames_{band}"] = n_frames[:, b]
    table["flags"] = flags
    return table, cubes, weights, pd.DataFrame(missing, columns=["objid", "band", "reason"])
