"""The empirical galaxy population: real SDSS galaxies' spectra as kcorrect coefficients.

The calibration sample is the 10,000 real SDSS spectroscopic galaxies that the
``kcorrect`` package ships for its tests (``kcorrect/data/test/gst_tests_small.fits``:
RA, Z, PETROFLUX, MODELFLUX with inverse variances, EXTINCTION), or any file with the
same columns (``synthetic.calibration_file``). Only galaxies with RA < 180 deg are
used; the other half validates the synthetic sky and is never fitted.

Each calibration galaxy of the MGS selection is fitted with the kcorrect templates on
its dereddened model colours scaled to its Petrosian r flux (model colours are about
twice less noisy than Petrosian ones, so the real sample's photometric noise is not
added a second time when the synthetic catalog is measured). The median difference
between Petrosian and template magnitudes per band and redshift (aperture colours and
the templates' misfit) is kept as a photometric correction, and their scatter beyond
the quoted errors as a per-galaxy colour term. A synthetic galaxy at (z, M) takes the
spectrum of a real galaxy drawn among the nearest in (z, M): the colour-magnitude
relation, its scatter and the colours'
evolution with redshift are those of real galaxies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from ..errors import CalibrationError  # noqa: F401  (raised here; re-exported)
from ..metrics.point import robust_std
from .footprint import ZP_ERROR_MAG
from .luminosity import distance_modulus
from .templates import R_INDEX, ab_to_sdss, observed_maggies_ab, sdss_kcorrect, shifted_r_maggies

#: Columns the calibration file must have (kcorrect's test-file names).
REQUIRED_COLUMNS = ("RA", "Z", "PETROFLUX", "PETROFLUX_IVAR", "MODELFLUX", "MODELFLUX_IVAR", "EXTINCTION")
#: Calibration half: RA below this (deg). The rest is for validation only.
CALIBRATION_RA_MAX = 180.0
#: The MGS-like selection of the calibration sample (dereddened Petrosian r, redshift).
MGS_R_LIMIT = 17.77
Z_RANGE = (0.0, 0.4)
#: Neighbourhood of the conditional draw: k nearest real galaxies in (z, M) scaled by these.
K_NEIGHBOURS = 8
Z_SCALE = 0.01
M_SCALE = 0.15
#: Colour deconvolution: neighbours in (z, M, g-r), g-r scaled by this.
DECONVOLVE_NEIGHBOURS = 24
GR_SCALE = 0.05
G_INDEX = 1  # g - r: the neighbours are chosen by it, so it is kept as measured
#: Redshift bins (equal counts) of the template-to-SDSS photometric corrections.
CORRECTION_BINS = 16


def default_calibration_file() -> Path:
    """The real SDSS galaxies shipped inside the installed ``kcorrect`` package."""
    try:
        import kcorrect
    except ImportError as exc:  # pragma: no cover - kcorrect is a dependency
        raise CalibrationError(
            "synthetic.calibration_file: the kcorrect package is not installed (pip install kcorrect)"
        ) from exc
    return Path(kcorrect.__file__).parent / "data" / "test" / "gst_tests_small.fits"


def resolve_calibration_file(path: str | None) -> Path:
    """``path`` or, when None, the kcorrect package's file; an error names a missing one."""
    resolved = Path(path) if path else default_calibration_file()
    if not resolved.is_file():
        raise CalibrationError(f"synthetic.calibration_file: {resolved} does not exist")
    return resolved


def read_real_galaxies(path: str | Path) -> dict[str, np.ndarray]:
    """The calibration file's required columns as arrays; one clear error if unusable."""
    from astropy.table import Table

    try:
        table = Table.read(path)
    except Exception as exc:
        raise CalibrationError(f"calibration file {path}: cannot be read as a table ({exc})") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in table.colnames]
    if missing:
        raise CalibrationError(f"calibration file {path}: missing column(s) {', '.join(missing)}")
    out = {c: np.asarray(table[c], dtype=np.float64) for c in REQUIRED_COLUMNS}
    for c in ("PETROFLUX", "PETROFLUX_IVAR", "MODELFLUX", "MODELFLUX_IVAR", "EXTINCTION"):
        if out[c].ndim != 2 or out[c].shape[1] != 5:
            raise CalibrationError(f"calibration file {path}: column {c} must hold 5 bands (ugriz)")
    return out


def mgs_like(galaxies: dict[str, np.ndarray]) -> np.ndarray:
    """Mask of the MGS-like selection: dereddened Petrosian r <= 17.77, 0 < z <= 0.4."""
    petro_r = galaxies["PETROFLUX"][:, 2]
    model_r = galaxies["MODELFLUX"][:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 22.5 - 2.5 * np.log10(petro_r) - galaxies["EXTINCTION"][:, 2]
    z = galaxies["Z"]
    return (petro_r > 0) & (model_r > 0) & (r <= MGS_R_LIMIT) & (z > Z_RANGE[0]) & (z <= Z_RANGE[1])


def calibration_half(galaxies: dict[str, np.ndarray]) -> np.ndarray:
    """Mask of the galaxies that may be fitted (RA < 180 deg)."""
    return galaxies["RA"] < CALIBRATION_RA_MAX


@dataclass(frozen=True, eq=False)  # identity hash: cached KD-tree per population
class TemplatePopulation:
    """Real galaxies as (z, ^{0.1}M_r, template coefficients per unit ^{0.1}r maggy)."""

    z: np.ndarray
    absmag: np.ndarray
    coeffs: np.ndarray  # (N, n_templates), shifted_r_maggies(coeffs) == 1
    correction_z: np.ndarray  # (n_bins,) redshifts of the photometric corrections
    correction_mag: np.ndarray  # (n_bins, 5) observed minus template magnitudes
    extra_scatter_mag: np.ndarray  # (n_bins, 5) per-galaxy colour scatter beyond the templates
    source_sha256: str

    def photometric_correction(self, z: np.ndarray) -> np.ndarray:
        """Flux factors (N, 5) taking template photometry onto real SDSS colours at ``z``."""
        return 10.0 ** (-0.4 * _interp_bands(z, self.correction_z, self.correction_mag))

    def colour_scatter(self, z: np.ndarray) -> np.ndarray:
        """Per-galaxy colour scatter (mag, (N, 5)) beyond the templates at ``z``."""
        return _interp_bands(z, self.correction_z, self.extra_scatter_mag)

    def draw(self, rng: np.random.Generator, z: np.ndarray, absmag: np.ndarray) -> np.ndarray:
        """Coefficients (per unit ^{0.1}r maggy) of a real galaxy near each (z, M)."""
        tree = _tree(self)
        zq = np.clip(z, self.z.min(), self.z.max())
        k = min(K_NEIGHBOURS, self.z.size)
        _, idx = tree.query(np.column_stack([zq / Z_SCALE, absmag / M_SCALE]), k=k)
        idx = np.atleast_2d(idx.reshape(len(z), k))
        pick = idx[np.arange(len(z)), rng.integers(0, k, len(z))]
        return self.coeffs[pick]


def intrinsic_scatter(residual: np.ndarray, error: np.ndarray) -> float:
    """The scatter s (mag) beyond the per-galaxy ``error`` s: the s for which the
    residuals divided by sqrt(s^2 + error^2) have a robust standard deviation of 1 (0
    when the errors already explain them). Per-galaxy errors, not their median: where
    they vary a lot (u at z > 0.2: 0.1 to 0.6 mag) the median error understates the
    noise and the difference overstates the scatter."""

    def normalised_width(scatter: float) -> float:
        return robust_std(residual / np.sqrt(scatter**2 + error**2))

    if normalised_width(0.0) <= 1.0:
        return 0.0
    lo, hi = 0.0, float(robust_std(residual))
    for _ in range(40):  # bisection: the width falls monotonically with the scatter
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if normalised_width(mid) > 1.0 else (lo, mid)
    return 0.5 * (lo + hi)


@lru_cache(maxsize=4)
def _tree(population: TemplatePopulation) -> cKDTree:
    return cKDTree(np.column_stack([population.z / Z_SCALE, population.absmag / M_SCALE]))


def fit_population(galaxies: dict[str, np.ndarray], source_sha256: str = "") -> TemplatePopulation:
    """Fit the kcorrect templates to the calibration half's MGS-like galaxies."""
    use = mgs_like(galaxies) & calibration_half(galaxies)
    if use.sum() < 100:
        raise CalibrationError(f"calibration file: only {int(use.sum())} usable galaxies with RA < 180 deg")
    sub = {k: v[use] for k, v in galaxies.items()}
    dered = 10.0 ** (0.4 * sub["EXTINCTION"]) * 1e-9
    to_petro = sub["PETROFLUX"][:, [2]] / sub["MODELFLUX"][:, [2]]
    maggies = sub["MODELFLUX"] * to_petro * dered
    ivar = np.clip(sub["MODELFLUX_IVAR"], 0.0, None) / (to_petro * dered) ** 2
    z = sub["Z"]
    model_err = 1.0857 / np.sqrt(sub["MODELFLUX_IVAR"]) / np.abs(sub["MODELFLUX"])
    coeffs = np.asarray(sdss_kcorrect().fit_coeffs(redshift=z, maggies=maggies, ivar=ivar), float)
    # Each galaxy's own colours carry its measurement noise and its run's zero-point
    # error, which the synthetic catalog adds again: fit the templates to colours with
    # that noise taken out (deconvolved towards similar galaxies), not to the raw ones.
    absmag = -2.5 * np.log10(np.clip(shifted_r_maggies(coeffs), 1e-30, None)) - distance_modulus(z)
    denoised = _deconvolve_colours(z, absmag, maggies, np.hypot(model_err, ZP_ERROR_MAG))
    coeffs = np.asarray(sdss_kcorrect().fit_coeffs(redshift=z, maggies=denoised, ivar=ivar), float)
    rest = shifted_r_maggies(coeffs)
    good = rest > 0
    coeffs, rest, z = coeffs[good], rest[good], z[good]
    absmag = -2.5 * np.log10(rest) - distance_modulus(z)
    petro = (sub["PETROFLUX"] * dered)[good]
    template = ab_to_sdss(observed_maggies_ab(coeffs, z))
    # Petrosian minus template scatters by the Petrosian errors (photon noise and the
    # zero point, which the templates no longer carry) before any colour structure the
    # templates miss: that structure comes back as a per-galaxy term.
    petro_err = 1.0857 / np.sqrt(sub["PETROFLUX_IVAR"][good]) / np.abs(sub["PETROFLUX"][good])
    z_grid, correction, extra = _band_corrections(z, petro, template, np.hypot(petro_err, ZP_ERROR_MAG))
    order = np.lexsort((absmag, z))  # a deterministic order, whatever the file's
    return TemplatePopulation(
        z=z[order],
        absmag=absmag[order],
        coeffs=(coeffs / rest[:, None])[order],
        correction_z=z_grid,
        correction_mag=correction,
        extra_scatter_mag=extra,
        source_sha256=source_sha256,
    )


def _deconvolve_colours(
    z: np.ndarray, absmag: np.ndarray, maggies: np.ndarray, noise_mag: np.ndarray
) -> np.ndarray:
    """Maggies (N, 5) whose colours against r keep their real spread less the noise.

    Each colour b - r is pulled towards the mean of the galaxy's
    :data:`DECONVOLVE_NEIGHBOURS` nearest neighbours in (z, M, g - r) by the factor
    ``sqrt(1 - noise^2 / var)`` of its redshift bin (var: the robust variance about
    those means), which keeps the spread of the noise-free colours (a Gaussian
    deconvolution; the neighbours' mean is itself nearly noise-free). r is unchanged;
    non-positive fluxes (faint u) are left as they are.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        colour = -2.5 * np.log10(maggies / maggies[:, [R_INDEX]])
    ok = np.isfinite(colour)
    gr = np.where(ok[:, G_INDEX], colour[:, G_INDEX], np.nanmedian(colour[:, G_INDEX]))
    points = np.column_stack([z / Z_SCALE, absmag / M_SCALE, gr / GR_SCALE])
    _, idx = cKDTree(points).query(points, DECONVOLVE_NEIGHBOURS + 1)
    neighbours = idx[:, 1:]  # not the galaxy itself
    filled = np.where(ok, colour, np.nan)
    mean = np.nanmean(filled[neighbours], axis=1)
    offset = colour - mean
    noise2 = noise_mag**2 + noise_mag[:, [R_INDEX]] ** 2
    shrink = np.ones_like(colour)
    edges = np.quantile(z, np.linspace(0.0, 1.0, CORRECTION_BINS + 1))
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (z >= lo) & (z <= hi)
        for j in range(colour.shape[1]):
            good = sel & ok[:, j] & np.isfinite(mean[:, j])
            if j in (R_INDEX, G_INDEX) or good.sum() < 20:
                continue
            var = robust_std(offset[good, j]) ** 2
            shrink[sel, j] = np.sqrt(np.clip(1.0 - np.median(noise2[good, j]) / var, 0.0, 1.0))
    new = np.where(ok & np.isfinite(mean), mean + shrink * offset, colour)
    out = maggies[:, [R_INDEX]] * 10.0 ** (-0.4 * new)
    return np.where(ok, out, maggies)


def _interp_bands(z: np.ndarray, z_grid: np.ndarray, table: np.ndarray) -> np.ndarray:
    """(N, 5): each band's column of ``table`` interpolated at ``z`` (constant past the ends)."""
    return np.column_stack([np.interp(z, z_grid, table[:, j]) for j in range(table.shape[1])])


def _band_corrections(
    z: np.ndarray, observed: np.ndarray, template: np.ndarray, observed_err: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per redshift bin (equal counts): the median (Petrosian - template) magnitude per
    band and its scatter beyond the quoted errors (:func:`intrinsic_scatter`).

    The templates, fitted to model colours, miss Petrosian colours by the mean
    Petrosian-minus-model colour (aperture) and their own misfit (mostly z band), up to
    a few hundredths: the synthetic photometry is corrected by the median. The scatter
    beyond the errors is colour structure the five-template fit of model colours
    smooths away (aperture colours, lines, noise the errors miss): the synthetic
    galaxies get it back as a per-galaxy colour term. (A full 5 x 5 covariance
    measured no closer to the real colour widths than independent bands.)
    Returns bin redshifts (n_bins,), corrections and scatters (n_bins, 5), in mag.
    """
    # Flux ratios, not magnitudes: faint u fluxes scatter below zero, and dropping
    # them would bias the median bright.
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = observed / template
    edges = np.quantile(z, np.linspace(0.0, 1.0, CORRECTION_BINS + 1))
    centres, medians, scatters = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (z >= lo) & (z <= hi)
        centres.append(float(np.median(z[sel])))
        med, sc = [], []
        for r, e in zip(ratio[sel].T, observed_err[sel].T, strict=True):
            ok = np.isfinite(r) & np.isfinite(e)
            centre = np.median(r[ok])
            med.append(-2.5 * np.log10(centre))
            sc.append(intrinsic_scatter(1.0857 * (r[ok] - centre) / centre, e[ok]))
        medians.append(med)
        scatters.append(sc)
    return np.array(centres), np.array(medians), np.array(scatters)


@lru_cache(maxsize=4)
def template_population(path: str | None = None) -> TemplatePopulation:
    """The fitted population of ``path`` (None: kcorrect's real SDSS galaxies), cached."""
    resolved = resolve_calibration_file(path)
    digest = hashlib.sha256(resolved.read_bytes()).hexdigest()
    return fit_population(read_real_galaxies(resolved), digest)
