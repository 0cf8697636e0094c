"""The reference backend: the SWarp 2.41.5 binary (Debian package ``swarp``).

One SWarp process per (galaxy, band), as P19 ran it: all overlapping frames of the band
in, one 64x64 LANCZOS3 cutout out, background subtraction off, everything else at
SWarp's defaults except the explicit 0.396"/px scale. SWarp cannot read ``.bz2`` (nor ``.gz``), so
frames are decompressed once to a scratch directory; each process gets a private
RESAMPLE_DIR so that parallel runs never share temporary files.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from astropy.io import fits

from ..errors import SWarpError  # noqa: F401  (raised here; re-exported)

SWARP = "/usr/bin/SWarp"


def available() -> bool:
    """Whether the SWarp binary is installed."""
    return Path(SWARP).is_file() or shutil.which("SWarp") is not None


def decompress(frame_path: str | Path, scratch: str | Path) -> Path:
    """Write an uncompressed copy of a ``.fits.bz2`` or ``.fits.gz`` frame into ``scratch``."""
    from ..frames.reader import open_fits

    frame_path = Path(frame_path)
    out = Path(scratch) / frame_path.name.removesuffix(".bz2").removesuffix(".gz")
    if not out.exists():
        with open_fits(frame_path) as hdul:
            hdul.writeto(out)
    return out


def swarp_cutout(
    frames: list[str | Path],
    ra: float,
    dec: float,
    combine: str = "MEDIAN",
    size: int = 64,
    nthreads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Run SWarp on uncompressed ``frames`` (HDU 0 each); return (image, weight) float32."""
    binary = SWARP if Path(SWARP).is_file() else shutil.which("SWarp")
    with tempfile.TemporaryDirectory(prefix="swarp-") as work:
        work_dir = Path(work)
        cmd = [
            binary,
            *[f"{Path(f).resolve()}[0]" for f in frames],
            "-c",
            "/dev/null",
            "-IMAGEOUT_NAME",
            str(work_dir / "cut.fits"),
            "-WEIGHTOUT_NAME",
            str(work_dir / "cut.weight.fits"),
            "-CENTER_TYPE",
            "MANUAL",
            "-CENTER",
            f"{ra:.10f},{dec:.10f}",
            "-PIXELSCALE_TYPE",
            "MANUAL",
            "-PIXEL_SCALE",
            "0.396",
            "-IMAGE_SIZE",
            f"{size},{size}",
            "-PROJECTION_TYPE",
            "TAN",
            "-CELESTIAL_TYPE",
            "EQUATORIAL",
            "-RESAMPLING_TYPE",
            "LANCZOS3",
            "-SUBTRACT_BACK",
            "N",
            "-COMBINE_TYPE",
            combine,
            "-RESAMPLE_DIR",
            str(work_dir),
            "-WRITE_XML",
            "N",
            "-VERBOSE_TYPE",
            "QUIET",
            "-NTHREADS",
            str(nthreads),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not (work_dir / "cut.fits").exists():
            raise SWarpError(
                f"SWarp failed (rc={proc.returncode}): {proc.stderr.strip()[:500]} :: {' '.join(cmd)}"
            )
        image = fits.getdata(work_dir / "cut.fits").astype(np.float32)
        weight = fits.getdata(work_dir / "cut.weight.fits").astype(np.float32)
    return image, weight
