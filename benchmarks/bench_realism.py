#!/usr/bin/env python
"""How close the synthetic sky is to real SDSS galaxies (the realism table of docs/).

Compares the validation half (RA >= 180 deg) of the real SDSS galaxies shipped with
kcorrect against a synthetic catalog of the default survey, both cut to the same
MGS-like selection and size: kNN photo-z sigma_MAD and outliers, red-sequence and r-i
widths at 0.08 < z < 0.10, the z > 0.25 fraction, the classifier two-sample AUC,
colour medians and robust widths per z bin of 0.04 and the r distribution. Two
comparisons: at the same (r, z) distribution (the like-with-like one: the kcorrect
galaxies are 2MASS-matched and lack faint low-z galaxies; see realism.py) and as drawn.
Also prints how often another bright target shares a 64x64 cutout. Nothing is fitted to
the validation half (``--half calibration`` shows the half the sky is calibrated on).

    .venv/bin/python benchmarks/bench_realism.py --seed 20190101
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow"))

from photoz import realism  # noqa: E402
from photoz.config import load_config  # noqa: E402
from photoz.skycells import unit_vectors  # noqa: E402
from photoz.synthetic.calibration import read_real_galaxies, resolve_calibration_file  # noqa: E402


def cutout_sharing_fraction(catalog: pd.DataFrame) -> float:
    """Fraction of galaxies with another catalog galaxy inside their 64x64 cutout."""
    from scipy.spatial import cKDTree

    half = 32 * 0.396 / 3600.0
    xyz = unit_vectors(catalog["ra"].to_numpy(), catalog["dec"].to_numpy())
    pairs = cKDTree(xyz).query_pairs(2 * np.sin(np.radians(half * np.sqrt(2)) / 2), output_type="ndarray")
    ra, dec = catalog["ra"].to_numpy(), catalog["dec"].to_numpy()
    d_ra = ((ra[pairs[:, 0]] - ra[pairs[:, 1]] + 180) % 360 - 180) * np.cos(np.radians(dec[pairs[:, 0]]))
    inside = (np.abs(d_ra) < half) & (np.abs(dec[pairs[:, 0]] - dec[pairs[:, 1]]) < half)
    return np.unique(pairs[inside]).size / len(catalog)


def print_comparison(title: str, comp: realism.Comparison) -> None:
    print(f"\n## {title} (n = {comp.n} each)\n")
    print(f"{'statistic':<28}{'real':>10}{'synthetic':>11}{'ratio':>8}")
    for name, (real, syn) in comp.stats.items():
        print(f"{name:<28}{real:>10.4f}{syn:>11.4f}{syn / real:>8.2f}")
    print(f"{'classifier AUC':<28}{'':>10}{comp.auc:>11.3f}")
    with pd.option_context("display.width", 200, "display.precision", 3, "display.max_columns", 40):
        print("\nper z bin (>= 100 real galaxies): synthetic - real medians, synthetic / real widths")
        print(comp.colour_offsets().to_string(index=False))
        print("\ncolour medians and robust widths, real:")
        print(comp.colours_real.to_string(index=False))
        print("synthetic:")
        print(comp.colours_synthetic.to_string(index=False))
    edges, h_real, h_syn = comp.r_hist
    print("\nr distribution (dereddened Petrosian, bins of 0.25 from 13):")
    print("  real     ", " ".join(f"{v:4d}" for v in h_real))
    print("  synthetic", " ".join(f"{v:4d}" for v in h_syn))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=20190101, help="synthetic survey seed")
    parser.add_argument("--synthetic-size", type=int, default=15000, help="~3x the real half")
    parser.add_argument("--half", choices=["validation", "calibration"], default="validation")
    parser.add_argument("--config", default=str(REPO / "config.yaml"))
    args = parser.parse_args()
    synthetic_cfg = load_config(args.config)["synthetic"]
    t0 = time.perf_counter()
    synthetic = realism.synthetic_sample(synthetic_cfg, args.synthetic_size, args.seed)
    t_sim = time.perf_counter() - t0
    real = realism.real_catalog(
        read_real_galaxies(resolve_calibration_file(synthetic_cfg["calibration_file"])), args.half
    )
    print(f"# synthetic sky vs real SDSS ({args.half} half of the kcorrect galaxies), seed {args.seed}")
    print(f"synthetic catalog: {len(synthetic)} galaxies in {t_sim:.1f} s ({len(synthetic) / t_sim:.0f}/s)")
    print_comparison("at the same (r, z) distribution", realism.compare(real, synthetic, match="rz"))
    print_comparison("as drawn (no matching)", realism.compare(real, synthetic, match=None))
    boost = synthetic_cfg["density_boost"]
    print(
        f"\ncutouts holding another catalog galaxy: {cutout_sharing_fraction(synthetic):.4f} "
        f"(density boost {boost:g}; at the real MGS density, ~69 deg^-2: 0.0034)"
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
