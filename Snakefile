# GD²PO benchmark suite: every method x suite x setting x seed, evaluated, tabulated and plotted.
#
#   snakemake --cores all                                        # the embedded default (CPU, minutes)
#   snakemake --cores all --configfile config/test/config.yaml   # the smallest DAG (CI)
#   snakemake --cores all --profile slurm --configfile config/paper/tool_calling.yaml
#   snakemake --report results/report.html                       # after a run
#
# docs/workflow.md describes the config, the results layout and the SLURM profile.

import os

from snakemake.utils import min_version

min_version("9.27")


# A --configfile is a whole experiment design and replaces the embedded default instead of being
# deep-merged into it (a merge would keep the default's mini suites and ablations in a paper run).
# --config key=value still overrides single keys of whichever config is in use.
# The path is relative to this file, so that `--directory <scratch>` finds it too.
if not workflow.overwrite_configfiles:

    configfile: os.path.join(workflow.basedir, "config", "config.yaml")


include: "workflow/rules/common.smk"


validate_config("workflow/schemas/config.schema.yaml")
check_references()
use_snakemake_environment()


wildcard_constraints:
    suite=wildcard_pattern(config["suites"]),
    setting=wildcard_pattern({s for spec in config["suites"].values() for s in spec["settings"]}),
    variant=r"[A-Za-z0-9][A-Za-z0-9_.+-]*",
    seed=r"\d+",
    ablation=wildcard_pattern(config["ablations"]) or "$^",


report: "workflow/report/workflow.rst"


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


localrules:
    all,
    download_rlla_4k_train,
    table,
    ablation_table,
    plot_curves,
    plot_diagnostics,
    plot_efficiency,
    plot_sweep,


rule all:
    default_target: True
    input:
        report_targets(),
