# Stage 5: resample every indexed frame into 5-band 64x64 cubes.


rule resample_cubes:
    input:
        partition="results/partitions/{part}.parquet",
        index="results/frames/index/{part}.parquet",
        manifest="results/frames/manifest/{part}.parquet",
        frames=get_partition_frames_dir,
    output:
        cubes="results/cubes/{part}.parquet",
        missing="results/cubes/{part}.missing.tsv",
    log:
        "logs/resample_cubes/{part}.log",
    benchmark:
        "logs/benchmarks/resample_cubes/{part}.tsv"
    conda:
        "../../envs/resample.yaml"
    threads: config["resample"]["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        python=PYTHON,
        script=get_script("resample_cubes.py"),
        config_json=get_params_json("resample"),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --partition {input.partition} --index {input.index} --manifest {input.manifest}"
        " --out {output.cubes} --missing {output.missing} --log {log} >> {log} 2>&1"
