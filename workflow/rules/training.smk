# Stages 7-9: train 5 folds x n_members of a method, predict each fold, ensemble.
# Methods (photoz.methods): networks trained end to end (baseline, L22 step 1), heads
# retrained on the step 1 representation (L22 steps 2, 3, 3a, 3b), and L22 step 4, a
# calibration of step 3's photo-z.


if config["training"]["one_job_per_fold"]:

    # Every member of a fold in one job: one start-up and one trace for n_members members.
    rule train:
        input:
            unpack(get_train_init),
            manifest="results/dataset/manifest.tsv",
            shards="results/dataset/shards",
        output:
            weights=expand(
                "results/models/{{method}}/fold{{fold}}/member{member}/weights.weights.h5",
                member=MEMBERS,
            ),
            history=expand(
                "results/models/{{method}}/fold{{fold}}/member{member}/history.csv",
                member=MEMBERS,
            ),
            params=expand(
                "results/models/{{method}}/fold{{fold}}/member{member}/params.json",
                member=MEMBERS,
            ),
        log:
            "logs/train/{method}/fold{fold}.log",
        benchmark:
            "logs/benchmarks/train/{method}/fold{fold}.tsv"
        wildcard_constraints:
            method=NETWORK_METHODS,
        conda:
            "../../envs/training.yaml"
        threads: config["training"]["threads"]
        resources:
            mem_mb=config["training"]["mem_mb"],
            runtime=config["training"]["runtime"] * len(MEMBERS),
            gpu=config["training"]["gpus"],
        params:
            python=PYTHON,
            script=get_script("train.py"),
            config_json=get_train_params_json,
            members=" ".join(map(str, MEMBERS)),
            out_dirs=lambda wildcards, output: " ".join(os.path.dirname(p) for p in output.weights),
            init_from=get_train_init_option,
        shell:
            "{params.python} {params.script} --params-json {params.config_json:q}"
            " --method {wildcards.method} --manifest {input.manifest} --fold {wildcards.fold}"
            " --member {params.members} {params.init_from} --out-dir {params.out_dirs}"
            " --log {log} >> {log} 2>&1"

else:

    rule train:
        input:
            unpack(get_train_init),
            manifest="results/dataset/manifest.tsv",
            shards="results/dataset/shards",
        output:
            weights="results/models/{method}/fold{fold}/member{member}/weights.weights.h5",
            history="results/models/{method}/fold{fold}/member{member}/history.csv",
            params="results/models/{method}/fold{fold}/member{member}/params.json",
        log:
            "logs/train/{method}/fold{fold}/member{member}.log",
        benchmark:
            "logs/benchmarks/train/{method}/fold{fold}/member{member}.tsv"
        wildcard_constraints:
            method=NETWORK_METHODS,
        conda:
            "../../envs/training.yaml"
        threads: config["training"]["threads"]
        resources:
            mem_mb=config["training"]["mem_mb"],
            runtime=config["training"]["runtime"],
            gpu=config["training"]["gpus"],
        params:
            python=PYTHON,
            script=get_script("train.py"),
            config_json=get_train_params_json,
            out_dir=subpath(output.weights, parent=True),
            init_from=get_train_init_option,
        shell:
            "{params.python} {params.script} --params-json {params.config_json:q}"
            " --method {wildcards.method} --manifest {input.manifest} --fold {wildcards.fold}"
            " --member {wildcards.member} {params.init_from} --out-dir {params.out_dir}"
            " --log {log} >> {log} 2>&1"


rule train_heads:
    input:
        unpack(get_heads_inputs),
        manifest="results/dataset/manifest.tsv",
        shards="results/dataset/shards",
        catalog="results/dataset/catalog.parquet",
    output:
        weights="results/models/{method}/fold{fold}/member{member}/weights.weights.h5",
        history="results/models/{method}/fold{fold}/member{member}/history.csv",
        params="results/models/{method}/fold{fold}/member{member}/params.json",
    log:
        "logs/train_heads/{method}/fold{fold}/member{member}.log",
    benchmark:
        "logs/benchmarks/train_heads/{method}/fold{fold}/member{member}.tsv"
    wildcard_constraints:
        method=HEAD_METHODS,
    conda:
        "../../envs/training.yaml"
    threads: config["training"]["threads"]
    resources:
        mem_mb=config["training"]["mem_mb"],
        runtime=60,
        gpu=min(1, config["training"]["gpus"]),
    params:
        python=PYTHON,
        script=get_script("train_heads.py"),
        # step 4's settings do not touch the heads
        config_json=get_params_json(
            "training",
            "lin2022",
            omit=("lin2022.calibration_z_width", "lin2022.calibration_resample"),
        ),
        out_dir=subpath(output.weights, parent=True),
        step1=lambda wildcards, input: os.path.dirname(input.step1),
        pre_estimates=lambda wildcards, input: (
            f"--pre-estimates {input.pre_estimates}" if "pre_estimates" in input.keys() else ""
        ),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --method {wildcards.method} --manifest {input.manifest}"
        " --dataset-catalog {input.catalog} --fold {wildcards.fold} --member {wildcards.member}"
        " --step1 {params.step1} {params.pre_estimates} --out-dir {params.out_dir} --log {log} >> {log} 2>&1"


rule predict:
    input:
        manifest="results/dataset/manifest.tsv",
        shards="results/dataset/shards",
        weights=get_fold_member_weights,
    output:
        expand(
            "results/predictions/{{method}}/fold{{fold}}/member{member}.parquet",
            member=MEMBERS,
        ),
    log:
        "logs/predict/{method}/fold{fold}.log",
    benchmark:
        "logs/benchmarks/predict/{method}/fold{fold}.tsv"
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
        script=get_script("predict.py"),
        members=lambda wildcards, input: [os.path.dirname(w) for w in input.weights],
    shell:
        "{params.python} {params.script} --manifest {input.manifest} --fold {wildcards.fold}"
        " --members {params.members} --out {output} --threads {threads} --log {log} >> {log} 2>&1"


rule ensemble:
    input:
        predictions=expand(
            "results/predictions/{{method}}/fold{fold}/member{member}.parquet",
            fold=FOLDS,
            member=MEMBERS,
        ),
        catalog="results/dataset/catalog.parquet",
    output:
        "results/photoz/{method}.parquet",
    log:
        "logs/ensemble/{method}.log",
    benchmark:
        "logs/benchmarks/ensemble/{method}.tsv"
    wildcard_constraints:
        method=MODEL_METHODS,
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        python=PYTHON,
        script=get_script("ensemble.py"),
        config_json=get_params_json("training"),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --predictions {input.predictions} --dataset-catalog {input.catalog}"
        " --out {output} --log {log} >> {log} 2>&1"


rule knn_photometry:
    input:
        catalog="results/dataset/catalog.parquet",
    output:
        "results/photoz/knn.parquet",
    log:
        "logs/knn_photometry/knn_photometry.log",
    benchmark:
        "logs/benchmarks/knn_photometry/knn_photometry.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        python=PYTHON,
        script=get_script("knn_photometry.py"),
        config_json=get_params_json("training", "knn"),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --dataset-catalog {input.catalog} --out {output} --log {log} >> {log} 2>&1"


rule calibrate:
    input:
        photoz=get_calibrated_photoz,
        catalog="results/dataset/catalog.parquet",
    output:
        "results/photoz/{calibrated}.parquet",
    log:
        "logs/calibrate/{calibrated}.log",
    benchmark:
        "logs/benchmarks/calibrate/{calibrated}.tsv"
    wildcard_constraints:
        calibrated=CALIBRATION_METHODS,
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=4000,  # ~1.7 GB per 10^5 galaxies: the SLURM profile raises it
        runtime=30,
    params:
        python=PYTHON,
        script=get_script("calibrate.py"),
        config_json=get_calibration_params_json(),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --photoz {input.photoz} --dataset-catalog {input.catalog} --out {output} --log {log} >> {log} 2>&1"
