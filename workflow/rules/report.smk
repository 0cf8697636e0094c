# Stages 10-11: metrics of every method, then the figures and the HTML report.


rule evaluate:
    input:
        photoz=get_photoz_files(),
        dataset_catalog="results/dataset/catalog.parquet",
        catalog="results/catalog/catalog.parquet",
    output:
        metrics=report(
            "results/report/metrics.json",
            caption="../report/metrics.rst",
            category="Metrics",
        ),
        table=report(
            "results/report/metrics.csv",
            caption="../report/metrics.rst",
            category="Metrics",
        ),
        diagnostics="results/report/diagnostics.csv",
    log:
        "logs/evaluate/evaluate.log",
    benchmark:
        "logs/benchmarks/evaluate/evaluate.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=get_evaluation_mem_mb,
        runtime=60,
    params:
        python=PYTHON,
        script=get_script("evaluate.py"),
        config_json=get_params_json("training", "evaluate"),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --photoz {input.photoz} --dataset-catalog {input.dataset_catalog}"
        " --catalog {input.catalog} --out-dir results/report --log {log} >> {log} 2>&1"


rule report:
    input:
        metrics="results/report/metrics.json",
        photoz=get_photoz_files(),
        dataset_catalog="results/dataset/catalog.parquet",
        manifest="results/dataset/manifest.tsv",
        histories=get_history_files(),
    output:
        page=report(
            "results/report/index.html",
            caption="../report/index.rst",
            category="Report",
        ),
        figures=[
            report(
                f"results/report/figures/{name}.png",
                caption=f"../report/{name}.rst",
                category="Figures",
            )
            for name in REPORT_FIGURES
        ],
    log:
        "logs/report/report.log",
    benchmark:
        "logs/benchmarks/report/report.tsv"
    conda:
        "../../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=get_evaluation_mem_mb,
        runtime=60,
    params:
        python=PYTHON,
        script=get_script("report.py"),
        config_json=get_params_json(*config),
    shell:
        "{params.python} {params.script} --params-json {params.config_json:q}"
        " --metrics {input.metrics} --photoz {input.photoz}"
        " --dataset-catalog {input.dataset_catalog} --manifest {input.manifest}"
        " --histories {input.histories} --out-dir results/report --log {log} >> {log} 2>&1"
