"""Read SDSS corrected frames and rebuild their sky and per-pixel noise.

Layout (SDSS frame datamodel): HDU0 float32 image in nanomaggies, sky-subtracted,
TAN WCS; HDU1 calibration vector (nanomaggies per DN, per column); HDU2 table with
the sky in DN on a coarse grid (ALLSKY) and the interpolation coordinates (XINTERP,
YINTERP); HDU3 the asTrans astrometry row. ``.bz2`` files are decompressed on the fly.

The noise recipe is the datamodel's: ``dn = img/calib + sky``,
``dn_err = sqrt(dn/gain + darkVariance)``, ``img_err = dn_err * calib``, with the sky
grid interpolated bilinearly with edge clamping (IDL ``interpolate(/grid)``).
"""

from __future__ import annotations

import bz2
import gzip
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sep
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from scipy.ndimage import map_coordinates

from ..constants import BANDS
from ..errors import FrameError  # noqa: F401  (raised here; re-exported)


@dataclass
class CorrectedFrame:
    """One corrected frame: image (nmgy), calibration, sky grid and header."""

    path: str
    image: np.ndarray  # (NAXIS2, NAXIS1) float32 nanomaggies, sky-subtracted
    calib: np.ndarray  # (NAXIS1,) nanomaggies per DN
    allsky: np.ndarray  # coarse sky grid, DN
    xinterp: np.ndarray  # (NAXIS1,) column coordinate in the sky grid
    yinterp: np.ndarray  # (NAXIS2,) row coordinate in the sky grid
    header: fits.Header

    @property
    def band(self) -> str:
        return str(self.header["FILTER"]).strip()

    @property
    def wcs(self) -> WCS:
        """The header's celestial WCS (TAN, full CD matrix)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)  # RADECSYS spelling
            return WCS(self.header)

    def sky_dn(self) -> np.ndarray:
        """The sky (DN) at every pixel: ALLSKY interpolated bilinearly, edges clamped."""
        yy, xx = np.meshgrid(self.yinterp, self.xinterp, indexing="ij")
        return map_coordinates(self.allsky, [yy, xx], order=1, mode="nearest")

    def error_image(self, gain: float, dark_variance: float) -> np.ndarray:
        """Per-pixel 1-sigma error in nanomaggies (datamodel recipe)."""
        calib = self.calib[None, :]
        dn = self.image / calib + self.sky_dn()
        dn_err = np.sqrt(np.clip(dn, 0.0, None) / gain + dark_variance)
        return (dn_err * calib).astype(np.float32)


def open_fits(path: str | Path) -> fits.HDUList:
    """Open a FITS file, decompressing ``.bz2`` or ``.gz`` in memory (read once, fully)."""
    path = Path(path)
    openers = {".bz2": bz2.open, ".gz": gzip.open}
    try:
        if path.suffix in openers:
            with openers[path.suffix](path, "rb") as fh:
                data = fh.read()
            return fits.open(io.BytesIO(data), memmap=False)
        return fits.open(path, memmap=False)
    except (OSError, EOFError, ValueError) as exc:
        raise FrameError(f"{path}: cannot read FITS ({exc})") from exc


def read_frame(path: str | Path) -> CorrectedFrame:
    """Read and check a corrected frame; :class:`FrameError` naming the file if it is
    damaged (truncated, corrupt) or not a corrected frame."""
    try:
        return _read_frame(path)
    except FrameError:
        raise
    except (OSError, EOFError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise FrameError(f"{path}: cannot read FITS ({type(exc).__name__}: {exc})") from exc


def _read_frame(path: str | Path) -> CorrectedFrame:
    with open_fits(path) as hdul:
        if len(hdul) < 3 or hdul[0].data is None or hdul[0].data.ndim != 2:
            raise FrameError(f"{path}: not an SDSS corrected frame (need image, calib and sky HDUs)")
        header = hdul[0].header
        if str(header.get("FILTER", "")).strip() not in BANDS:
            raise FrameError(f"{path}: FILTER keyword missing or not one of ugriz")
        image = np.asarray(hdul[0].data, dtype=np.float32)
        calib = np.asarray(hdul[1].data, dtype=np.float64).ravel()
        sky = hdul[2].data
        allsky = np.asarray(sky["ALLSKY"][0], dtype=np.float64).reshape(sky["ALLSKY"][0].shape[-2:])
        xinterp = np.asarray(sky["XINTERP"][0], dtype=np.float64).ravel()
        yinterp = np.asarray(sky["YINTERP"][0], dtype=np.float64).ravel()
        header = header.copy()
    if calib.size != image.shape[1] or xinterp.size != image.shape[1] or yinterp.size != image.shape[0]:
        raise FrameError(f"{path}: calibration or sky vectors do not match the image shape {image.shape}")
    return CorrectedFrame(str(path), image, calib, allsky, xinterp, yinterp, header)


def read_photofield(path: str | Path, field: int, band: str) -> tuple[float, float]:
    """(gain, dark variance) of ``field`` and ``band`` from a photoField file."""
    with open_fits(path) as hdul:
        table = hdul[1].data
        rows = np.flatnonzero(table["FIELD"] == field)
        if rows.size == 0:
            raise FrameError(f"{path}: no row for field {field}")
        b = BANDS.index(band)
        return float(table["GAIN"][rows[0]][b]), float(table["DARK_VARIANCE"][rows[0]][b])


def background_rms(image: np.ndarray) -> float:
    """The frame's global background RMS exactly as SWarp/SExtractor compute it
    (BACK_SIZE 128, BACK_FILTERSIZE 3: the median of the clipped mesh RMS map), via
    sep; equal to SWarp's own value for the fixture frames to all printed digits."""
    data = np.ascontiguousarray(image, dtype=np.float32)
    return float(sep.Background(data, bw=128, bh=128, fw=3, fh=3).globalrms)
