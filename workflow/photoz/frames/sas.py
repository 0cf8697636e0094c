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


def frame_relpath(run: int, rerun: int | str, camcol: int, field: int, band: str, release: int = 12) -> str:
    """SAS-relative path of a corrected frame, e.g. ``dr12/boss/photoObj/frames/301/...``."""
    return str(
        PurePosixPath(f"dr{release}", _instrument(release), "photoObj", "frames")
        / str(rerun)
        / str(int(run))
        / str(int(camcol))
        / f"frame-{band}-{int(run):06d}-{int(camcol)}-{int(field):04d}.fits.bz2"
    )


def frame_url(relpath: str, base_url: str = SAS_BASE_URL) -> str:
    """Remote URL of a SAS-relative path."""
    return f"{base_url.rstrip('/')}/{relpath}"
