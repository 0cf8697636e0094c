# Stages 3-4: index the frames overlapping every galaxy, then render or download them.


rule index_frames:
    input:
        partition="results/partitions/{part}.parquet",
    output:
        index="results/frames/index/{part}.parquet",
    log:
        "logs/index_frames/{part}.log",
    benchmark:
        "logs/benchmarks/index_frames/{part}.tsv"
    conda:
        "../../envs/frames.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        python=PYTHON,
        script=get_script("index_frames.py"),
        config_json=get_params_json("catalog", "frames"),
        frames_dir=get_partition_frames_dir,
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --partition {input.partition} --out {output.index}"
        " --frames-dir {params.frames_dir} --log {log} >> {log} 2>&1"


rule fetch_frames:
    input:
        index="results/frames/index/{part}.parquet",
        catalog="results/catalog/catalog.parquet",
        without_spectra="results/catalog/without_spectra.parquet",
    output:
        manifest="results/frames/manifest/{part}.parquet",
        frames=get_frames_dir_output(),
    log:
        "logs/fetch_frames/{part}.log",
    benchmark:
        "logs/benchmarks/fetch_frames/{part}.tsv"
    conda:
        "../../envs/frames.yaml"
    threads: config["frames"]["threads"]
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        python=PYTHON,
        script=get_script("fetch_frames.py"),
        config_json=get_params_json("catalog", "frames"),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --index {input.index} --catalog {input.catalog} --without-spectra {input.without_spectra}"
        " --manifest {output.manifest}"
        " --threads {threads} --log {log} >> {log} 2>&1"
