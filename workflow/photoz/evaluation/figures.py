"""Report figures (matplotlib, Agg, PNG). Each function draws one figure into a path.

Inputs are the method tables of :mod:`.samples` and the metrics of
:func:`.stage.evaluate_methods` (or :func:`.stage.read_metrics`).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from astropy.visualization import make_lupton_rgb  # noqa: E402

from ..io import atomic_path  # noqa: E402
from ..metrics.diagnostics import TOMOGRAPHIC_REQUIREMENT, pit_histogram  # noqa: E402
from ..metrics.pdf import bin_midpoints  # noqa: E402

DPI = 110


def _save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)


def _colours(methods: list[str]) -> dict[str, str]:
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {m: cycle[i % len(cycle)] for i, m in enumerate(methods)}


def zphot_vs_zspec(tables: dict[str, pd.DataFrame], metrics: dict, z_max: float, path) -> None:
    """Density of z_phot against z_spec, one panel per method, with its summary numbers."""
    ncols = min(4, len(tables))
    nrows = -(-len(tables) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.6 * nrows), squeeze=False)
    for ax in axes.ravel()[len(tables) :]:
        ax.set_axis_off()
    for ax, (name, table) in zip(axes.ravel()[: len(tables)], tables.items(), strict=True):
        ax.hist2d(
            table["z_spec"], table["z_phot"], bins=60, range=[[0, z_max], [0, z_max]], cmin=1, cmap="viridis"
        )
        ax.plot([0, z_max], [0, z_max], color="k", lw=0.7)
        full = metrics[name]["subsets"].iloc[0]
        ax.set_title(name)
        ax.text(
            0.03,
            0.97,
            f"$\\sigma_{{MAD}}$ = {full['sigma_mad']:.4f}\nbias = {full['bias']:+.4f}\n"
            f"$\\eta$ = {100 * full['outlier_fraction']:.2f}%",
            transform=ax.transAxes,
            va="top",
            fontsize=8,
        )
        ax.set_xlabel("z_spec")
        ax.set_ylabel("z_phot")
        ax.set_aspect("equal")
    _save(fig, path)


def residuals(metrics: dict, path) -> None:
    """Binned mean residual against z_spec and against z_phot, every method."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    colours = _colours(list(metrics))
    for name, res in metrics.items():
        for ax, kind in zip(axes, ("residual_vs_zspec", "residual_vs_zphot"), strict=True):
            b = res[kind]
            b = b[b["n"] > 0]
            ax.errorbar(
                b["z"], b["mean_residual"], b["error"], fmt="o-", ms=3, lw=1, label=name, color=colours[name]
            )
    for ax, label in zip(axes, ("z_spec", "z_phot"), strict=True):
        ax.axhline(0, color="k", lw=0.7)
        ax.set_xlabel(label)
    axes[0].set_ylabel("mean $\\Delta z$")
    axes[0].legend(fontsize=8)
    _save(fig, path)


def pit_histograms(tables: dict[str, pd.DataFrame], path, n_bins: int = 20) -> None:
    """PIT histograms of the methods with PDFs (flat = calibrated)."""
    names = [n for n, t in tables.items() if "pit" in t]
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(3.4 * max(len(names), 1), 3), squeeze=False)
    for ax, name in zip(axes[0], names, strict=False):
        density = pit_histogram(tables[name]["pit"].to_numpy(), n_bins)
        ax.stairs(density, np.linspace(0, 1, n_bins + 1), fill=True, alpha=0.7)
        ax.axhline(1, color="k", lw=0.7)
        ax.set_title(name)
        ax.set_xlabel("PIT")
    axes[0, 0].set_ylabel("density")
    _save(fig, path)


def redshift_distributions(tables: dict[str, pd.DataFrame], z_max: float, path) -> None:
    """n(z) of z_phot of every method over the z_spec histogram (mode collapse)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    edges = np.linspace(0, z_max, 81)
    first = next(iter(tables.values()))
    ax.hist(first["z_spec"], edges, color="0.8", label="z_spec")
    colours = _colours(list(tables))
    for name, table in tables.items():
        ax.hist(table["z_phot"], edges, histtype="step", lw=1.3, color=colours[name], label=f"z_phot {name}")
    ax.set_xlabel("z")
    ax.set_ylabel("galaxies per bin")
    ax.legend(fontsize=8)
    _save(fig, path)


def sigma_mad_vs(metrics: dict, kind: str, xlabel: str, path, log_x: bool = False) -> None:
    """sigma_MAD in bins (of r or SNR) with bootstrap errors, every method."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    colours = _colours(list(metrics))
    for name, res in metrics.items():
        b = res[kind]
        b = b[b["n"] >= 2]  # plotted at the median value of the bin's galaxies
        ax.errorbar(
            b["median"], b["sigma_mad"], b["error"], fmt="o-", ms=3, lw=1, color=colours[name], label=name
        )
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("$\\sigma_{MAD}$")
    ax.legend(fontsize=8)
    _save(fig, path)


def tomographic_offsets(metrics: dict, path) -> None:
    """delta<z> per tomographic z_phot bin against the +-0.002 requirement."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    colours = _colours(list(metrics))
    for k, (name, res) in enumerate(metrics.items()):
        b = res["tomographic"]
        b = b[b["n"] > 0]
        x = 0.5 * (b["lo"] + b["hi"]) + 0.002 * (k - len(metrics) / 2)
        ax.errorbar(x, b["delta_mean_z"], b["error"], fmt="o", ms=4, color=colours[name], label=name)
    ax.axhspan(-TOMOGRAPHIC_REQUIREMENT, TOMOGRAPHIC_REQUIREMENT, color="0.85", label="|δ<z>| < 0.002")
    ax.axhline(0, color="k", lw=0.7)
    ax.set_xlabel("z_phot bin")
    ax.set_ylabel("δ<z> = (<z_phot> - <z_spec>) / (1 + <z_spec>)")
    ax.legend(fontsize=8)
    _save(fig, path)


def gri_composite(cube: np.ndarray) -> np.ndarray:
    """An RGB image (H, W, 3) uint8 of a (5, H, W) ugriz cube: i, r, g as R, G, B with
    Lupton et al. (2004) asinh scaling (astropy)."""
    g, r, i = cube[1], cube[2], cube[3]
    return make_lupton_rgb(i, r, g, stretch=0.5, Q=8, minimum=0.0)


def gallery(
    examples: pd.DataFrame, cubes: dict[int, np.ndarray], tables: dict[str, pd.DataFrame], z_max: float, path
) -> None:
    """Example galaxies: gri composite beside each PDF method's PDF and the true z.

    ``examples`` has objid and z_spec; ``cubes`` maps objid to its (5, 64, 64) cube.
    """
    n = len(examples)
    fig, axes = plt.subplots(
        n, 2, figsize=(7, 1.9 * n), gridspec_kw={"width_ratios": [1, 2.6]}, squeeze=False
    )
    colours = _colours(list(tables))
    for row, (objid, z_spec) in enumerate(zip(examples["objid"], examples["z_spec"], strict=True)):
        axes[row, 0].imshow(gri_composite(cubes[int(objid)]), origin="lower")
        axes[row, 0].set_axis_off()
        axes[row, 0].set_title(f"{int(objid)}  z = {z_spec:.3f}", fontsize=7)
        ax = axes[row, 1]
        for name, table in tables.items():
            if "pdf" not in table:
                continue
            pdf = np.asarray(table.loc[table["objid"] == objid, "pdf"].iloc[0], dtype=np.float64)
            z_lo, z_hi = table.attrs.get("pdf_range", (0.0, z_max))
            mids = bin_midpoints(len(pdf), z_min=z_lo, z_max=z_hi)
            density = pdf / pdf.sum() / ((z_hi - z_lo) / len(pdf))  # per unit z: grids differ
            ax.plot(mids, density, lw=1, color=colours[name], label=name)
        ax.axvline(z_spec, color="k", ls="--", lw=1, label="z_spec")
        ax.set_xlim(0, z_max)
        ax.tick_params(labelsize=7)
    axes[0, 1].legend(fontsize=7, ncol=3)
    axes[-1, 1].set_xlabel("z")
    _save(fig, path)


def training_curves(histories: dict[str, pd.DataFrame], path) -> None:
    """Training and validation loss, and validation sigma_MAD, per (fold, member);
    ``histories`` is keyed "fold{k}/member{m}/...", coloured by fold."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    colour = {fold: f"C{k % 10}" for k, fold in enumerate(sorted({h.split("/")[0] for h in histories}))}
    for label, h in histories.items():
        c = colour[label.split("/")[0]]
        axes[0].plot(h["step"], h["train_loss"], color=c, lw=0.8, alpha=0.5)
        axes[0].plot(h["step"], h["val_loss"], color=c, lw=0.8, ls="--", alpha=0.8)
        axes[1].plot(h["step"], h["val_sigma_mad"], color=c, lw=0.8, alpha=0.7, marker="o", ms=2)
    axes[0].set_ylabel("cross-entropy (solid: training, dashed: validation)")
    axes[1].set_ylabel("validation $\\sigma_{MAD}$")
    for ax in axes:
        ax.set_xlabel("step")
    for fold, c in colour.items():
        axes[1].plot([], [], color=c, label=fold)
    axes[1].legend(fontsize=7)
    _save(fig, path)
