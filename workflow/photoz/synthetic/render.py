"""Render synthetic SDSS corrected frames (the ``synthetic`` backend of fetch_frames).

A frame (run, camcol, field, band) gets every target galaxy of the catalog that falls
on it, the fainter galaxies and stars of the sky cells it covers, the band's Galactic
extinction, the frame's PSF, then sky, Poisson and read noise in DN through the gain
and dark variance of its camcol, a per-column calibration vector, sky subtraction and
SDSS's FLOATCOMPRESS (10 mantissa bits). The file has the corrected-frame layout:
HDU0 image (nanomaggies) with the real frames' keywords and TAN WCS, HDU1 calibration
vector, HDU2 sky grid (ALLSKY, XINTERP, YINTERP), HDU3 astrometry (asTrans-like row),
compressed by the file suffix (the pipeline writes .fits.gz; the SAS serves .fits.bz2;
see frames.sas). Everything is deterministic for the survey seed.
"""

from __future__ import annotations

import bz2
import gzip
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits
from scipy.ndimage import map_coordinates

from ..constants import BANDS, EXTINCTION_COEFF
from ..io import atomic_path
from ..skycells import cells_covering, unit_vectors
from .footprint import NODE_DEG, SurveyGeometry
from .galaxies import knot_layout
from .neighbours import CELL_DEG, cell_sources
from .profiles import render_galaxy, render_star

EXPTIME = "53.907456"
SOFTBIAS = 1000
SKY_GRID_STEP = 8  # frame pixels per sky-grid cell, as in real frames (2048 -> 256)


@dataclass(frozen=True)
class FrameKey:
    """Identifies one frame."""

    run: int
    camcol: int
    field: int
    band: str


def floatcompress(image: np.ndarray, bits: int = 10) -> np.ndarray:
    """Round float32 mantissas to ``bits`` bits, like SDSS's FLOATCOMPRESS."""
    v = np.ascontiguousarray(image, dtype=np.float32).view(np.uint32)
    drop = 23 - bits
    v = (v + np.uint32(1 << (drop - 1))) & np.uint32(~((1 << drop) - 1) & 0xFFFFFFFF)
    return v.view(np.float32)


class FrameRenderer:
    """Renders frames of a synthetic survey from its geometry and target catalog."""

    def __init__(
        self,
        geometry: SurveyGeometry,
        targets: pd.DataFrame,
        seed: int,
        r_limit: float = 17.8,
        neighbours: bool = True,
        calibration_file: str | None = None,
    ):
        """``neighbours=False`` renders the targets alone (isolated sources for tests);
        ``calibration_file`` is the survey's (it shapes the faint field galaxies)."""
        from .calibration import template_population
        from .neighbours import _faint_grid

        # Build once, before any worker process is forked.
        template_population(calibration_file), _faint_grid()
        self.calibration_file = calibration_file
        self.geometry = geometry
        self.with_neighbours = neighbours
        self.targets = targets.reset_index(drop=True)
        self.seed = seed
        self.r_limit = r_limit
        self._target_xyz = unit_vectors(self.targets["ra"].to_numpy(), self.targets["dec"].to_numpy())

    # -- sources -------------------------------------------------------------------
    def _targets_near(self, ra: float, dec: float, radius_deg: float) -> pd.DataFrame:
        cos_r = np.cos(np.radians(radius_deg))
        near = self._target_xyz @ unit_vectors(np.array(ra), np.array(dec)) >= cos_r
        return self.targets[near]

    def _neighbours(self, corners_ra: np.ndarray, corners_dec: np.ndarray) -> pd.DataFrame:
        cells = cells_covering(
            corners_ra.min(), corners_ra.max(), corners_dec.min(), corners_dec.max(), CELL_DEG
        )
        parts = [cell_sources(self.seed, row, col, self.r_limit, self.calibration_file) for row, col in cells]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    # -- image ---------------------------------------------------------------------
    def render_image(self, key: FrameKey, noise: bool = True) -> tuple[np.ndarray, dict]:
        """The frame's image (nmgy, sky-subtracted) and the pieces of its other HDUs."""
        geo = self.geometry
        run = geo.run_by_number(key.run)
        band = key.band
        width, height = geo.frame_width, geo.frame_height
        wcs = geo.frame_wcs(run, key.camcol, key.field, band)
        hdr_wcs = geo.frame_header_wcs(run, key.camcol, key.field, band)
        cd = np.array([[hdr_wcs["CD1_1"], hdr_wcs["CD1_2"]], [hdr_wcs["CD2_1"], hdr_wcs["CD2_2"]]])
        scale_deg = np.sqrt(abs(np.linalg.det(cd)))
        pixel_to_sky = cd / scale_deg
        scale_arcsec = scale_deg * 3600.0
        cond = geo.conditions(key.run, key.camcol, key.field, band)
        fwhm_px = cond.psf_fwhm / scale_arcsec
        ext = EXTINCTION_COEFF[band]

        signal = np.zeros((height, width))

        def add(stamp: np.ndarray, x_lo: int, y_lo: int) -> None:
            h, w = stamp.shape
            xs, ys = max(x_lo, 0), max(y_lo, 0)
            xe, ye = min(x_lo + w, width), min(y_lo + h, height)
            if xe > xs and ye > ys:
                signal[ys:ye, xs:xe] += stamp[ys - y_lo : ye - y_lo, xs - x_lo : xe - x_lo]

        corner_x = np.array([-0.5, width - 0.5, width - 0.5, -0.5])
        corner_y = np.array([-0.5, -0.5, height - 0.5, height - 0.5])
        c_ra, c_dec = wcs.all_pix2world(corner_x, corner_y, 0)
        centre_ra, centre_dec = hdr_wcs["CRVAL1"], hdr_wcs["CRVAL2"]
        radius = 0.5 * np.hypot(width, height) * scale_deg + 60.0 / 3600.0
        near = self._targets_near(centre_ra, centre_dec, radius)
        # Frames are dimmed by the true reddening, not by the catalog's estimate of it.
        galaxies = [(near, near["sim_ebv_true"].to_numpy() if len(near) else np.array([]))]
        neigh = self._neighbours(c_ra, c_dec) if self.with_neighbours else pd.DataFrame()
        if len(neigh):
            is_gal = (neigh["kind"] == "galaxy").to_numpy()
            galaxies.append((neigh[is_gal], neigh.loc[is_gal, "e_bv"].to_numpy()))
            stars = neigh[~is_gal]
            if len(stars):
                sx, sy = wcs.all_world2pix(stars["ra"].to_numpy(), stars["dec"].to_numpy(), 0)
                flux = stars[f"star_flux_{band}"].to_numpy() * 10.0 ** (-0.4 * ext * stars["e_bv"].to_numpy())
                pad = 5 * fwhm_px
                for x, y, f in zip(sx, sy, flux, strict=True):
                    if -pad < x < width + pad and -pad < y < height + pad:
                        add(*render_star(x, y, f, fwhm_px))
        for table, ebv in galaxies:
            if table.empty:
                continue
            gx, gy = wcs.all_world2pix(table["ra"].to_numpy(), table["dec"].to_numpy(), 0)
            atten = 10.0 ** (-0.4 * ext * ebv)
            rb = table["sim_r_bulge_arcsec"].to_numpy() / scale_arcsec
            rd = table["sim_r_disk_arcsec"].to_numpy() / scale_arcsec
            fb = table[f"sim_flux_bulge_{band}"].to_numpy() * atten
            fd = table[f"sim_flux_disk_{band}"].to_numpy() * atten
            fk = table[f"sim_flux_knots_{band}"].to_numpy() * atten
            qb, qd = table["sim_q_bulge"].to_numpy(), table["sim_q_disk"].to_numpy()
            pa, nb = table["sim_pa_deg"].to_numpy(), table["sim_n_bulge"].to_numpy()
            n_knots, knot_seed = table["sim_n_knots"].to_numpy(), table["sim_knot_seed"].to_numpy()
            reach = 8.0 * np.maximum(rb, rd / 2.0) + 5 * fwhm_px
            for k in range(len(table)):
                if not (-reach[k] < gx[k] < width + reach[k] and -reach[k] < gy[k] < height + reach[k]):
                    continue
                comps = [
                    ("bulge", fb[k], rb[k], qb[k], pa[k], nb[k]),
                    ("disk", fd[k], rd[k], qd[k], pa[k], 1.0),
                ]
                east, north, weight = knot_layout(knot_seed[k], n_knots[k], rd[k], qd[k], pa[k])
                knots = (east, north, fk[k] * weight)
                add(*render_galaxy(gx[k], gy[k], comps, fwhm_px, pixel_to_sky, knots))

        if not np.all(np.isfinite(signal)):
            raise ValueError(f"frame {key}: the source model has non-finite pixels")
        signal *= 10.0 ** (-0.4 * cond.zero_point_mag)  # the frame's calibration error
        # Sky (DN) on the coarse grid the SDSS files carry, interpolated like the reader.
        rng = np.random.default_rng([self.seed, 23, key.run, key.camcol, key.field, BANDS.index(band)])
        nx, ny = int(np.ceil(width / SKY_GRID_STEP)), int(np.ceil(height / SKY_GRID_STEP)) + 6
        sky_dn0 = cond.sky * scale_arcsec**2 / cond.nmgy_per_count
        gy_, gx_ = np.meshgrid(np.linspace(-0.5, 0.5, ny), np.linspace(-0.5, 0.5, nx), indexing="ij")
        tilt = rng.normal(0.0, 0.02, 2)
        allsky = sky_dn0 * (1.0 + tilt[0] * gx_ + tilt[1] * gy_)
        xinterp = (np.arange(width) + 0.5) / SKY_GRID_STEP - 0.5
        yinterp = (np.arange(height) + 0.5) / SKY_GRID_STEP + 0.5
        yy, xx = np.meshgrid(yinterp, xinterp, indexing="ij")
        sky_dn = map_coordinates(allsky, [yy, xx], order=1, mode="nearest")
        phase = rng.uniform(0, 2 * np.pi)
        calib = cond.nmgy_per_count * (1.0 + 0.01 * np.sin(2 * np.pi * np.arange(width) / width + phase))
        if noise:
            dn = (signal / calib[None, :] + sky_dn) * cond.gain
            dn = rng.poisson(np.clip(dn, 0.0, None)) / cond.gain
            dn += rng.normal(0.0, np.sqrt(cond.dark_variance), dn.shape)
            image = (dn - sky_dn) * calib[None, :]
        else:
            image = signal
        extras = {
            "calib": calib.astype(np.float32),
            "allsky": allsky.astype(np.float32),
            "xinterp": xinterp.astype(np.float32),
            "yinterp": yinterp.astype(np.float32),
            "wcs": hdr_wcs,
            "conditions": cond,
        }
        return floatcompress(image), extras

    # -- file ----------------------------------------------------------------------
    def _header(self, key: FrameKey, extras: dict) -> fits.Header:
        run = self.geometry.run_by_number(key.run)
        cond = extras["conditions"]
        date = datetime(2000, 9, 1) + timedelta(days=3 * (key.run - 1000) + key.field * 36 / 86400.0)
        h = fits.Header()
        h["TAI"] = (
            round((date - datetime(1858, 11, 17)).total_seconds(), 2),
            "1st row - seconds since Nov 17 1858",
        )
        h["DATE-OBS"] = (date.strftime("%Y-%m-%d"), "1st row - TAI date")
        h["TAIHMS"] = (date.strftime("%H:%M:%S.00"), "1st row - TAI time (HH:MM:SS.SS)")
        h["ORIGIN"] = "SDSS"
        h["TELESCOP"] = "2.5m"
        h["TIMESYS"] = "TAI"
        h["RUN"] = (key.run, "Run number")
        h["FRAME"] = (key.field, "Frame sequence number within the run")
        h["CCDLOC"] = (10 * (1 + BANDS.index(key.band)) + key.camcol, "Survey location of CCD (e.g., rowCol)")
        h["STRIPE"] = (run.stripe, "Stripe index number")
        h["STRIP"] = (run.strip, "Strip in the stripe being tracked.")
        h["FLAVOR"] = ("science", "Flavor of this run")
        h["SYS_SCN"] = ("mean", "System of the scan great circle (e.g., mean)")
        h["EQNX_SCN"] = (2000.0, "Equinox of the scan great circle. (years)")
        h["NODE"] = (NODE_DEG, "RA of the great circle's ascending node (deg)")
        h["INCL"] = (run.incl, "Great circle's inclination wrt cel. eq. (deg)")
        h["OBJECT"] = (f"{run.stripe} {run.strip}", "e.g., 'stripe 50.6 degrees, north strip'")
        h["EXPTIME"] = (EXPTIME, "Exposure time (seconds)")
        h["SYSTEM"] = ("FK5", "System of the TCC coordinates (e.g., mean)")
        h["CCDMODE"] = ("DRIFT", "'STARING' or 'DRIFT'")
        h["CAMROW"] = (1 + BANDS.index(key.band), "Row in the imaging camera")
        h["BADLINES"] = (0, "Number of bad lines in frame")
        h["EQUINOX"] = 2000.0
        h["SOFTBIAS"] = (SOFTBIAS, 'software "bias" added to all DN')
        h["BUNIT"] = ("nanomaggy", "1 nanomaggy = 3.631e-6 Jy")
        h["FILTER"] = (key.band, "filter used")
        h["CAMCOL"] = (key.camcol, "column in the imaging camera")
        h["RADECSYS"] = ("ICRS", "International Celestial Ref. System")
        for k, v in extras["wcs"].items():
            h[k] = v
        h["NMGY"] = (float(np.mean(extras["calib"])), "Calibration factor [nMgy per count]")
        h["NMGYIVAR"] = (1.0, "Calibration factor inverse variance")
        h["RERUN"] = ("301", "rerun")
        h["COMMENT"] = "Floats truncated at 10 binary digits with FLOATCOMPRESS"
        h["SYNTHETI"] = (True, "photoz synthetic survey, not SDSS data")
        h["SIMSEED"] = (self.seed, "synthetic survey seed")
        h["SIMPSF"] = (round(cond.psf_fwhm, 5), "true PSF FWHM, arcsec (Moffat b=3.5)")
        h["SIMGAIN"] = (cond.gain, "true gain (e-/DN)")
        h["SIMDARKV"] = (cond.dark_variance, "true dark variance (DN^2)")
        return h

    def _trace(self, key: FrameKey, extras: dict) -> fits.BinTableHDU:
        run = self.geometry.run_by_number(key.run)
        geo = self.geometry
        mu0 = float(geo.field_start_mu(run, key.field))
        nu0 = float(geo.camcol_nu(run.strip, key.camcol) + run.nu_offset - 0.5 * geo.frame_width_deg)
        s = geo.pixel_deg
        cols = {
            "RUN": ("J", key.run),
            "RERUN": ("3A", "301"),
            "CAMCOL": ("J", key.camcol),
            "FILTER": ("1A", key.band),
            "FIELD": ("J", key.field),
            "NODE": ("D", NODE_DEG),
            "INCL": ("D", run.incl),
            "A": ("D", mu0),
            "B": ("D", s),
            "C": ("D", 0.0),
            "D": ("D", nu0),
            "E": ("D", 0.0),
            "F": ("D", s),
            "MJD": ("D", 51788.0 + 3 * (key.run - 1000)),
            "AIRMASS": ("D", 1.2),
        }
        return fits.BinTableHDU.from_columns(
            [fits.Column(name=n, format=f, array=np.array([v])) for n, (f, v) in cols.items()]
        )

    def hdulist(self, key: FrameKey, noise: bool = True) -> fits.HDUList:
        """The frame as an HDUList in the corrected-frame layout."""
        image, extras = self.render_image(key, noise=noise)
        primary = fits.PrimaryHDU(image, header=self._header(key, extras))
        calib = fits.ImageHDU(extras["calib"])
        ny, nx = extras["allsky"].shape
        sky = fits.BinTableHDU.from_columns(
            [
                fits.Column(
                    name="ALLSKY", format=f"{nx * ny}E", dim=f"({nx},{ny})", array=extras["allsky"][None]
                ),
                fits.Column(
                    name="XINTERP", format=f"{extras['xinterp'].size}E", array=extras["xinterp"][None]
                ),
                fits.Column(
                    name="YINTERP", format=f"{extras['yinterp'].size}E", array=extras["yinterp"][None]
                ),
            ]
        )
        return fits.HDUList([primary, calib, sky, self._trace(key, extras)])

    def write(self, key: FrameKey, path, noise: bool = True) -> int:
        """Render and write the frame atomically, compressed by the path's suffix
        (``.gz``: gzip level 1; ``.bz2``: bz2 level 1 (as small as level 9 on these
        frames, decompresses 1.7x faster); otherwise plain FITS); return its size."""
        buf = io.BytesIO()
        self.hdulist(key, noise=noise).writeto(buf)
        suffix = Path(path).suffix
        if suffix == ".gz":
            data = gzip.compress(buf.getvalue(), compresslevel=1, mtime=0)  # mtime 0: same bytes
        elif suffix == ".bz2":
            data = bz2.compress(buf.getvalue(), compresslevel=1)
        else:
            data = buf.getvalue()
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        return len(data)
