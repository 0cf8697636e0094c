# Stages 1-2: the P19 catalog query and the sky partitions.


rule query_catalog:
    input:
        unpack(get_catalog_inputs),
    output:
        catalog="results/catalog/catalog.parquet",
        rejected="results/catalog/rejected.parquet",
        without_spectra="results/catalog/without_spectra.parquet",
    log:
        "logs/query_catalog/query_catalog.log",
    benchmark:
        "logs/benchmarks/query_catalog/query_catalog.tsv"
    conda:
        "../../envs/catalog.yaml"
    threads: 1
    resources:
        mem_mb=get_catalog_mem_mb,
        runtime=get_catalog_runtime,
    params:
        python=PYTHON,
        script=get_script("query_catalog.py"),
        config_json=get_params_json("catalog", "synthetic"),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --catalog {output.catalog} --rejected {output.rejected}"
        " --without-spectra {output.without_spectra} --log {log} >> {log} 2>&1"


checkpoint plan_partitions:
    input:
        catalog="results/catalog/catalog.parquet",
    output:
        outdir=directory("results/partitions"),
    log:
        "logs/plan_partitions/plan_partitions.log",
    benchmark:
        "logs/benchmarks/plan_partitions/plan_partitions.tsv"
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


rule list_partitions:
    input:
        get_partition_files,
    output:
        "results/catalog/partitions.tsv",
    log:
        "logs/list_partitions/list_partitions.log",
    benchmark:
        "logs/benchmarks/list_partitions/list_partitions.tsv"
    conda:
        "../../envs/catalog.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        python=PYTHON,
        script=get_script("list_partitions.py"),
    shell:
        "{params.python} {params.script} {input} --out {output} --log {log} >> {log} 2>&1"
