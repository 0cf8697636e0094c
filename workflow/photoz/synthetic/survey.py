"""Simulate the pre-selection spectroscopic table the P19 CasJobs query runs on.

``simulate_candidates`` returns rows with every column the SQL selects (SDSS names),
including objects the query's WHERE clause rejects (non-MGS targets, redshift
warnings, unclean photometry, masked areas, fainter than the limit), so the selection
code path is the same for synthetic and real data. Truth columns ``sim_*`` keep what
the frame renderer needs.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..config import FromConfig
from ..constants import BANDS, EXTINCTION_COEFF, PRIMTARGET_GALAXY
from ..skycells import unit_vectors
from .calibration import template_population
from .extinction import catalog_ebv, ebv_map
from .footprint import Region, SurveyGeometry, build_geometry, gc_to_radec
from .galaxies import draw_galaxies, half_light_radius_r, observed_axis_ratio, petrosian_flux
from .luminosity import sample_zm, zm_grid
from .photometry import aperture_flux_error, asinh_mag, asinh_mag_err
from .photoz_baseline import local_linear_photoz

log = logging.getLogger(__name__)

#: Candidates are drawn this much fainter than the query limit so that measurement
#: scatter and non-MGS targets populate both sides of the cut.
CANDIDATE_MARGIN_MAG = 0.5
#: MGS target-selection limit on target photometry (Strauss et al. 2002).
MGS_TARGET_LIMIT = 17.77
#: Rates of the other rejections of the P19 query, per spectrum.
FLAG_RATES = {"zwarning": 0.005, "not_galaxy": 0.002, "unclean": 0.02, "inside_mask": 0.002}
SQ_DEG_PER_SR = (180.0 / np.pi) ** 2
#: SDSS Petrosian errors include the error of the Petrosian radius, measured in r and
#: common to every band: real r-band errors are 1.4x the photon noise of the aperture
#: model (medians at 14 < r < 17.8, calibration half of the kcorrect galaxies,
#: benchmarks/bench_realism.py), while colours are not noisier. The common part, as a
#: fraction of the r-band relative photon noise:
PETRO_RADIUS_ERROR = float(np.sqrt(1.4**2 - 1.0))
#: Another bright target closer than this (arcsec, the half-diagonal of a 64 x 64 cutout
#: of 0.396" pixels) would share the target's cutout.
CUTOUT_RADIUS_ARCSEC = 32 * 0.396 * np.sqrt(2.0)
#: Candidates this much fainter than the limit (true r) count as bright targets there.
BRIGHT_MARGIN_MAG = 0.3
#: Seed tags of the draws: the spectroscopic sample, the photo-z column's reference set
#: and the MGS targets that got no spectrum (declustered with the spectroscopic sample:
#: both are the sky's bright galaxies).
SPECTROSCOPIC_TAG, REFERENCE_TAG, WITHOUT_SPECTRA_TAG = 17, 29, 37
#: Photometric object numbers (objID's 16-bit ``id`` field) of the galaxies without
#: spectra start here, so that their objids never meet the spectroscopic sample's.
WITHOUT_SPECTRA_FIRST_ID = 32768
#: Columns only a spectrum gives; galaxies without one lack them (the redshift is kept
#: as ``sim_z``, the truth nothing but the tests reads).
SPECTRUM_COLUMNS = ("specobjid", "z", "zerr", "zwarning", "class", "scienceprimary")


@dataclass(frozen=True)
class SyntheticSurveyConfig(FromConfig):
    """Parameters of the simulated survey (the ``synthetic`` config section)."""

    config_section = "synthetic"

    seed: int
    n_galaxies: int
    density_boost: float
    deep_fraction: float
    deep_epochs: int
    frame_width: int
    frame_height: int
    reference_size: int
    n_without_spectra: int  # MGS targets without spectra, beside the n_galaxies (targets)
    r_mag_limit: float
    z_min: float
    z_max: float
    calibration_file: str | None  # real galaxies; None: kcorrect's SDSS test file


def _sdss_objid(run, rerun, camcol, fld, obj_id) -> np.ndarray:
    """SDSS 64-bit objID layout (skyVersion 2, firstField 0)."""
    as_u = lambda a: np.asarray(a).astype(np.uint64)  # noqa: E731
    return (
        (np.uint64(2) << np.uint64(59))
        | (as_u(rerun) << np.uint64(48))
        | (as_u(run) << np.uint64(32))
        | (as_u(camcol) << np.uint64(29))
        | (as_u(fld) << np.uint64(16))
        | as_u(obj_id)
    )


def _sdss_specobjid(index: np.ndarray) -> np.ndarray:
    """specObjID layout (plate, fiber, MJD, run2d=26) for a running spectrum index."""
    index = np.asarray(index, dtype=np.uint64)
    plate = np.uint64(266) + index // np.uint64(640)
    fiber = np.uint64(1) + index % np.uint64(640)
    mjd = np.uint64(51600) + plate - np.uint64(266)
    return (
        (plate << np.uint64(50))
        | (fiber << np.uint64(38))
        | ((mjd - np.uint64(50000)) << np.uint64(24))
        | (np.uint64(26) << np.uint64(10))
    )


def _decluster_group(seed_tag: int) -> int:
    """The draws whose bright galaxies avoid each other: the spectroscopic sample and
    the targets without spectra are one population of the sky; other draws (the photo-z
    column's reference set) are not on the frames."""
    return SPECTROSCOPIC_TAG if seed_tag == WITHOUT_SPECTRA_TAG else seed_tag


class SyntheticSurvey:
    """The simulated sky: geometry, reddening and the galaxy population."""

    def __init__(self, cfg: SyntheticSurveyConfig):
        self.cfg = cfg
        self.population = template_population(cfg.calibration_file)
        # Bright candidates placed so far per draw: unit vectors and exemption flags.
        self._bright: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._photoz_reference: pd.DataFrame | None = None
        self.grid = zm_grid(
            cfg.r_mag_limit + CANDIDATE_MARGIN_MAG, z_max=max(0.7, cfg.z_max + 0.2), k_margin=0.4
        )
        self.target_density_deg2 = self._target_density()
        area = cfg.n_galaxies / (self.target_density_deg2 * cfg.density_boost)
        self.geometry: SurveyGeometry = build_geometry(
            cfg.seed, area, cfg.deep_fraction, cfg.deep_epochs, cfg.frame_width, cfg.frame_height
        )

    def _target_density(self) -> float:
        """MGS-like targets per deg^2 implied by the model (before any density boost)."""
        rng = np.random.default_rng([self.cfg.seed, 13])
        n = 20000
        z, m = sample_zm(rng, self.grid, n)
        gal = draw_galaxies(rng, z, m, self.population)
        r = -2.5 * np.log10(petrosian_flux(gal, "r")) + 22.5
        ok = (r <= self.cfg.r_mag_limit) & (z > self.cfg.z_min) & (z <= self.cfg.z_max)
        return float(self.grid.counts_per_sr.sum() * ok.mean() / SQ_DEG_PER_SR)

    def _positions(self, rng: np.random.Generator, n: int) -> pd.DataFrame:
        regions = self.geometry.regions
        areas = np.array([r.area_deg2 for r in regions])
        which = rng.choice(len(regions), size=n, p=areas / areas.sum())
        mu = np.empty(n)
        nu = np.empty(n)
        run = np.empty(n, dtype=np.int64)
        camcol = np.empty(n, dtype=np.int64)
        fld = np.empty(n, dtype=np.int64)
        ra = np.empty(n)
        dec = np.empty(n)
        for k, region in enumerate(regions):
            sel = which == k
            m = int(sel.sum())
            mu[sel] = rng.uniform(region.mu_min, region.mu_max, m)
            s_lo, s_hi = np.sin(np.radians([region.nu_min, region.nu_max]))
            nu[sel] = np.degrees(np.arcsin(rng.uniform(s_lo, s_hi, m)))
            ra[sel], dec[sel] = gc_to_radec(mu[sel], nu[sel], region.incl)
            run[sel], camcol[sel], fld[sel] = self.geometry.primary_detection(region, mu[sel], nu[sel])
        return pd.DataFrame(
            {
                "ra": ra,
                "dec": dec,
                "run": run,
                "rerun": 301,
                "camcol": camcol,
                "field": fld,
                "sim_region": np.array([r.name for r in regions])[which],
                "sim_deep": np.array([r.deep for r in regions])[which],
            }
        )

    def _decluster(
        self, rng: np.random.Generator, pos: pd.DataFrame, bright: np.ndarray, seed_tag: int
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Move bright candidates so that another bright target shares a cutout no more
        often than at the model's own (unboosted) density; (positions, exemption flag
        of every row).

        With the density boosted b times, a random 1/sqrt(b) of the bright candidates
        are exempt: they may pair with each other (at sqrt(b) times the real density,
        so an exempt fraction 1/sqrt(b) gives the real pair rate); every other bright
        candidate is redrawn until no bright target lies within
        :data:`CUTOUT_RADIUS_ARCSEC` of it. The kept rows of earlier batches count
        (:meth:`_register_bright`), so the whole survey obeys it.
        """
        pos = pos.copy()
        idx = np.flatnonzero(bright)
        exempt = rng.random(idx.size) < min(1.0, 1.0 / np.sqrt(self.cfg.density_boost))
        placed, placed_exempt = self._bright.get(
            _decluster_group(seed_tag), (np.empty((0, 3)), np.empty(0, bool))
        )
        chord = 2.0 * np.sin(np.radians(CUTOUT_RADIUS_ARCSEC / 3600.0) / 2.0)
        all_exempt = np.r_[placed_exempt, exempt]
        for _ in range(100):
            xyz = unit_vectors(pos["ra"].to_numpy()[idx], pos["dec"].to_numpy()[idx])
            pairs = cKDTree(np.vstack([placed, xyz])).query_pairs(chord, output_type="ndarray")
            if len(pairs):
                pairs = np.sort(pairs, axis=1)
                pairs = pairs[~all_exempt[pairs].all(axis=1)]  # two exempt galaxies may pair
            if len(pairs) == 0:
                break
            # Of each pair the later galaxy moves, unless it is exempt and the earlier one
            # is free to move (earlier batches are settled).
            earlier_movable = (pairs[:, 0] >= len(placed)) & ~all_exempt[pairs[:, 0]]
            keep_later = all_exempt[pairs[:, 1]] & earlier_movable
            mover = np.where(keep_later, pairs[:, 0], pairs[:, 1]) - len(placed)
            move = np.unique(mover[mover >= 0])
            fresh = self._positions(rng, move.size)
            rows = idx[move]
            for column in fresh.columns:
                values = pos[column].to_numpy().copy()
                values[rows] = fresh[column].to_numpy()
                pos[column] = values
        exempt_rows = np.zeros(len(pos), bool)
        exempt_rows[idx] = exempt
        return pos, exempt_rows

    def _register_bright(
        self, seed_tag: int, kept: pd.DataFrame, bright: np.ndarray, exempt: np.ndarray
    ) -> None:
        """Add the bright galaxies of a batch's kept rows to those later batches avoid.

        Only kept rows count: a batch is drawn larger than it needs (at least 4,000
        candidates), and registering the rows cut away would crowd a small sky with
        phantom neighbours until no free position is left for the next draw."""
        group = _decluster_group(seed_tag)
        placed, placed_exempt = self._bright.get(group, (np.empty((0, 3)), np.empty(0, bool)))
        xyz = unit_vectors(kept["ra"].to_numpy()[bright], kept["dec"].to_numpy()[bright])
        self._bright[group] = (np.vstack([placed, xyz]), np.r_[placed_exempt, exempt[bright]])

    def _observe(self, rng: np.random.Generator, gal: pd.DataFrame, pos: pd.DataFrame) -> pd.DataFrame:
        """Catalog photometry of the galaxies as measured on their primary frames."""
        n = len(gal)
        out = pos.copy()
        ebv_true = ebv_map(pos["ra"].to_numpy(), pos["dec"].to_numpy(), self.cfg.seed)
        ebv = catalog_ebv(pos["ra"].to_numpy(), pos["dec"].to_numpy(), self.cfg.seed)
        out["e_bv_sfd"] = ebv
        out["sim_ebv_true"] = ebv_true
        frames = pos[["run", "camcol", "field"]].to_numpy()
        keys, inverse = np.unique(frames, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        r50 = half_light_radius_r(gal).to_numpy()

        def photometry(band: str):
            """Conditions, frame flux and photon-noise error of every galaxy in ``band``."""
            cond = [self.geometry.conditions(int(r), int(c), int(f), band) for r, c, f in keys]
            get = lambda name: np.array([getattr(c, name) for c in cond])[inverse]  # noqa: E731
            # The frame dims the light by the true reddening and reports it through its
            # own (slightly wrong) zero point; the catalog dereddens with its E(B-V).
            a_true = EXTINCTION_COEFF[band] * ebv_true
            flux = petrosian_flux(gal, band) * 10.0 ** (-0.4 * (a_true + get("zero_point_mag")))
            # Petrosian aperture: 2 Petrosian radii ~ 4 seeing-convolved half-light radii.
            fwhm = get("psf_fwhm")
            r_ap = 4.0 * np.sqrt(r50**2 + (0.5 * fwhm) ** 2)
            err = aperture_flux_error(
                flux, r_ap, get("sky"), get("gain"), get("dark_variance"), get("nmgy_per_count")
            )
            return fwhm, get("sky"), flux, err

        phot = {band: photometry(band) for band in BANDS}
        _, _, flux_r, err_r = phot["r"]
        radius_rel_err = PETRO_RADIUS_ERROR * err_r / np.maximum(flux_r, 1e-30)
        radius_factor = 1.0 + radius_rel_err * rng.standard_normal(n)
        for band in BANDS:
            fwhm, sky, flux, err = phot[band]
            a_band = EXTINCTION_COEFF[band] * ebv
            measured = (flux + err * rng.standard_normal(n)) * radius_factor
            err = np.hypot(err, radius_rel_err * flux)
            out[f"petromag_{band}"] = asinh_mag(measured, band)
            out[f"petromagerr_{band}"] = asinh_mag_err(measured, err, band)
            out[f"extinction_{band}"] = a_band
            out[f"dered_petro_{band}"] = out[f"petromag_{band}"] - a_band
            out[f"psffwhm_{band}"] = fwhm
            out[f"sky_{band}"] = sky
            if band == "r":
                target = flux + err * rng.standard_normal(n)
                target_dered = asinh_mag(target, band) - a_band
                out["expab_r"] = np.clip(
                    observed_axis_ratio(gal["sim_q_disk"], gal["sim_r_disk_arcsec"], fwhm)
                    + 0.03 * rng.standard_normal(n),
                    0.05,
                    1.0,
                )
                out["devab_r"] = np.clip(
                    observed_axis_ratio(gal["sim_q_bulge"], gal["sim_r_bulge_arcsec"], fwhm)
                    + 0.03 * rng.standard_normal(n),
                    0.05,
                    1.0,
                )
        out["primtarget"] = np.where(target_dered <= MGS_TARGET_LIMIT, PRIMTARGET_GALAXY, 32)
        out["sectarget"] = 0
        out["zwarning"] = np.where(rng.random(n) < FLAG_RATES["zwarning"], 4, 0)
        out["class"] = np.where(rng.random(n) < FLAG_RATES["not_galaxy"], "QSO", "GALAXY")
        out["clean"] = np.where(rng.random(n) < FLAG_RATES["unclean"], 0, 1)
        out["insidemask"] = np.where(rng.random(n) < FLAG_RATES["inside_mask"], 1, 0)
        out["type"] = 3  # PhotoObj type GALAXY
        out["flags"] = 0
        out["scienceprimary"] = 1
        return out

    def _batch(self, batch: int, size: int, seed_tag: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """A batch of candidates, which rows are bright and which are exempt from
        declustering."""
        rng = np.random.default_rng([self.cfg.seed, seed_tag, batch])
        z, m_abs = sample_zm(rng, self.grid, size)
        gal = draw_galaxies(rng, z, m_abs, self.population)
        pos = self._positions(rng, size)
        true_r = 22.5 - 2.5 * np.log10(np.maximum(petrosian_flux(gal, "r"), 1e-30))
        bright = np.asarray(true_r <= self.cfg.r_mag_limit + BRIGHT_MARGIN_MAG)
        pos, exempt = self._decluster(rng, pos, bright, seed_tag)
        obs = self._observe(rng, gal, pos)
        obs["z"] = z
        obs["zerr"] = 1.5e-5 * np.exp(0.3 * rng.standard_normal(size))
        return pd.concat([obs, gal], axis=1), bright, exempt

    def simulate_candidates(self, n_selected: int, passes, seed_tag: int = SPECTROSCOPIC_TAG) -> pd.DataFrame:
        """Draw candidate spectra until ``n_selected`` of them pass ``passes(df)``.

        ``passes`` is the query's selection as a boolean-mask function. The returned
        table stops right after the ``n_selected``-th passing row, so the number of
        selected rows is exact and the counts of every cut are those of real draws.
        """
        size = max(2 * n_selected, 4000)
        parts, n_pass, batch = [], 0, 0
        while n_pass < n_selected:
            df, bright, exempt = self._batch(batch, size, seed_tag)
            ok = passes(df).to_numpy()
            need = n_selected - n_pass
            if ok.sum() >= need:
                cut = int(np.flatnonzero(ok)[need - 1]) + 1
                df, ok, bright, exempt = df.iloc[:cut], ok[:cut], bright[:cut], exempt[:cut]
            self._register_bright(seed_tag, df, bright, exempt)
            parts.append(df)
            n_pass += int(ok.sum())
            batch += 1
        cand = pd.concat(parts, ignore_index=True)
        cand["sim_index"] = np.arange(len(cand))
        obj_in_field = cand.groupby(["run", "camcol", "field"]).cumcount().to_numpy() + 1
        if seed_tag == WITHOUT_SPECTRA_TAG:
            obj_in_field += WITHOUT_SPECTRA_FIRST_ID
        cand["objid"] = _sdss_objid(cand["run"], cand["rerun"], cand["camcol"], cand["field"], obj_in_field)
        offset = 0 if seed_tag == SPECTROSCOPIC_TAG else 10_000_000
        cand["specobjid"] = _sdss_specobjid(np.arange(len(cand)) + offset)
        return cand

    def simulate_without_spectra(self, n: int, passes) -> pd.DataFrame:
        """``n`` MGS targets of the sky that got no spectrum (fibre collisions in SDSS):
        the rows ``passes`` keeps (the photometric cuts) of a draw disjoint from the
        spectroscopic sample's, placed after it (call :meth:`simulate_candidates` first
        so that they avoid its bright galaxies like one population). The spectroscopic
        columns are dropped; the true redshift is ``sim_z``."""
        if n == 0:
            return pd.DataFrame()
        cand = self.simulate_candidates(n, passes, seed_tag=WITHOUT_SPECTRA_TAG)
        cand = cand[passes(cand).to_numpy()].rename(columns={"z": "sim_z"})
        return cand.drop(columns=[c for c in SPECTRUM_COLUMNS if c in cand]).reset_index(drop=True)

    def add_photoz_column(self, catalog: pd.DataFrame, passes) -> pd.DataFrame:
        """Fill ``zphot``/``dzphot`` with the B16-like estimator trained on an independent
        draw (drawn once per survey, whatever the catalogs it serves)."""
        if self._photoz_reference is None:
            reference = self.simulate_candidates(self.cfg.reference_size, passes, seed_tag=REFERENCE_TAG)
            self._photoz_reference = reference[passes(reference).to_numpy()]
        zp, dzp = local_linear_photoz(self._photoz_reference, catalog)
        catalog = catalog.copy()
        catalog["zphot"] = zp
        catalog["dzphot"] = dzp
        return catalog

    def describe(self) -> dict:
        """JSON-serialisable description of the survey, stored in the catalog metadata."""
        geo = self.geometry
        return {
            "config": dataclasses.asdict(self.cfg),
            "model_target_density_deg2": self.target_density_deg2,
            "geometry": {
                "seed": geo.seed,
                "frame_width": geo.frame_width,
                "frame_height": geo.frame_height,
                "regions": [dataclasses.asdict(r) for r in geo.regions],
                "runs": [dataclasses.asdict(r) for r in geo.runs],
            },
        }


def geometry_from_description(desc: dict) -> SurveyGeometry:
    """Rebuild the :class:`SurveyGeometry` stored by :meth:`SyntheticSurvey.describe`."""
    from .footprint import Run

    g = desc["geometry"]
    return SurveyGeometry(
        seed=g["seed"],
        frame_width=g["frame_width"],
        frame_height=g["frame_height"],
        regions=[Region(**r) for r in g["regions"]],
        runs=[Run(**r) for r in g["runs"]],
    )
