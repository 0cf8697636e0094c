"""Galaxy spectra from the SDSS-derived kcorrect template basis, through SDSS responses.

Blanton & Roweis (2007) fitted five non-negative spectral templates to SDSS galaxies;
the ``kcorrect`` package ships them with the real SDSS ugriz responses (2.5 m telescope,
1.3 airmass). A galaxy's spectrum is a non-negative combination of the templates, so
its colours, K-corrections and emission lines follow from the coefficients and the
redshift: nothing is assigned from z directly. kcorrect's own projection tables (its
``Amatrix``) are used, over the redshift range the survey and its faint field need.

Magnitudes: kcorrect works in AB; SDSS catalogs and frames are on the SDSS "database"
system, offset from AB by a few hundredths (Eisenstein, sdss-calib/1152). The synthetic
sky is on the database system, like the real one, so catalog magnitudes compare with
SDSS's directly.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..constants import BANDS

#: m_AB - m_database per band (kcorrect.utils.sdss_ab_correct).
AB_MINUS_SDSS = np.array([-0.036, 0.012, 0.010, 0.028, 0.040])
#: Absolute magnitudes are in the r band shifted to z = 0.1, like Blanton et al. (2003).
BAND_SHIFT = 0.1
#: Redshift range of the projection tables (the faint field reaches z ~ 1.2).
Z_RANGE = (0.0, 1.3)
N_Z = 261  # 0.005 steps: interpolation error far below the photometric noise
R_INDEX = BANDS.index("r")


@lru_cache(maxsize=1)
def sdss_kcorrect():
    """kcorrect's SDSS K-correction object (v4 templates, ugriz responses), built once."""
    import kcorrect.kcorrect

    return kcorrect.kcorrect.KcorrectSDSS(redshift_range=list(Z_RANGE), nredshift=N_Z, abcorrect=True)


def observed_maggies_ab(coeffs: np.ndarray, z: np.ndarray) -> np.ndarray:
    """AB maggies in ugriz of template combinations ``coeffs`` (N, 5) at redshifts ``z``."""
    amatrix = sdss_kcorrect().Amatrix(np.clip(np.asarray(z, dtype=np.float64), *Z_RANGE))  # (N, 5, 5)
    return np.einsum("nbt,nt->nb", amatrix, coeffs)


def shifted_r_maggies(coeffs: np.ndarray) -> np.ndarray:
    """Rest-frame AB maggies in the ^{0.1}r band (kcorrect's band-shift convention)."""
    amatrix = sdss_kcorrect().Amatrix(BAND_SHIFT)[R_INDEX]  # (5,)
    return coeffs @ amatrix / (1.0 + BAND_SHIFT)


def ab_to_sdss(maggies_ab: np.ndarray) -> np.ndarray:
    """AB maggies (..., 5) to the SDSS database system."""
    return maggies_ab * 10.0 ** (0.4 * AB_MINUS_SDSS)


def template_rest_colours() -> np.ndarray:
    """Rest-frame ^{0.1}(g - r) of each template (redder templates: older stars)."""
    eye = np.eye(sdss_kcorrect().templates.nsed)
    m = -2.5 * np.log10(observed_maggies_ab(eye, np.full(eye.shape[0], BAND_SHIFT)))
    return m[:, BANDS.index("g")] - m[:, R_INDEX]
