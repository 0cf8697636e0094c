# Stage 6: cross-validation folds and streaming shards (TFRecord + Parquet twins).


rule build_dataset:
    input:
        catalog="results/catalog/catalog.parquet",
        cubes=get_cube_files,
    output:
        catalog="results/dataset/catalog.parquet",
        manifest="results/dataset/manifest.tsv",
        shards=directory("results/dataset/shards"),
        parquet=directory("results/dataset/parquet"),
    log:
        "logs/build_dataset/build_dataset.log",
    benchmark:
        "logs/benchmarks/build_dataset/build_dataset.tsv"
    conda:
        "../../envs/dataset.yaml"
    threads: 1
    resources:
        mem_mb=get_dataset_mem_mb,
        runtime=get_dataset_runtime,
    params:
        python=PYTHON,
        script=get_script("build_dataset.py"),
        config_json=get_params_json("dataset"),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --catalog {input.catalog} --cubes {input.cubes} --out-catalog {output.catalog}"
        " --manifest {output.manifest} --shards {output.shards} --parquet {output.parquet}"
        " --log {log} >> {log} 2>&1"
