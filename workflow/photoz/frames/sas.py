"""Where SDSS corrected frames live: Science Archive Server paths and URLs.

DR12 SAS pattern (astroquery ``IMAGING_URL_SUFFIX``):
``{base}/dr12/boss/photoObj/frames/{rerun}/{run}/{camcol}/frame-{band}-{run:06d}-{camcol}-{field:04d}.fits.bz2``.
The local cache mirrors the same tree under a root directory.
"""

from __future__ import annotations

from pathlib import PurePosixPath

SAS_BASE_URL = "https://data.sdss.org/sas"


def _instrument(release: int) -> str:
    if release <= 12:
        return "boss"
    if release <= 17:
        return "eboss"
    return "prior-surveys/sdss4-dr17-eboss"


SAS_SUFFIX = ".fits.bz2"
# Rendered frames are gzipped (level 1) instead: bz2 cost 2.2 s to write and 0.6-1.1 s to
# read per frame, gzip 0.5 s and 0.15 s (8.0 vs 5.6 MB), the largest cost of a default run;
# .fits.gz is also what FITS tools (cfitsio, ds9, astropy) open directly.
SYNTHETIC_SUFFIX = ".fits.gz"


def frame_relpath(
    run: int,
    rerun: int | str,
    camcol: int,
    field: int,
    band: str,
    release: int = 12,
    suffix: str = SAS_SUFFIX,
) -> str:
    """SAS-relative path of a corrected frame, e.g. ``dr12/boss/photoObj/frames/301/...``
    (``suffix``: ``.fits.bz2`` as on the SAS; the synthetic survey writes ``.fits.gz``)."""
    return str(
        PurePosixPath(f"dr{release}", _instrument(release), "photoObj", "frames")
        / str(rerun)
        / str(int(run))
        / str(int(camcol))
        / f"frame-{band}-{int(run):06d}-{int(camcol)}-{int(field):04d}{suffix}"
    )


def frame_url(relpath: str, base_url: str = SAS_BASE_URL) -> str:
    """Remote URL of a SAS-relative path."""
    return f"{base_url.rstrip('/')}/{relpath}"
