#!/usr/bin/env python
"""Benchmark resampling on the real fixture frames (run 2583, camcol 2, field 136).

One run, same frames, same positions:
  * cutouts/s per core, 1 band, 1 frame, 64x64: ours (frame in memory), SWarp (one
    process per cutout, as P19 ran it, -NTHREADS 1) and reproject_interp(order='bicubic');
  * where our time goes: bz2 decompression + FITS parse, sep background, pixel mapping,
    Lanczos kernel;
  * full 5-band cubes/s for a partition-like batch, decompression included;
  * peak resident memory.

    .venv/bin/python benchmarks/bench_resample.py --cutouts 200 --swarp-cutouts 20
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from photoz.frames.reader import background_rms, read_frame  # noqa: E402
from photoz.resample import lanczos  # noqa: E402
from photoz.resample.swarp import available, decompress, swarp_cutout  # noqa: E402

FIXTURES = Path(os.environ.get("PHOTOZ_SDSS_FIXTURES", REPO.parent / "shared" / "data" / "sdss"))
FRAME = "dr12/boss/photoObj/frames/301/2583/2/frame-{}-002583-2-0136.fits.bz2"


def timed(fn, repeat: int = 1) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cutouts", type=int, default=200)
    parser.add_argument("--swarp-cutouts", type=int, default=20)
    args = parser.parse_args()
    if not (FIXTURES / "dr12").is_dir():
        print(f"no fixture frames in {FIXTURES}")
        return 1
    path = FIXTURES / FRAME.format("r")
    t_read = timed(lambda: read_frame(path))
    frame = read_frame(path)
    wcs = frame.wcs
    rng = np.random.default_rng(0)
    x, y = rng.uniform(40, 2008, args.cutouts), rng.uniform(40, 1450, args.cutouts)
    ra, dec = wcs.all_pix2world(x, y, 1)
    t_back = timed(lambda: background_rms(frame.image))
    backsig = background_rms(frame.image)
    lanczos.resample_frame(frame.image, wcs, ra[:4], dec[:4], backsig)  # warm-up
    t_ours = (
        timed(lambda: lanczos.resample_frame(frame.image, wcs, ra, dec, backsig), repeat=3) / args.cutouts
    )
    t_map = timed(lambda: lanczos.map_approx(wcs, ra, dec), repeat=3) / args.cutouts
    mx, my = lanczos.map_approx(wcs, ra, dec)
    t_kernel = timed(lambda: lanczos.interpolate(frame.image, mx, my), repeat=3) / args.cutouts
    print(
        f"ours      : {1 / t_ours:8.0f} cutouts/s/core ({t_ours * 1e3:.2f} ms: mapping {t_map * 1e3:.2f} ms, "
        f"kernel {t_kernel * 1e3:.2f} ms)"
    )
    print(f"  per frame: read+decompress {t_read:.2f} s, sep background {t_back * 1e3:.0f} ms")

    from astropy.wcs import WCS
    from reproject import reproject_interp

    def out_wcs(r, d):
        w = WCS(naxis=2)
        w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        w.wcs.crpix = [32.5, 32.5]
        w.wcs.crval = [r, d]
        w.wcs.cd = [[-lanczos.OUTPUT_SCALE_DEG, 0], [0, lanczos.OUTPUT_SCALE_DEG]]
        return w

    n_rep = min(50, args.cutouts)
    t_rep = (
        timed(
            lambda: [
                reproject_interp(
                    (frame.image, wcs), out_wcs(ra[k], dec[k]), shape_out=(64, 64), order="bicubic"
                )
                for k in range(n_rep)
            ]
        )
        / n_rep
    )
    print(
        f"reproject : {1 / t_rep:8.0f} cutouts/s/core (bicubic, {t_rep * 1e3:.2f} ms)   ours/reproject = "
        f"{t_rep / t_ours:.1f}x"
    )
    if available():
        with tempfile.TemporaryDirectory() as tmp:
            raw = decompress(path, tmp)
            swarp_cutout([raw], float(ra[0]), float(dec[0]))  # warm the page cache
            n_sw = min(args.swarp_cutouts, args.cutouts)
            t_sw = (
                timed(lambda: [swarp_cutout([raw], float(ra[k]), float(dec[k])) for k in range(n_sw)]) / n_sw
            )
        print(
            f"SWarp     : {1 / t_sw:8.1f} cutouts/s/core ({t_sw * 1e3:.1f} ms per process)   ours/SWarp = "
            f"{t_sw / t_ours:.0f}x"
        )
    else:
        print("SWarp     : not installed (Debian package swarp)")

    # A partition-like batch: 5 bands, every frame decompressed, all cutouts, combined.
    t0 = time.perf_counter()
    for band in "ugriz":
        f = read_frame(FIXTURES / FRAME.format(band))
        v, w = lanczos.resample_frame(f.image, f.wcs, ra, dec, background_rms(f.image))
        lanczos.combine(v[None, 0], w[None, 0])
    dt = time.perf_counter() - t0
    print(
        f"cubes     : {args.cutouts / dt:8.1f} 5-band cubes/s/core for {args.cutouts} galaxies on one field, "
        f"decompression included ({dt:.1f} s)"
    )
    print(f"peak RSS  : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
