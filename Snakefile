# drugnet: standardize -> split -> featurize -> train -> evaluate -> probe -> screen.
# Thin by design: the rules in workflows/rules/ call `drugnet <step>`; all logic is in the package.
from snakemake.logging import logger
from snakemake.utils import min_version

from drugnet.config import validate_config
from drugnet.io.workflow_lock import forget_owner, lock_hint, record_owner

min_version("8.0")

# A run killed with SIGKILL leaves its lock behind. It is never cleared automatically (its jobs
# may still be writing); say whose it is and how to unlock. See drugnet/io/workflow_lock.py.
if workflow.is_main_process:
    _lock_hint = lock_hint()
    if _lock_hint:
        logger.warning(_lock_hint)


onstart:
    record_owner()


onsuccess:
    forget_owner()


onerror:
    forget_owner()


configfile: "config/config.yaml"


report: "workflows/report/workflow.rst"


# the schema's `default:` values are the only defaults: validation fills every missing key
# (what snakemake's validate(set_default=True) does, plus defaults under $ref and errors that
# name the key); the rules' *_args builders read the filled config and restate no default
_validated = validate_config(config)
config.clear()
config.update(_validated)


include: "workflows/rules/common.smk"
include: "workflows/rules/standardize.smk"
include: "workflows/rules/featurize.smk"
include: "workflows/rules/pretrain.smk"
include: "workflows/rules/train.smk"
include: "workflows/rules/probe.smk"
include: "workflows/rules/screen.smk"
include: "workflows/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
