"""Drift-scan survey geometry: stripes, strips, camera columns, runs and fields.

SDSS images the sky in great-circle stripes (node at RA 95 deg, inclination ``incl``).
Each stripe is covered by two interleaved strips (N, S) of six camera columns; a run
scans one strip and is cut into fields of 1489 rows that overlap by 128 rows. Frames
are therefore rotated with respect to RA/Dec by the local angle of the scan. This
module reproduces that geometry for the synthetic survey, scaled to any frame size
(tests use small frames), and gives every (run, camcol, field, band) deterministic
observing conditions. The frame renderer reuses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..constants import BANDS, PIXEL_SCALE_ARCSEC, STRIPE82_DEC, STRIPE82_RA

NODE_DEG = 95.0
FIELD_OVERLAP_ROWS = 128
FIRST_FIELD = 11
N_CAMCOLS = 6
# Camera-column pitch in units of the frame width: 25 arcmin between columns of
# 13.5 arcmin, so the two strips interleave with ~1 arcmin overlaps (SDSS camera).
CAMCOL_PITCH_FRAMES = 0.4166 / 0.2253

# Gain (e-/DN) and dark variance (DN^2) per camcol (rows 1..6) and band (ugriz), from
# the SDSS frame datamodel; camcol 2 uses the values of the real photoField of run 2583.
GAIN = np.array(
    [
        [1.62, 3.32, 4.71, 5.165, 4.745],
        [1.825, 3.855, 4.6, 5.195, 5.155],
        [1.59, 3.845, 4.72, 4.86, 4.885],
        [1.6, 3.995, 4.76, 4.885, 4.775],
        [1.47, 4.05, 4.725, 4.64, 3.48],
        [2.17, 4.035, 4.895, 4.76, 4.69],
    ]
)
DARK_VARIANCE = np.array(
    [
        [9.61, 15.6025, 1.8225, 7.84, 0.81],
        [12.6025, 1.44, 1.00, 6.25, 1.0],
        [8.7025, 1.3225, 1.3225, 4.6225, 1.0],
        [12.6025, 1.96, 1.3225, 6.25, 9.61],
        [9.3025, 1.1025, 0.81, 7.84, 1.8225],
        [7.0225, 1.8225, 0.9025, 5.0625, 1.21],
    ]
)
#: Typical calibration, nanomaggies per DN (header NMGY of run 2583 frames).
NMGY_PER_COUNT = np.array([0.0118724, 0.00446688, 0.00546689, 0.0065592, 0.038566])
#: Median dark-sky brightness, mag per arcsec^2 (SDSS).
SKY_MAG = np.array([22.1, 21.9, 20.85, 20.2, 18.95])
#: Median PSF FWHM in r (arcsec) and the band scaling of seeing.
SEEING_R = 1.35
#: Photometric zero-point errors per run and camcol (SDSS ubercal, Padmanabhan et al.
#: 2008: ~2% in u, ~1% in griz).
ZP_ERROR_MAG = np.array([0.02, 0.01, 0.01, 0.01, 0.01])
_SEEING_BAND = np.array([1.12, 1.05, 1.0, 0.96, 0.95])
#: Longest stretch of a stripe a region spans, degrees of mu: SDSS's northern stripes
#: run up to ~120 deg.
MAX_STRIPE_LENGTH_DEG = 120.0
#: Widest a region grows in nu (degrees) by adding stripes side by side.
MAX_REGION_HALF_WIDTH_DEG = 20.0


#: Offset of each band's frame centre from the r frame's, arcsec along (mu, nu): the
#: filters sit in different rows of the camera. Measured on the CRVALs of the real
#: frames of run 2583, camcol 2, field 136.
BAND_OFFSET_ARCSEC = {
    "u": (-2.46, -1.97),
    "g": (-4.35, -1.28),
    "r": (0.0, 0.0),
    "i": (-1.19, 0.10),
    "z": (-2.61, -0.48),
}
#: Pixel scale of each band's frames, arcsec (sqrt |det CD| of the same real frames).
BAND_PIXEL_SCALE = {"u": 0.395897, "g": 0.395961, "r": 0.396012, "i": 0.395937, "z": 0.395942}


def gc_to_radec(
    mu: np.ndarray, nu: np.ndarray, incl: float, node: float = NODE_DEG
) -> tuple[np.ndarray, np.ndarray]:
    """SDSS great-circle (mu, nu) to (RA, Dec), all in degrees."""
    mu_r, nu_r = np.radians(mu - node), np.radians(nu)
    i = np.radians(incl)
    x = np.cos(mu_r) * np.cos(nu_r)
    y = np.sin(mu_r) * np.cos(nu_r)
    z = np.sin(nu_r)
    y2 = y * np.cos(i) - z * np.sin(i)
    z2 = y * np.sin(i) + z * np.cos(i)
    ra = (np.degrees(np.arctan2(y2, x)) + node) % 360.0
    dec = np.degrees(np.arcsin(np.clip(z2, -1.0, 1.0)))
    return ra, dec


def radec_to_gc(
    ra: np.ndarray, dec: np.ndarray, incl: float, node: float = NODE_DEG
) -> tuple[np.ndarray, np.ndarray]:
    """(RA, Dec) to SDSS great-circle (mu, nu), degrees; mu in [node, node + 360)."""
    ra_r, dec_r = np.radians(ra - node), np.radians(dec)
    i = np.radians(incl)
    x = np.cos(ra_r) * np.cos(dec_r)
    y = np.sin(ra_r) * np.cos(dec_r)
    z = np.sin(dec_r)
    y2 = y * np.cos(i) + z * np.sin(i)
    z2 = -y * np.sin(i) + z * np.cos(i)
    mu = (np.degrees(np.arctan2(y2, x)) % 360.0) + node
    nu = np.degrees(np.arcsin(np.clip(z2, -1.0, 1.0)))
    return mu, nu


@dataclass(frozen=True)
class Region:
    """A rectangle in a stripe's (mu, nu) where target galaxies are placed."""

    name: str
    stripe: int
    incl: float
    mu_min: float
    mu_max: float
    nu_min: float
    nu_max: float
    epochs: int
    deep: bool

    @property
    def area_deg2(self) -> float:
        """Solid angle of the rectangle on the sphere, deg^2."""
        d_sin = np.sin(np.radians(self.nu_max)) - np.sin(np.radians(self.nu_min))
        return float(np.degrees(1.0) * (self.mu_max - self.mu_min) * d_sin)


@dataclass(frozen=True)
class Run:
    """One drift scan of one strip of a region's stripe."""

    run: int
    region: str
    stripe: int
    incl: float
    strip: str  # "N" or "S"
    epoch: int
    mu_start: float  # mu of the first row of field FIRST_FIELD, degrees
    nu_offset: float  # pointing offset of this epoch, degrees


@dataclass(frozen=True)
class FrameConditions:
    """Observing conditions of one frame in one band."""

    psf_fwhm: float  # arcsec
    sky: float  # nanomaggies per arcsec^2
    gain: float  # e- per DN
    dark_variance: float  # DN^2
    nmgy_per_count: float
    #: Photometric calibration error of the frame (mag): it reports fluxes times
    #: 10**(-0.4 * zero_point_mag), for the catalog and the pixels alike.
    zero_point_mag: float = 0.0


@dataclass
class SurveyGeometry:
    """All regions and runs of the synthetic survey, with frame geometry helpers."""

    seed: int
    frame_width: int  # NAXIS1, columns, across the scan
    frame_height: int  # NAXIS2, rows, along the scan
    regions: list[Region]
    runs: list[Run] = field(default_factory=list)

    @property
    def pixel_deg(self) -> float:
        return PIXEL_SCALE_ARCSEC / 3600.0

    @property
    def frame_width_deg(self) -> float:
        return self.frame_width * self.pixel_deg

    @property
    def field_step_deg(self) -> float:
        """Scan length between consecutive field starts (rows minus the overlap)."""
        overlap = min(FIELD_OVERLAP_ROWS, self.frame_height // 8)
        return (self.frame_height - overlap) * self.pixel_deg

    @property
    def camcol_pitch_deg(self) -> float:
        return CAMCOL_PITCH_FRAMES * self.frame_width_deg

    @property
    def stripe_half_width_deg(self) -> float:
        """Half the nu extent covered by the 12 interleaved camera columns."""
        return 2.75 * self.camcol_pitch_deg + 0.5 * self.frame_width_deg

    def camcol_nu(self, strip: str, camcol: int | np.ndarray) -> np.ndarray:
        """nu of the centre of ``camcol`` (1..6) of ``strip`` before epoch offsets."""
        offset = -0.25 if strip == "S" else 0.25
        return (np.asarray(camcol) - 3.5 + offset) * self.camcol_pitch_deg

    def runs_of(self, region: str, epoch: int | None = None) -> list[Run]:
        """Runs of ``region`` (optionally of one epoch)."""
        return [r for r in self.runs if r.region == region and (epoch is None or r.epoch == epoch)]

    def locate(self, run: Run, mu: np.ndarray, nu: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Camcol, field and distance (deg) from the camcol centre line in ``run``.

        The field is the one whose first ``field_step`` rows contain ``mu`` (its unique
        part); the camcol is the nearest column centre.
        """
        nu_rel = np.asarray(nu) - run.nu_offset
        camcol = np.clip(
            np.rint(nu_rel / self.camcol_pitch_deg + 3.5 - (-0.25 if run.strip == "S" else 0.25)).astype(int),
            1,
            N_CAMCOLS,
        )
        dist = np.abs(nu_rel - self.camcol_nu(run.strip, camcol))
        fld = FIRST_FIELD + np.floor((np.asarray(mu) - run.mu_start) / self.field_step_deg)
        return camcol, fld.astype(int), dist

    def primary_detection(
        self, region: Region, mu: np.ndarray, nu: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(run, camcol, field) of the primary (first-epoch) detection of each position."""
        best = None
        for run in self.runs_of(region.name, epoch=0):
            camcol, fld, dist = self.locate(run, mu, nu)
            cand = (np.full(np.shape(mu), run.run), camcol, fld, dist)
            if best is None:
                best = cand
            else:
                better = cand[3] < best[3]
                best = tuple(np.where(better, c, b) for c, b in zip(cand, best, strict=True))
        assert best is not None, f"region {region.name} has no first-epoch run"
        return best[0], best[1], best[2]

    def run_by_number(self, run: int) -> Run:
        """The :class:`Run` with this run number."""
        if not hasattr(self, "_runs_by_number"):
            self._runs_by_number = {r.run: r for r in self.runs}
        return self._runs_by_number[run]

    def field_start_mu(self, run: Run, field_: int | np.ndarray) -> np.ndarray:
        """mu of the first row of ``field_`` in ``run`` (degrees)."""
        return run.mu_start + (np.asarray(field_) - FIRST_FIELD) * self.field_step_deg

    def frame_centre(self, run: Run, camcol: int, field_: int, band: str) -> tuple[float, float]:
        """(mu, nu) of the reference pixel of frame (run, camcol, field) in ``band``."""
        d_mu, d_nu = BAND_OFFSET_ARCSEC[band]
        mu = self.field_start_mu(run, field_) + (self.frame_height - 1) / 2.0 * self.pixel_deg
        nu = self.camcol_nu(run.strip, camcol) + run.nu_offset
        return float(mu + d_mu / 3600.0), float(nu + d_nu / 3600.0)

    def frame_header_wcs(self, run: Run, camcol: int, field_: int, band: str) -> dict:
        """TAN WCS keywords of a frame, oriented like real SDSS frames.

        Columns (NAXIS1) run across the scan (+nu), rows (NAXIS2) along it (+mu); the CD
        matrix is the scan direction's angle on the sky, so on the equator it is
        axis-swapped exactly as in real frames (CD1_2 = CD2_1 = +scale).
        """
        mu_c, nu_c = self.frame_centre(run, camcol, field_, band)
        ra0, dec0 = gc_to_radec(np.array([mu_c]), np.array([nu_c]), run.incl)
        ra1, dec1 = gc_to_radec(np.array([mu_c + 1e-4]), np.array([nu_c]), run.incl)
        d_ra = ((ra1 - ra0 + 180.0) % 360.0 - 180.0) * np.cos(np.radians(dec0))
        theta = float(np.arctan2(d_ra, dec1 - dec0)[0])  # +mu, east of north
        scale = BAND_PIXEL_SCALE[band] / 3600.0
        return {
            "CTYPE1": "RA---TAN",
            "CTYPE2": "DEC--TAN",
            "CUNIT1": "deg",
            "CUNIT2": "deg",
            "CRPIX1": self.frame_width / 2.0 + 1.0,
            "CRPIX2": (self.frame_height + 1) / 2.0,
            "CRVAL1": float(ra0[0]),
            "CRVAL2": float(dec0[0]),
            "CD1_1": -scale * np.cos(theta),
            "CD1_2": scale * np.sin(theta),
            "CD2_1": scale * np.sin(theta),
            "CD2_2": scale * np.cos(theta),
        }

    def frame_wcs(self, run: Run, camcol: int, field_: int, band: str):
        """Astropy WCS of frame (run, camcol, field) in ``band``."""
        from astropy.wcs import WCS

        hdr = self.frame_header_wcs(run, camcol, field_, band)
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = [hdr["CTYPE1"], hdr["CTYPE2"]]
        wcs.wcs.crpix = [hdr["CRPIX1"], hdr["CRPIX2"]]
        wcs.wcs.crval = [hdr["CRVAL1"], hdr["CRVAL2"]]
        wcs.wcs.cd = [[hdr["CD1_1"], hdr["CD1_2"]], [hdr["CD2_1"], hdr["CD2_2"]]]
        wcs.pixel_shape = (self.frame_width, self.frame_height)
        return wcs

    def candidate_frames(
        self, region: Region, mu: float, nu: float, margin_deg: float
    ) -> list[tuple[Run, int, int]]:
        """(run, camcol, field) of every frame of ``region``'s runs whose nominal
        rectangle comes within ``margin_deg`` of (mu, nu): a superset for exact tests."""
        out = []
        half_w = 0.5 * self.frame_width_deg + margin_deg
        length = self.frame_height * self.pixel_deg
        for run in self.runs_of(region.name):
            for camcol in range(1, N_CAMCOLS + 1):
                if abs(nu - run.nu_offset - self.camcol_nu(run.strip, camcol)) > half_w:
                    continue
                lo = int(np.floor((mu - margin_deg - length - run.mu_start) / self.field_step_deg))
                hi = int(np.floor((mu + margin_deg - run.mu_start) / self.field_step_deg))
                for k in range(lo, hi + 1):
                    out.append((run, camcol, FIRST_FIELD + k))
        return out

    def conditions(self, run: int, camcol: int, field_: int, band: str) -> FrameConditions:
        """Deterministic observing conditions of frame (run, camcol, field) in ``band``."""
        b = BANDS.index(band)
        run_rng = np.random.default_rng([self.seed, 7, run])
        seeing_run = SEEING_R * np.exp(0.18 * run_rng.standard_normal())
        sky_run = run_rng.normal(0.0, 0.15)
        phase = run_rng.uniform(0.0, 2.0 * np.pi)
        frame_rng = np.random.default_rng([self.seed, 11, run, camcol, field_])
        drift = 1.0 + 0.08 * np.sin(2.0 * np.pi * field_ / 23.0 + phase)
        fwhm = seeing_run * drift * (1.0 + 0.03 * frame_rng.standard_normal())
        sky_mag = SKY_MAG[b] + sky_run + 0.03 * frame_rng.standard_normal()
        zero_points = np.random.default_rng([self.seed, 31, run, camcol]).standard_normal(5) * ZP_ERROR_MAG
        return FrameConditions(
            psf_fwhm=float(fwhm * _SEEING_BAND[b]),
            sky=float(10.0 ** (-0.4 * (sky_mag - 22.5))),
            gain=float(GAIN[camcol - 1, b]),
            dark_variance=float(DARK_VARIANCE[camcol - 1, b]),
            nmgy_per_count=float(NMGY_PER_COUNT[b] * (1.0 + 0.02 * frame_rng.standard_normal())),
            zero_point_mag=float(zero_points[b]),
        )


def _one_stripe_half_width(area: float, stripe_half_width: float) -> float:
    """nu half-width of a region of ``area`` deg^2 in one stripe: as square as the
    stripe allows, inside its camera columns."""
    return min(0.5 * np.sqrt(area), 0.9 * stripe_half_width)


def _stripe_band(
    area: float, n_stripes: int, stripe_pitch: float, grow: int, stripe_half_width: float
) -> tuple[float, float, float]:
    """(nu centre, nu half-width, mu length) of a region of ``area`` deg^2 over
    ``n_stripes`` stripes, the added ones on the side ``grow`` (-1 or +1) of the first."""
    nu_centre = grow * 0.5 * (n_stripes - 1) * stripe_pitch
    if n_stripes == 1:
        # Flat-sky length (within 1e-4 of the spherical one at |nu| <= 1.2 deg), kept so
        # that every survey of one stripe is laid out as it always was.
        nu_half = _one_stripe_half_width(area, stripe_half_width)
        return nu_centre, nu_half, area / (2.0 * nu_half)
    nu_half = 0.5 * n_stripes * stripe_pitch
    d_sin = np.sin(np.radians(nu_centre + nu_half)) - np.sin(np.radians(nu_centre - nu_half))
    return nu_centre, nu_half, area / (np.degrees(1.0) * d_sin)


def _deep_band(area: float, stripe_half_width: float, mu_c: float) -> tuple[float, float, float]:
    """(nu half-width, mu_min, mu_max) of the deep region: one equatorial stripe inside
    the real Stripe 82 footprint (RA 300 to 60 deg, |Dec| < 1.26 deg), so that the
    evaluation's Stripe 82 test finds exactly the deep galaxies."""
    nu_half = _one_stripe_half_width(area, stripe_half_width)
    stripe82_length = (STRIPE82_RA[1] - STRIPE82_RA[0]) % 360.0
    if area > 2.0 * nu_half * stripe82_length:  # the stripe's full width first
        widest = min(0.99 * stripe_half_width, 0.99 * STRIPE82_DEC)
        if area > 2.0 * widest * stripe82_length:
            raise ValueError(
                f"synthetic survey: the deep region needs {area:,.0f} deg^2, more than Stripe 82's "
                f"{2.0 * widest * stripe82_length:,.0f}; lower synthetic.deep_fraction or "
                "synthetic.n_galaxies"
            )
        nu_half = area / (2.0 * stripe82_length)
    length = area / (2.0 * nu_half)
    if mu_c - 0.5 * length >= STRIPE82_RA[0]:
        return nu_half, mu_c - 0.5 * length, mu_c + 0.5 * length
    return nu_half, STRIPE82_RA[0], STRIPE82_RA[0] + length


def build_geometry(
    seed: int,
    total_area_deg2: float,
    deep_fraction: float,
    deep_epochs: int,
    frame_width: int = 2048,
    frame_height: int = 1489,
) -> SurveyGeometry:
    """Lay out the survey: one deep equatorial region (Stripe-82-like) and two wide ones.

    Region areas follow ``total_area_deg2`` and ``deep_fraction``; each region is as
    square as the stripe width allows. Wide regions sit on inclined stripes in the
    northern cap so that frames are rotated with respect to north. A wide region longer
    than :data:`MAX_STRIPE_LENGTH_DEG` in one stripe is laid over several parallel
    stripes (side by side in nu, overlapping like SDSS's by a tenth of a half-width;
    the two grow away from each other), so that at any size the galaxies keep the
    asked surface density instead of a region wrapping round its great circle onto
    itself. The deep region stays inside the real Stripe 82 footprint.
    """
    geo = SurveyGeometry(seed, frame_width, frame_height, regions=[])
    half = geo.stripe_half_width_deg
    stripe_pitch = 2.0 * 0.9 * half  # nu between neighbouring stripes' centres
    # (name, stripe number, inclination, central mu, epochs, deep, area fraction, side
    # that added stripes grow to in nu: the wide regions away from each other; the deep
    # region is one stripe, Stripe 82)
    layout = [
        ("deep", 82, 0.0, 330.0, deep_epochs, True, deep_fraction, None),
        ("wide1", 12, 5.0, 185.0, 1, False, 0.5 * (1.0 - deep_fraction), -1),
        ("wide2", 30, 50.0, 150.0, 1, False, 0.5 * (1.0 - deep_fraction), +1),
    ]
    rng = np.random.default_rng([seed, 3])
    run_number = 1000
    for name, stripe, incl, mu_c, epochs, deep, frac, grow in layout:
        area = total_area_deg2 * frac
        if area <= 0:
            continue
        if deep:
            n_stripes, nu_centre = 1, 0.0
            nu_half, mu_min, mu_max = _deep_band(area, half, mu_c)
        else:
            n_stripes = max(1, math.ceil(area / (stripe_pitch * MAX_STRIPE_LENGTH_DEG)))
            nu_centre, nu_half, length = _stripe_band(area, n_stripes, stripe_pitch, grow, half)
            while length > MAX_STRIPE_LENGTH_DEG:  # far from nu = 0 a stripe holds less
                n_stripes += 1
                nu_centre, nu_half, length = _stripe_band(area, n_stripes, stripe_pitch, grow, half)
            max_stripes = int(2.0 * MAX_REGION_HALF_WIDTH_DEG / stripe_pitch)
            if n_stripes > max_stripes:
                raise ValueError(
                    f"synthetic survey: region {name} needs {area:,.0f} deg^2, more than its "
                    f"{max_stripes} stripes of {MAX_STRIPE_LENGTH_DEG:.0f} deg hold; lower "
                    "synthetic.n_galaxies or raise synthetic.density_boost"
                )
            mu_min, mu_max = mu_c - 0.5 * length, mu_c + 0.5 * length
        region = Region(
            name, stripe, incl, mu_min, mu_max, nu_centre - nu_half, nu_centre + nu_half, epochs, deep
        )
        geo.regions.append(region)
        for epoch in range(epochs):
            for k in range(n_stripes):
                # Epochs start at different places and point slightly differently, so their
                # pixel grids never line up (as for the Stripe 82 repeat scans).
                mu_start = region.mu_min - 2.0 * geo.field_step_deg - rng.uniform(0, geo.field_step_deg)
                # Pointing jitter well inside the strips' overlap (7.5% of a frame width), so
                # every epoch covers the whole region as in the real Stripe 82.
                jitter = np.clip(rng.normal(0.0, 0.01), -0.03, 0.03) * geo.frame_width_deg
                stripe_nu = nu_centre + (k - 0.5 * (n_stripes - 1)) * stripe_pitch
                nu_offset = stripe_nu + (0.0 if epoch == 0 else float(jitter))
                for strip in ("N", "S"):
                    run_number += 1 + int(rng.integers(0, 40))
                    geo.runs.append(
                        Run(run_number, name, stripe + k, incl, strip, epoch, mu_start, nu_offset)
                    )
    return geo
