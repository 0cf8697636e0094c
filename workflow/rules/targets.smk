# Photo-z for galaxies without spectra (snakemake targets): stages 1-5 for the target
# sample on the training sample's sky and frame cache, then every trained method's
# members (all folds) applied, L22 step 4 from the cross-validation, and the exports.


rule query_targets:
    input:
        unpack(get_targets_inputs),
        training_catalog="results/catalog/catalog.parquet",
        without_spectra="results/catalog/without_spectra.parquet",
    output:
        catalog="results/targets/catalog/catalog.parquet",
        rejected="results/targets/catalog/rejected.parquet",
    log:
        "logs/query_targets/query_targets.log",
    benchmark:
        "logs/benchmarks/query_targets/query_targets.tsv"
    conda:
        "../../envs/catalog.yaml"
    threads: 1
    resources:
        mem_mb=get_targets_mem_mb,
        runtime=get_targets_runtime,
    params:
        python=PYTHON,
        script=get_script("query_targets.py"),
        config_json=get_params_json("catalog", "targets"),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --training-catalog {input.training_catalog} --without-spectra {input.without_spectra}"
        " --catalog {output.catalog} --rejected {output.rejected} --log {log} >> {log} 2>&1"


# A checkpoint of its own: "use rule" of a checkpoint gives a plain rule.
checkpoint plan_target_partitions:
    input:
        catalog="results/targets/catalog/catalog.parquet",
    output:
        outdir=directory("results/targets/partitions"),
    log:
        "logs/plan_target_partitions/plan_target_partitions.log",
    benchmark:
        "logs/benchmarks/plan_target_partitions/plan_target_partitions.tsv"
    conda:
        "../../envs/catalog.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        python=PYTHON,
        script=get_script("plan_partitions.py"),
        config_json=get_params_json("partitions"),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --catalog {input.catalog} --outdir {output.outdir} --log {log} >> {log} 2>&1"


use rule index_frames as index_target_frames with:
    input:
        partition="results/targets/partitions/{part}.parquet",
    output:
        index="results/targets/frames/index/{part}.parquet",
    log:
        "logs/index_target_frames/{part}.log",
    benchmark:
        "logs/benchmarks/index_target_frames/{part}.tsv"
    params:
        python=PYTHON,
        script=get_script("index_frames.py"),
        config_json=get_params_json("catalog", "frames"),
        frames_dir=get_target_partition_frames_dir,


use rule fetch_frames as fetch_target_frames with:
    input:
        index="results/targets/frames/index/{part}.parquet",
        catalog=get_target_sky_catalog,
        without_spectra="results/catalog/without_spectra.parquet",
    output:
        manifest="results/targets/frames/manifest/{part}.parquet",
        frames=get_frames_dir_output("targets"),
    log:
        "logs/fetch_target_frames/{part}.log",
    benchmark:
        "logs/benchmarks/fetch_target_frames/{part}.tsv"


use rule resample_cubes as resample_target_cubes with:
    input:
        partition="results/targets/partitions/{part}.parquet",
        index="results/targets/frames/index/{part}.parquet",
        manifest="results/targets/frames/manifest/{part}.parquet",
        frames=get_target_partition_frames_dir,
    output:
        cubes="results/targets/cubes/{part}.parquet",
        missing="results/targets/cubes/{part}.missing.tsv",
    log:
        "logs/resample_target_cubes/{part}.log",
    benchmark:
        "logs/benchmarks/resample_target_cubes/{part}.tsv"


rule apply_models:
    input:
        weights=get_all_member_weights,
        cubes=get_target_cube_files,
        catalog="results/targets/catalog/catalog.parquet",
        training_catalog="results/catalog/catalog.parquet",
    output:
        "results/targets/photoz/{method}.parquet",
    log:
        "logs/apply_models/{method}.log",
    benchmark:
        "logs/benchmarks/apply_models/{method}.tsv"
    wildcard_constraints:
        method=MODEL_METHODS,
    conda:
        "../../envs/training.yaml"
    threads: config["training"]["threads"]
    resources:
        mem_mb=config["training"]["mem_mb"],
        runtime=60,
        gpu=min(1, config["training"]["gpus"]),
    params:
        python=PYTHON,
        script=get_script("apply_models.py"),
        members=lambda wildcards, input: [os.path.dirname(w) for w in input.weights],
    shell:
        "{params.python} {params.script} --method {wildcards.method} --members {params.members}"
        " --cubes {input.cubes} --catalog {input.catalog} --out {output} --threads {threads}"
        " --training-catalog {input.training_catalog}"
        " --log {log} >> {log} 2>&1"


rule calibrate_targets:
    input:
        unpack(get_calibrated_target_photoz),
        dataset_catalog="results/dataset/catalog.parquet",
        catalog="results/targets/catalog/catalog.parquet",
    output:
        "results/targets/photoz/{calibrated}.parquet",
    log:
        "logs/calibrate_targets/{calibrated}.log",
    benchmark:
        "logs/benchmarks/calibrate_targets/{calibrated}.tsv"
    wildcard_constraints:
        calibrated=CALIBRATION_METHODS,
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        python=PYTHON,
        script=get_script("calibrate_targets.py"),
        config_json=get_calibration_params_json(),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --photoz {input.photoz} --cv-photoz {input.cv_photoz}"
        " --dataset-catalog {input.dataset_catalog} --catalog {input.catalog}"
        " --method {wildcards.calibrated} --out {output} --log {log} >> {log} 2>&1"


rule export_photoz:
    input:
        photoz="results/targets/photoz/{method}.parquet",
        catalog="results/targets/catalog/catalog.parquet",
    output:
        fits="results/targets/photoz/{method}.fits",
        qp="results/targets/photoz/{method}.qp.hdf5",
    log:
        "logs/export_photoz/{method}.log",
    benchmark:
        "logs/benchmarks/export_photoz/{method}.tsv"
    wildcard_constraints:
        method=f"{MODEL_METHODS}|{CALIBRATION_METHODS}",
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        python=PYTHON,
        script=get_script("export_photoz.py"),
    shell:
        "{params.python} {params.script} --photoz {input.photoz} --catalog {input.catalog}"
        " --fits {output.fits} --qp {output.qp} --log {log} >> {log} 2>&1"


rule list_missing_targets:
    input:
        rejected="results/targets/catalog/rejected.parquet",
        catalog="results/targets/catalog/catalog.parquet",
        cubes=get_target_cube_files,
        missing=get_target_missing_files,
    output:
        "results/targets/missing.tsv",
    log:
        "logs/list_missing_targets/list_missing_targets.log",
    benchmark:
        "logs/benchmarks/list_missing_targets/list_missing_targets.tsv"
    conda:
        "../../envs/catalog.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        python=PYTHON,
        script=get_script("list_missing_targets.py"),
    shell:
        "{params.python} {params.script} --rejected {input.rejected} --catalog {input.catalog}"
        " --cubes {input.cubes} --missing {input.missing} --out {output} --log {log} >> {log} 2>&1"
