# Image-based photometric redshifts (Pasquet et al. 2019; Lin et al. 2022), end to end.
# Stages and file contracts: README.md. Configuration: config.yaml (validated against
# workflow/schemas/config.schema.yaml).
import os

from snakemake.utils import min_version

min_version("9.0")


# The embedded default configuration travels with the workflow; --configfile FILE
# overrides any of its keys (e.g. with --directory elsewhere).
configfile: os.path.join(workflow.basedir, "config.yaml")


include: "workflow/rules/common.smk"


wildcard_constraints:
    part=r"part\d{4}",
    method=MODEL_METHODS,  # methods with models (also steps others depend on); knn, step4: own rules
    fold=r"\d+",
    member=r"\d+",


include: "workflow/rules/catalog.smk"
include: "workflow/rules/frames.smk"
include: "workflow/rules/resample.smk"
include: "workflow/rules/dataset.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/targets.smk"


localrules:
    all,
    targets,


rule all:
    default_target: True
    input:
        get_final_outputs,


rule targets:
    input:
        get_target_outputs,
