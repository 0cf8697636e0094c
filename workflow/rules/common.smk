# Helpers shared by all stages (config validation, script paths, parameters).
import json
import os
import sys

from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

# The library's lists (methods, figures) without installing it: workflow/photoz.
sys.path.insert(0, os.path.join(workflow.basedir, "workflow"))
import photoz.evaluation.captions as photoz_captions
import photoz.methods as photoz_methods
from photoz.catalog.targets import SDSS_TARGET_BACKENDS

validate(config, schema="../schemas/config.schema.yaml", set_default=True)

# Shipped resources are found relative to the workflow, whatever --directory is.
for section in ("catalog", "targets"):
    if not os.path.isabs(config[section]["sql_template"]):
        config[section]["sql_template"] = os.path.join(
            workflow.basedir, config[section]["sql_template"]
        )


# With --sdm conda the rule's environment provides python; otherwise use the
# interpreter running Snakemake (the project's virtualenv).
PYTHON = (
    "python"
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
    else sys.executable
)


def get_script(name):
    """Path of a stage script in workflow/scripts."""
    return os.path.join(workflow.basedir, "workflow", "scripts", name)


#: Keys that shape the workflow but no job reads: never in a job's params.
WORKFLOW_ONLY_KEYS = ("training.one_job_per_fold",)


def get_params_json(*sections, omit=()):
    """The named config sections as JSON, without the ``omit`` keys ("section.key") and
    :data:`WORKFLOW_ONLY_KEYS`: a job reruns only when what it reads changes."""
    params = {s: config[s] for s in sections}
    for name in (*omit, *WORKFLOW_ONLY_KEYS):
        if name.split(".")[0] not in params:
            continue
        section, key = name.split(".")
        params[section] = {k: v for k, v in params[section].items() if k != key}
    return json.dumps(params, sort_keys=True)


#: What a network trained end to end reads of the lin2022 section (L22's step 1 only).
NETWORK_LIN2022_KEYS = ("network", "pixel_transform")


def get_train_params_json(wildcards):
    """The train job's config: the training section and, for L22's step 1, its own
    network and pixel transform; so a changed head setting reruns no network."""
    sections = ["training"]
    if photoz_methods.METHODS[wildcards.method].output == "channels":
        sections.append("lin2022")
    omit = [f"lin2022.{k}" for k in config["lin2022"] if k not in NETWORK_LIN2022_KEYS]
    return get_params_json(*sections, omit=omit if "lin2022" in sections else ())


#: What a calibration reads of the lin2022 section (step 4 and its control).
CALIBRATION_LIN2022_KEYS = ("calibration_z_width", "calibration_resample", "seed")


def get_calibration_params_json():
    """The calibrate jobs' config: training and the calibration's lin2022 keys, so a
    changed head setting reruns step 4 (through step 3) but not the baseline's control."""
    omit = [f"lin2022.{k}" for k in config["lin2022"] if k not in CALIBRATION_LIN2022_KEYS]
    return get_params_json("training", "lin2022", omit=omit)


def get_catalog_inputs(wildcards):
    """Inputs of query_catalog: the SQL template and, for the file backend, the file."""
    inputs = {"template": config["catalog"]["sql_template"]}
    if config["catalog"]["backend"] == "file" and config["catalog"]["file"]["path"]:
        inputs["user_catalog"] = config["catalog"]["file"]["path"]
    return inputs


def get_targets_inputs(wildcards):
    """Inputs of query_targets besides the training catalog: the SQL template and, for
    the file backend, the file."""
    inputs = {"template": config["targets"]["sql_template"]}
    if config["targets"]["backend"] == "file" and config["targets"]["file"]["path"]:
        inputs["user_catalog"] = config["targets"]["file"]["path"]
    return inputs


def get_targets_runtime(wildcards):
    """Minutes, as for the catalog query of the same backend."""
    return {"casjobs": 24 * 60, "skyserver": 6 * 60}.get(config["targets"]["backend"], 30)


def get_targets_mem_mb(wildcards):
    """MB: a synthetic target sample is a small file; server results can be large."""
    return 2000 if config["targets"]["backend"] in ("synthetic", "file") else 8000


def get_catalog_runtime(wildcards):
    """Minutes. A CasJobs batch job can queue for hours; the rest is quick."""
    return {"casjobs": 24 * 60, "skyserver": 6 * 60}.get(config["catalog"]["backend"], 60)


def get_catalog_mem_mb(wildcards):
    """MB. Synthetic generation measured at ~940 MB for 50k galaxies (bench_catalog.py)."""
    if config["catalog"]["backend"] == "synthetic":
        return int(1500 + 0.03 * config["synthetic"]["n_galaxies"])
    return 8000


def get_partitions(wildcards):
    """Partition names planned by the plan_partitions checkpoint."""
    outdir = checkpoints.plan_partitions.get().output.outdir
    return sorted(glob_wildcards(f"{outdir}/{{part}}.parquet").part)


def get_partition_files(wildcards):
    """The per-partition catalog files (evaluated after the checkpoint ran)."""
    outdir = checkpoints.plan_partitions.get().output.outdir
    return expand(f"{outdir}/{{part}}.parquet", part=get_partitions(wildcards))


def get_partition_frames_dir(wildcards):
    """Directory where a partition sees its frames (SAS layout inside)."""
    return os.path.join(config["frames"]["cache_dir"], "partitions", wildcards.part)


def get_target_sky_catalog(wildcards):
    """The catalog naming the sky of the target frames: the target catalog for SDSS
    target backends (downloaded from the SAS), else the training catalog (a synthetic
    sky's frames rendered with every galaxy of both samples)."""
    if config["targets"]["backend"] in SDSS_TARGET_BACKENDS:
        return "results/targets/catalog/catalog.parquet"
    return "results/catalog/catalog.parquet"


def get_target_partition_frames_dir(wildcards):
    """Directory where a target partition sees its frames (beside the training ones')."""
    return os.path.join(config["frames"]["cache_dir"], "partitions", "targets", wildcards.part)


def get_frames_dir_output(sample=None):
    """fetch_frames' frame directory (of a training or, ``sample="targets"``, a target
    partition); temporary when frames.temporary is set."""
    parts = ("partitions", sample, "{part}") if sample else ("partitions", "{part}")
    path = directory(os.path.join(config["frames"]["cache_dir"], *parts))
    return temp(path) if config["frames"]["temporary"] else path


def get_target_partitions(wildcards):
    """Target partition names planned by the plan_target_partitions checkpoint."""
    outdir = checkpoints.plan_target_partitions.get().output.outdir
    return sorted(glob_wildcards(f"{outdir}/{{part}}.parquet").part)


def get_target_cube_files(wildcards):
    """The cube files of every target partition."""
    return expand("results/targets/cubes/{part}.parquet", part=get_target_partitions(wildcards))


def get_target_missing_files(wildcards):
    """The (galaxy, band) tables without data of every target partition."""
    return expand("results/targets/cubes/{part}.missing.tsv", part=get_target_partitions(wildcards))


def get_all_member_weights(wildcards):
    """Final weights of every member of every fold of a method (targets get them all)."""
    return expand(
        "results/models/{method}/fold{fold}/member{member}/weights.weights.h5",
        method=wildcards.method,
        fold=FOLDS,
        member=MEMBERS,
    )


def get_target_outputs(wildcards):
    """Everything ``snakemake targets`` builds: each trained method's photo-z of the
    targets (Parquet, FITS, qp) and the table of targets without (full) data."""
    return [
        *expand(
            "results/targets/photoz/{method}.{ext}",
            method=METHODS,
            ext=["parquet", "fits", "qp.hdf5"],
        ),
        "results/targets/missing.tsv",
    ]


def get_cube_files(wildcards):
    """The cube files of every partition (input of build_dataset)."""
    return expand("results/cubes/{part}.parquet", part=get_partitions(wildcards))


def get_dataset_mem_mb(wildcards):
    """MB: TensorFlow (~0.6 GB) plus one partition of cubes and weights, a few copies."""
    return int(1500 + 0.6 * config["partitions"]["max_galaxies"])


def expected_galaxies():
    """Galaxies the survey should hold, known when the workflow is planned: the
    synthetic sample's size, or ~600k for the SDSS Main Galaxy Sample."""
    synthetic = config["catalog"]["backend"] == "synthetic"
    return config["synthetic"]["n_galaxies"] if synthetic else 600_000


def get_dataset_runtime(wildcards):
    """Minutes: bench_dataset.py writes >= 500 galaxies/s; allow 3x (survey: ~600k)."""
    return int(30 + 3 * expected_galaxies() / 500 / 60)


def get_evaluation_mem_mb(wildcards):
    """MB for the stages that hold every method's photo-z table (evaluate, report): 1 GB
    plus ~5 KB per galaxy and method at 180 PDF bins. Measured: 516,525 galaxies with
    two methods peak at 5.1 GB in evaluate, 100,000 at 1.3 GB (benchmarks/bench_evaluate.py)."""
    kb_per_galaxy = 5.0 * config["training"]["n_bins"] / 180
    return int(1000 + expected_galaxies() * len(get_photoz_files()) * kb_per_galaxy / 1000)


FOLDS = list(range(config["dataset"]["n_folds"]))
MEMBERS = list(range(config["training"]["n_members"]))
METHODS = config["methods"]  # of photoz.methods.METHODS (schema enum)
# Method and figure lists come from the library (photoz.methods, .evaluation.captions).
NETWORK_METHODS = "|".join(photoz_methods.NETWORK_METHODS)  # trained end to end (rule train)
HEAD_METHODS = "|".join(photoz_methods.HEAD_METHODS)  # heads on step 1 (train_heads)
MODEL_METHODS = f"{NETWORK_METHODS}|{HEAD_METHODS}"  # members, predictions, ensembles
CALIBRATION_METHODS = "|".join(photoz_methods.CALIBRATION_METHODS)  # rule calibrate
REPORT_FIGURES = list(photoz_captions.FIGURES)  # captions in workflow/report/


def get_fold_member_weights(wildcards):
    """Final weights of every member of one (method, fold)."""
    return expand(
        "results/models/{method}/fold{fold}/member{member}/weights.weights.h5",
        method=wildcards.method,
        fold=wildcards.fold,
        member=MEMBERS,
    )


def get_final_outputs(wildcards):
    """Everything the default target builds (grows as stages land)."""
    return [
        "results/catalog/catalog.parquet",
        "results/catalog/partitions.tsv",
        "results/dataset/catalog.parquet",
        "results/dataset/manifest.tsv",
        *get_photoz_files(),
        "results/report/metrics.json",
        "results/report/index.html",
    ]


def get_photoz_files():
    """The photo-z table of every trained method and of the kNN photometry baseline."""
    return expand("results/photoz/{method}.parquet", method=[*METHODS, "knn"])


def get_train_init(wildcards):
    """The trained members a train job's members start from: for step 1 when
    ``lin2022.step1_init`` is baseline, the baseline member of the same fold and index
    (of each member of the fold when one job trains them all); none otherwise."""
    if wildcards.method == "step1" and config["lin2022"]["step1_init"] == "baseline":
        members = [wildcards.member] if "member" in wildcards.keys() else MEMBERS
        return {
            "init": [
                f"results/models/baseline/fold{wildcards.fold}/member{m}/weights.weights.h5"
                for m in members
            ]
        }
    return {}


def get_train_init_option(wildcards, input):
    """``--init-from`` with the starting member directories, or nothing."""
    if "init" not in input.keys():
        return ""
    return "--init-from " + " ".join(os.path.dirname(p) for p in input.init)


def get_heads_inputs(wildcards):
    """The step 1 member a step 2/3 member starts from and, for step 3 and its variants,
    step 2's out-of-fold predictions of the same member index (the pre-estimates)."""
    inputs = {
        "step1": f"results/models/step1/fold{wildcards.fold}/member{wildcards.member}/weights.weights.h5"
    }
    if wildcards.method != "step2":
        inputs["pre_estimates"] = [
            f"results/predictions/step2/fold{fold}/member{wildcards.member}.parquet"
            for fold in FOLDS
            if str(fold) != wildcards.fold
        ]
    return inputs


def get_calibrated_photoz(wildcards):
    """The out-of-fold photo-z table a calibration method calibrates (step 4: step 3's)."""
    return f"results/photoz/{photoz_methods.METHODS[wildcards.calibrated].of}.parquet"


def get_calibrated_target_photoz(wildcards):
    """The targets' photo-z of the method a calibration method calibrates, and its
    out-of-fold cross-validation table (the calibration set)."""
    source = photoz_methods.METHODS[wildcards.calibrated].of
    return {
        "photoz": f"results/targets/photoz/{source}.parquet",
        "cv_photoz": f"results/photoz/{source}.parquet",
    }


def get_history_files():
    """The training history of every (method, fold, member)."""
    return expand(
        "results/models/{method}/fold{fold}/member{member}/history.csv",
        method=[m for m in METHODS if m not in photoz_methods.CALIBRATION_METHODS],
        fold=FOLDS,
        member=MEMBERS,
    )
