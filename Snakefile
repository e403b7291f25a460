# drugnet: standardize -> split -> featurize -> train -> evaluate -> probe -> screen.
# Thin by design: the rules in workflows/rules/ call `drugnet <step>`; all logic is in the package.
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


report: "workflows/report/workflow.rst"


validate(config, "workflows/schemas/config.schema.yaml")


include: "workflows/rules/common.smk"
include: "workflows/rules/standardize.smk"
include: "workflows/rules/featurize.smk"
include: "workflows/rules/train.smk"
include: "workflows/rules/probe.smk"
include: "workflows/rules/screen.smk"
include: "workflows/rules/report.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
