"""The pipeline's stages as commands: their options and the library call each makes.

One entry per Snakemake rule, under the rule's name; the script
``workflow/scripts/<rule>.py`` and ``photoz <rule>`` both run it through
:func:`photoz.cli.run_stage`, and each calls the library function of the same name
(``query_catalog`` -> :func:`photoz.catalog.query.query_catalog`, ...). Library imports
happen inside the runners so that ``--help`` does not start TensorFlow.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("photoz.stages")

Runner = Callable[[argparse.Namespace, dict[str, Any]], None]


@dataclass(frozen=True)
class Stage:
    """A stage command: its description (with a by-hand example), options and runner."""

    description: str
    options: list[tuple[tuple[str, ...], dict[str, Any]]]
    run: Runner
    config: bool = True  # reads the pipeline config (--configfile / --params-json)


def _opt(*flags: str, **kwargs: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    return flags, kwargs


def _query_catalog(args, config):
    from .catalog.query import query_catalog

    query_catalog(config, args.catalog, args.rejected, args.without_spectra)


def _query_targets(args, config):
    from .catalog.targets import query_targets

    query_targets(config, args.training_catalog, args.without_spectra, args.catalog, args.rejected)


def _plan_partitions(args, config):
    import numpy as np

    from .partitions import PartitionParams, plan_partitions

    parts = plan_partitions(args.catalog, args.outdir, PartitionParams.from_config(config["partitions"]))
    sizes = np.bincount(parts)
    log.info("%d partitions, %d galaxies, largest %d", sizes.size, sizes.sum(), sizes.max())


def _list_partitions(args, config):
    from .partitions import list_partitions

    list_partitions(args.partitions, args.out)


def _index_frames(args, config):
    from .frames.stage import index_frames

    index_frames(config, args.partition, args.out, args.frames_dir)


def _fetch_frames(args, config):
    from .frames.stage import fetch_frames

    manifest = fetch_frames(
        config, args.index, args.catalog, args.manifest, args.threads, args.without_spectra
    )
    failed = int((manifest["status"] == "failed").sum())
    log.info("%d frames, %d failed", len(manifest), failed)


def _resample_cubes(args, config):
    from .resample.stage import resample_cubes

    resample_cubes(config, args.partition, args.index, args.manifest, args.out, args.missing)


def _build_dataset(args, config):
    from .dataset.shards import verify_manifest
    from .dataset.stage import build_dataset

    if args.verify:
        manifest = verify_manifest(args.verify)
        log.info("%d files verified against %s", len(manifest), args.verify)
        return
    needed = ("catalog", "cubes", "out_catalog", "manifest", "shards", "parquet")
    absent = [f"--{n.replace('_', '-')}" for n in needed if not getattr(args, n)]
    if absent:
        raise UsageError(f"missing arguments: {' '.join(absent)}")
    build_dataset(
        config, args.catalog, args.cubes, args.out_catalog, args.manifest, args.shards, args.parquet
    )


def _knn_photometry(args, config):
    from .models.knn import knn_photometry

    knn_photometry(config, args.dataset_catalog, args.out)


def _train(args, config):
    from .models.member import method_train_params
    from .models.train import train_members

    if len(args.out_dir) != len(args.member) or args.init_from and len(args.init_from) != len(args.member):
        raise UsageError(
            f"train: {len(args.member)} --member, {len(args.out_dir)} --out-dir and "
            f"{len(args.init_from or [])} --init-from values: give one --out-dir (and --init-from) per member"
        )
    params = method_train_params(config, args.method)
    train_members(params, args.manifest, args.fold, args.member, args.out_dir, args.init_from)


def _train_heads(args, config):
    from .lin2022.heads import HeadParams, train_heads
    from .models.member import method_train_params

    train_heads(
        args.method,
        method_train_params(config, "step1"),
        HeadParams.from_config(config["lin2022"]),
        args.manifest,
        args.dataset_catalog,
        args.fold,
        args.member,
        args.step1,
        args.out_dir,
        args.pre_estimates,
    )


def _predict(args, config):
    from .models.predict import predict

    if len(args.members) != len(args.out):
        raise UsageError("give one --out file per --members directory")
    if args.cubes and not args.catalog:
        raise UsageError("--cubes needs --catalog (for E(B-V))")
    if not args.cubes and (args.manifest is None or args.fold is None):
        raise UsageError("pipeline mode needs --manifest and --fold")
    predict(args.members, args.out, args.manifest, args.fold, args.cubes, args.catalog, args.threads)


def _ensemble(args, config):
    from .models.ensemble import ensemble

    ensemble(args.predictions, args.dataset_catalog, args.out)


def _calibrate(args, config):
    from .lin2022.calibration import calibrate

    lin = config["lin2022"]
    calibrate(
        args.photoz,
        args.dataset_catalog,
        args.out,
        lin["calibration_z_width"],
        config["training"]["z_max"],
        lin["seed"],
        resample=lin["calibration_resample"],
    )


def _evaluate(args, config):
    from .evaluation.stage import evaluate

    files = {Path(p).stem: p for p in args.photoz}
    cfg = {**config["evaluate"], "z_max": config["training"]["z_max"]}
    evaluate(files, args.dataset_catalog, args.catalog, args.out_dir, cfg)


def _report(args, config):
    from .evaluation.report import report

    files = {Path(p).stem: p for p in args.photoz}
    report(args.metrics, files, args.dataset_catalog, args.manifest, args.histories, config, args.out_dir)


def _export_cutouts(args, config):
    from .export import export_cutouts

    written = export_cutouts(args.cubes, args.catalog, args.objids, args.out_dir)
    log.info("%d cutouts written to %s", len(written), args.out_dir)


def _export_photoz(args, config):
    from .export import export_photoz

    if not (args.fits or args.qp):
        raise UsageError("give --fits and/or --qp")
    export_photoz(args.photoz, args.fits, args.qp, args.catalog)


def _apply_models(args, config):
    from .targets import apply_members

    apply_members(
        args.members, args.cubes, args.catalog, args.out, args.method, args.threads, args.training_catalog
    )


def _list_missing_targets(args, config):
    from .targets import list_missing_targets

    table = list_missing_targets(args.rejected, args.catalog, args.cubes, args.missing, args.out)
    log.info("%d targets without full data", table["objid"].nunique())


def _calibrate_targets(args, config):
    from .targets import calibrate_targets

    lin = config["lin2022"]
    calibrate_targets(
        args.photoz,
        args.cv_photoz,
        args.dataset_catalog,
        args.catalog,
        args.out,
        lin["calibration_z_width"],
        config["training"]["z_max"],
        lin["seed"],
        args.method,
    )


class UsageError(ValueError):
    """The command line is incomplete or contradictory (reported like argparse's errors)."""


DATASET_CATALOG = _opt("--dataset-catalog", required=True, help="results/dataset/catalog.parquet")

STAGES: dict[str, Stage] = {
    "query_catalog": Stage(
        "Stage 1: run the P19 catalog query (or simulate it) and write the catalog.\n\n"
        "Example: photoz query_catalog --configfile config.yaml",
        [
            _opt("--catalog", default="results/catalog/catalog.parquet", help="output catalog"),
            _opt("--rejected", default="results/catalog/rejected.parquet", help="output: rejected rows"),
            _opt(
                "--without-spectra",
                default="results/catalog/without_spectra.parquet",
                help="output: the synthetic sky's galaxies without spectra (empty for SDSS)",
            ),
        ],
        _query_catalog,
    ),
    "query_targets": Stage(
        "Stage 1 for galaxies without spectra (targets.backend: synthetic, file, skyserver or\n"
        "casjobs): the target catalog, on the training catalog's sky.\n\n"
        "Example: photoz query_targets --configfile config.yaml",
        [
            _opt("--training-catalog", default="results/catalog/catalog.parquet", help="input: its sky"),
            _opt(
                "--without-spectra",
                default="results/catalog/without_spectra.parquet",
                help="input: the synthetic sky's galaxies without spectra",
            ),
            _opt("--catalog", default="results/targets/catalog/catalog.parquet", help="output catalog"),
            _opt(
                "--rejected", default="results/targets/catalog/rejected.parquet", help="output: rejected rows"
            ),
        ],
        _query_targets,
    ),
    "plan_partitions": Stage(
        "Stage 2: split the catalog into compact sky partitions (one Parquet file each).\n\n"
        "Example: photoz plan_partitions --configfile config.yaml",
        [
            _opt("--catalog", default="results/catalog/catalog.parquet", help="input catalog"),
            _opt("--outdir", default="results/partitions", help="output directory"),
        ],
        _plan_partitions,
    ),
    "list_partitions": Stage(
        "Summarise the planned partitions (galaxy count and sky extent of each) as TSV.\n\n"
        "Example: photoz list_partitions results/partitions/*.parquet",
        [
            _opt("partitions", nargs="+", help="partition Parquet files"),
            _opt("--out", default="results/catalog/partitions.tsv", help="output TSV"),
        ],
        _list_partitions,
        config=False,
    ),
    "index_frames": Stage(
        "Stage 3: index every frame (all runs, epochs and bands) overlapping each galaxy's cutout.\n\n"
        "Example: photoz index_frames --configfile config.yaml \\\n"
        "    --partition results/partitions/part0000.parquet \\\n"
        "    --out results/frames/index/part0000.parquet --frames-dir resources/frames/partitions/part0000",
        [
            _opt("--partition", required=True, help="partition catalog (Parquet)"),
            _opt("--out", required=True, help="output index (Parquet)"),
            _opt("--frames-dir", required=True, help="the partition's frame directory"),
        ],
        _index_frames,
    ),
    "fetch_frames": Stage(
        "Stage 4: render (synthetic survey) or download (SDSS SAS) a partition's indexed frames.\n\n"
        "Example: photoz fetch_frames --configfile config.yaml \\\n"
        "    --index results/frames/index/part0000.parquet \\\n"
        "    --manifest results/frames/manifest/part0000.parquet --threads 2",
        [
            _opt("--index", required=True, help="the partition's frame index (Parquet)"),
            _opt("--catalog", default="results/catalog/catalog.parquet", help="training catalog (the sky)"),
            _opt(
                "--without-spectra",
                default="results/catalog/without_spectra.parquet",
                help="the synthetic sky's galaxies without spectra (rendered too)",
            ),
            _opt("--manifest", required=True, help="output manifest (Parquet)"),
            _opt("--threads", type=int, default=1, help="parallel renderers / downloads"),
        ],
        _fetch_frames,
    ),
    "resample_cubes": Stage(
        "Stage 5: resample every indexed frame into 5-band 64x64 cubes (Lanczos-3, SWarp-identical).\n\n"
        "Example: photoz resample_cubes --configfile config.yaml \\\n"
        "    --partition results/partitions/part0000.parquet \\\n"
        "    --index results/frames/index/part0000.parquet \\\n"
        "    --manifest results/frames/manifest/part0000.parquet \\\n"
        "    --out results/cubes/part0000.parquet --missing results/cubes/part0000.missing.tsv",
        [
            _opt("--partition", required=True, help="partition catalog (Parquet)"),
            _opt("--index", required=True, help="frame index of the partition"),
            _opt("--manifest", required=True, help="fetch manifest of the partition"),
            _opt("--out", required=True, help="output cubes (Parquet)"),
            _opt("--missing", required=True, help="output: (galaxy, band) pairs without data (TSV)"),
        ],
        _resample_cubes,
    ),
    "build_dataset": Stage(
        "Stage 6: assign the cross-validation folds and write TFRecord shards, their Parquet\n"
        "twins, a manifest with checksums and the dataset catalog.\n\n"
        "Example: photoz build_dataset --configfile config.yaml \\\n"
        "    --catalog results/catalog/catalog.parquet --cubes results/cubes/part*.parquet \\\n"
        "    --out-catalog results/dataset/catalog.parquet --manifest results/dataset/manifest.tsv \\\n"
        "    --shards results/dataset/shards --parquet results/dataset/parquet\n"
        "Check an existing dataset (sizes and SHA-256 of every shard):\n"
        "  photoz build_dataset --verify results/dataset/manifest.tsv",
        [
            _opt("--verify", metavar="MANIFEST", help="only verify the shards of MANIFEST"),
            _opt("--catalog", help="input catalog (Parquet)"),
            _opt("--cubes", nargs="+", help="input cube files, one per partition"),
            _opt("--out-catalog", help="output dataset catalog (Parquet)"),
            _opt("--manifest", help="output shard manifest (TSV)"),
            _opt("--shards", help="output directory of the TFRecord shards"),
            _opt("--parquet", help="output directory of the Parquet shards"),
        ],
        _build_dataset,
    ),
    "knn_photometry": Stage(
        "Photometry-only baseline: k nearest neighbours in (r, u-g, g-r, r-i, i-z) on the\n"
        "CNN's folds, PDFs from the neighbours' redshift histograms.\n\n"
        "Example: photoz knn_photometry --configfile config.yaml \\\n"
        "    --dataset-catalog results/dataset/catalog.parquet --out results/photoz/knn.parquet",
        [DATASET_CATALOG, _opt("--out", required=True, help="output photo-z table (Parquet)")],
        _knn_photometry,
    ),
    "train": Stage(
        "Stage 7: train ensemble members (fold k, members m...) of a network method: the P19\n"
        "classifier (baseline) or L22 step 1 (the same network, multi-channel output); several\n"
        "members one after the other in one process (one start-up, one trace).\n"
        "Each resumes from the latest checkpoint in its OUT_DIR/checkpoints when one exists.\n\n"
        "Example: photoz train --configfile config.yaml \\\n"
        "    --method baseline --manifest results/dataset/manifest.tsv --fold 0 --member 0 1 \\\n"
        "    --out-dir results/models/baseline/fold0/member0 results/models/baseline/fold0/member1",
        [
            _opt("--method", default="baseline", help="baseline | step1"),
            _opt("--manifest", required=True, help="dataset manifest (TSV)"),
            _opt("--fold", type=int, required=True, help="test fold of this model"),
            _opt("--member", type=int, nargs="+", required=True, help="ensemble members (seed indices)"),
            _opt("--out-dir", nargs="+", required=True, help="model directory of each member"),
            _opt("--init-from", nargs="*", help="per member, a trained member whose layers start it"),
        ],
        _train,
    ),
    "train_heads": Stage(
        "Stages 7b-7c: L22 steps 2 and 3 (and variants 3a, 3b) for one (fold k, member m):\n"
        "the redshift heads retrained on the frozen step 1 member, on its near-balanced subset.\n"
        "Resumes from the latest checkpoint in OUT_DIR/checkpoints when one exists.\n\n"
        "Example: photoz train_heads --configfile config.yaml --method step3 \\\n"
        "    --manifest results/dataset/manifest.tsv --dataset-catalog results/dataset/catalog.parquet \\\n"
        "    --fold 0 --member 0 --step1 results/models/step1/fold0/member0 \\\n"
        "    --pre-estimates results/predictions/step2/fold[1-4]/member0.parquet \\\n"
        "    --out-dir results/models/step3/fold0/member0",
        [
            _opt("--method", required=True, help="step2 | step3 | step3a | step3b | step3_unbalanced"),
            _opt("--manifest", required=True, help="dataset manifest (TSV)"),
            DATASET_CATALOG,
            _opt("--fold", type=int, required=True, help="test fold of this model"),
            _opt("--member", type=int, required=True, help="ensemble member (seed and subset index)"),
            _opt("--step1", required=True, help="the step 1 member's model directory"),
            _opt(
                "--pre-estimates",
                nargs="*",
                default=[],
                help="step 2's out-of-fold predictions (step 3 and variants)",
            ),
            _opt("--out-dir", required=True, help="model directory (weights, history, checkpoints)"),
        ],
        _train_heads,
    ),
    "predict": Stage(
        "Stage 8: the PDFs of trained members.\n\n"
        "For the pipeline: every member of a fold on the fold's test galaxies, one Parquet file\n"
        "per member (objid, pdf over the redshift bins):\n"
        "  photoz predict --manifest results/dataset/manifest.tsv --fold 0 \\\n"
        "      --members results/models/baseline/fold0/member{0,1} \\\n"
        "      --out results/predictions/baseline/fold0/member{0,1}.parquet\n"
        "For new galaxies (a trained member applied to any cube files; E(B-V) from a catalog):\n"
        "  photoz predict --members results/models/baseline/fold0/member0 \\\n"
        "      --cubes my_cubes/part*.parquet --catalog my_catalog.parquet --out my_pdfs.parquet",
        [
            _opt("--members", nargs="+", required=True, help="member model directories"),
            _opt("--out", nargs="+", required=True, help="output Parquet file per member"),
            _opt("--manifest", help="dataset manifest (pipeline mode)"),
            _opt("--fold", type=int, help="fold whose test galaxies are predicted"),
            _opt("--cubes", nargs="+", help="cube files to predict instead (new galaxies)"),
            _opt("--catalog", help="catalog with objid and e_bv_sfd for --cubes"),
            _opt("--threads", type=int, default=0, help="CPU threads (0: all)"),
        ],
        _predict,
        config=False,
    ),
    "ensemble": Stage(
        "Stage 9: average each fold's member PDFs; write the method's photo-z table\n"
        "(objid, fold, z_spec, z_phot, pdf, width68, pit, crps, members' z_phot).\n\n"
        "Example: photoz ensemble --configfile config.yaml \\\n"
        "    --predictions results/predictions/baseline/fold*/member*.parquet \\\n"
        "    --dataset-catalog results/dataset/catalog.parquet --out results/photoz/baseline.parquet",
        [
            _opt("--predictions", nargs="+", required=True, help=".../fold<k>/member<m>.parquet files"),
            DATASET_CATALOG,
            _opt("--out", required=True, help="output photo-z table (Parquet)"),
        ],
        _ensemble,
    ),
    "calibrate": Stage(
        "L22 step 4: calibrate a method's photo-z (step 3) in (r, z_phot) cells, fold by fold,\n"
        "with the other folds' out-of-fold photo-z as the calibration set.\n\n"
        "Example: photoz calibrate --configfile config.yaml \\\n"
        "    --photoz results/photoz/step3.parquet --dataset-catalog results/dataset/catalog.parquet \\\n"
        "    --out results/photoz/step4.parquet",
        [
            _opt("--photoz", required=True, help="the method's photo-z table (results/photoz/step3.parquet)"),
            DATASET_CATALOG,
            _opt("--out", required=True, help="calibrated photo-z table (Parquet)"),
        ],
        _calibrate,
    ),
    "evaluate": Stage(
        "Stage 10: metrics of every method (the trained ones, kNN photometry and the catalog's\n"
        "photo-z column) per fold and subset, with the bias diagnostics.\n\n"
        "Example: photoz evaluate --configfile config.yaml \\\n"
        "    --photoz results/photoz/baseline.parquet results/photoz/knn.parquet \\\n"
        "    --dataset-catalog results/dataset/catalog.parquet \\\n"
        "    --catalog results/catalog/catalog.parquet --out-dir results/report",
        [
            _opt("--photoz", nargs="+", required=True, help="results/photoz/<method>.parquet files"),
            DATASET_CATALOG,
            _opt("--catalog", required=True, help="results/catalog/catalog.parquet (provenance)"),
            _opt("--out-dir", required=True, help="where metrics.json/.csv and diagnostics.csv go"),
        ],
        _evaluate,
    ),
    "report": Stage(
        "Stage 11: the report's figures and results/report/index.html (one self-contained page:\n"
        "configuration, data provenance, every table of metrics.json and every figure).\n\n"
        "Example: photoz report --configfile config.yaml \\\n"
        "    --metrics results/report/metrics.json \\\n"
        "    --photoz results/photoz/baseline.parquet results/photoz/knn.parquet \\\n"
        "    --dataset-catalog results/dataset/catalog.parquet --manifest results/dataset/manifest.tsv \\\n"
        "    --histories results/models/baseline/fold*/member*/history.csv --out-dir results/report",
        [
            _opt("--metrics", required=True, help="results/report/metrics.json"),
            _opt("--photoz", nargs="+", required=True, help="results/photoz/<method>.parquet files"),
            DATASET_CATALOG,
            _opt("--manifest", required=True, help="results/dataset/manifest.tsv (gallery cubes)"),
            _opt("--histories", nargs="+", required=True, help="training history.csv files"),
            _opt("--out-dir", required=True, help="where index.html and figures/ go"),
        ],
        _report,
    ),
    "apply_models": Stage(
        "Photo-z for galaxies without spectra: every given member (all folds) applied to the\n"
        "galaxies' cubes, PDFs averaged; z_phot, mean, mode, quantiles, width68, flags, the PDF.\n\n"
        "Example: photoz apply_models --method baseline \\\n"
        "    --members results/models/baseline/fold*/member* --cubes my_cubes/part*.parquet \\\n"
        "    --catalog my_catalog.parquet --out my_photoz.parquet",
        [
            _opt("--method", default="baseline", help="method name (recorded in the table)"),
            _opt("--members", nargs="+", required=True, help="member directories, every fold"),
            _opt("--cubes", nargs="+", required=True, help="the galaxies' cube files"),
            _opt("--catalog", required=True, help="catalog with objid, ra, dec, e_bv_sfd"),
            _opt("--out", required=True, help="output photo-z table (Parquet)"),
            _opt("--threads", type=int, default=0, help="CPU threads (0: all)"),
            _opt("--training-catalog", help="the models' training catalog (its sky is recorded)"),
        ],
        _apply_models,
        config=False,
    ),
    "calibrate_targets": Stage(
        "L22 step 4 for targets: their step 3 photo-z calibrated in (r, z_phot) cells with\n"
        "every cross-validated galaxy's out-of-fold step 3 photo-z.\n\n"
        "Example: photoz calibrate_targets --configfile config.yaml \\\n"
        "    --photoz my_step3.parquet --cv-photoz results/photoz/step3.parquet \\\n"
        "    --dataset-catalog results/dataset/catalog.parquet --catalog my_catalog.parquet \\\n"
        "    --out my_step4.parquet",
        [
            _opt("--photoz", required=True, help="the targets' step 3 table (photoz apply_models)"),
            _opt("--cv-photoz", required=True, help="results/photoz/step3.parquet (out-of-fold)"),
            DATASET_CATALOG,
            _opt("--catalog", required=True, help="the targets' catalog (objid, dered_petro_r)"),
            _opt("--out", required=True, help="calibrated photo-z table (Parquet)"),
            _opt("--method", default="step4", help="the calibrated method's name (recorded)"),
        ],
        _calibrate_targets,
    ),
    "export_photoz": Stage(
        "A photo-z table as a FITS binary table with units and / or a qp ensemble\n"
        "(histogram PDFs on the table's bin edges; RAIL reads it).\n\n"
        "Example: photoz export_photoz --photoz results/photoz/baseline.parquet \\\n"
        "    --fits baseline.fits --qp baseline.hdf5",
        [
            _opt("--photoz", required=True, help="results/photoz/<method>.parquet"),
            _opt("--fits", help="output FITS table"),
            _opt("--qp", help="output qp file (.hdf5)"),
            _opt("--catalog", help="catalog whose ra, dec, r and E(B-V) join the FITS table"),
        ],
        _export_photoz,
        config=False,
    ),
    "list_missing_targets": Stage(
        "Every target galaxy without (full) photo-z and why: rejected by the target query,\n"
        "or lacking a band in its cube (it keeps its photo-z, flagged).\n\n"
        "Example: photoz list_missing_targets --rejected results/targets/catalog/rejected.parquet \\\n"
        "    --catalog results/targets/catalog/catalog.parquet \\\n"
        "    --cubes results/targets/cubes/part*.parquet \\\n"
        "    --missing results/targets/cubes/part*.missing.tsv --out results/targets/missing.tsv",
        [
            _opt("--rejected", required=True, help="the target query's rejected rows"),
            _opt("--catalog", required=True, help="the target catalog"),
            _opt("--cubes", nargs="+", required=True, help="the target cube files"),
            _opt("--missing", nargs="+", required=True, help="the cube stage's missing tables"),
            _opt("--out", required=True, help="output TSV"),
        ],
        _list_missing_targets,
        config=False,
    ),
}

#: Commands that are not rules: exports for the people who use the photo-z.
COMMANDS: dict[str, Stage] = {
    "export_cutouts": Stage(
        "Write galaxies' cubes as FITS images with their TAN WCS (one file per galaxy:\n"
        "an extension per band and its weight map), e.g. to open them in DS9.\n\n"
        "Example: photoz export_cutouts --cubes results/cubes/part*.parquet \\\n"
        "    --catalog results/catalog/catalog.parquet --objids 1237650000000000001 --out-dir cutouts",
        [
            _opt("--cubes", nargs="+", required=True, help="cube files (results/cubes/*.parquet)"),
            _opt("--catalog", required=True, help="catalog with objid, ra, dec"),
            _opt("--objids", nargs="+", type=int, required=True, help="galaxies to export"),
            _opt("--out-dir", required=True, help="directory of the <objid>.fits files"),
        ],
        _export_cutouts,
        config=False,
    ),
}
