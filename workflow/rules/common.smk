# The experiment grid as data: which runs exist, their paths and their `--set` overrides.
# Functions only (rules live in the other .smk files). Everything here reads `config`, which the
# Snakefile has validated against workflow/schemas/config.schema.yaml.

import itertools
import json
import os
import re
import shlex
import sys
from typing import NamedTuple

import yaml

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

RUN_DIR = "results/{suite}/{setting}/{variant}/seed{seed}"
MODEL_DIR = "resources/models/{suite}/{setting}"
BASE_VARIANT = "base"
PLOTS = ("curves", "diagnostics", "efficiency")
REFERENCE_DIR = "results/reference"
DATASETS = {"rlla_4k_train": "dataset/rlla_4k/train.parquet"}
# gd2po.recipes.RECIPE_NAMES, which Snakemake cannot import without torch (a test keeps them equal).
RECIPE_NAMES = ("grpo", "gdpo", "dapo", "gd2po_hard", "gd2po_snr", "gd2po_filter_only", "gd2po_reweight_only")


def use_snakemake_environment():
    """Jobs run `python` from the environment that runs Snakemake, activated or not (`make demo`
    calls .venv/bin/snakemake directly). Under `--sdm conda` each rule's own environment decides."""
    from snakemake_interface_executor_plugins.settings import DeploymentMethod

    if DeploymentMethod.CONDA not in workflow.deployment_settings.deployment_method:
        shell.prefix(f'export PATH={shlex.quote(os.path.dirname(sys.executable))}:"$PATH"; ')


class Run(NamedTuple):
    suite: str
    setting: str
    variant: str
    seed: int

    @property
    def path(self):
        return RUN_DIR.format(**self._asdict())


def config_error(key, message):
    return WorkflowError(f"config key {key}: {message}")


def validate_config(schema):
    """Validate `config` against `schema` (relative to the Snakefile) and fill its defaults.

    A violation stops the workflow before any job starts, with one line naming the key.
    """
    import jsonschema

    path = os.path.join(workflow.basedir, schema)
    with open(path) as handle:
        validator = jsonschema.Draft202012Validator(yaml.safe_load(handle))
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        raise config_error(key, f"{error.message} (schema: {schema})")
    validate(config, path)


def variant_spec(name):
    """A variant's {method, label, set}; a plain recipe name needs no `variants` entry."""
    spec = dict(config["variants"].get(name) or {"method": name})
    spec.setdefault("set", {})
    return spec


def compare_settings(suite):
    spec = config["suites"][suite]
    return spec.get("compare") or list(spec["settings"])


def comparison_rows():
    """The comparison table's rows: `base` (if defined), then `methods`."""
    base = [BASE_VARIANT] if BASE_VARIANT in config["variants"] else []
    return base + list(config["methods"])


def check_references():
    """Cross-references the schema cannot express; each error names the offending key."""
    for suite, spec in config["suites"].items():
        for setting in spec.get("compare") or []:
            if setting not in spec["settings"]:
                raise config_error(f"suites.{suite}.compare", f"unknown setting {setting!r}; defined: {', '.join(spec['settings'])}")
        if "prepare" not in spec and "model" not in spec:
            missing = [name for name, setting in spec["settings"].items() if "model" not in setting]
            if missing:
                raise config_error(f"suites.{suite}", f"needs `model` or `prepare` (settings without a model: {', '.join(missing)})")
        for name, setting in spec["settings"].items():
            source = setting.get("model_from")
            if source is None:
                continue
            key = f"suites.{suite}.settings.{name}.model_from"
            if "prepare" not in spec or "model" in setting:
                raise config_error(key, "only for settings whose model `prepare` builds")
            if source not in spec["settings"] or "model_from" in spec["settings"][source]:
                raise config_error(key, f"{source!r} is not a setting of suite {suite} with a model of its own")
    check_recipes()
    if config["baseline"] not in config["methods"]:
        raise config_error("baseline", f"{config['baseline']!r} is not one of `methods`")
    for name, ablation in config["ablations"].items():
        suite = ablation["suite"]
        if suite not in config["suites"]:
            raise config_error(f"ablations.{name}.suite", f"unknown suite {suite!r}; defined: {', '.join(config['suites'])}")
        for setting in ablation["settings"]:
            if setting not in config["suites"][suite]["settings"]:
                raise config_error(f"ablations.{name}.settings", f"unknown setting {setting!r} of suite {suite}")
        if BASE_VARIANT in ablation["variants"]:
            raise config_error(f"ablations.{name}.variants", "`base` is evaluated with the comparison grid only")


def check_recipes():
    """Every method, variant and ablation variant resolves to a recipe, before any train job fails on it."""
    for name, spec in config["variants"].items():
        if spec["method"] not in RECIPE_NAMES:
            raise config_error(f"variants.{name}.method", unknown_recipe(spec["method"]))
    named = [("methods", name) for name in config["methods"]]
    named += [(f"ablations.{ablation}.variants", v) for ablation, spec in config["ablations"].items() for v in spec["variants"]]
    for key, name in named:
        if name not in config["variants"] and name not in RECIPE_NAMES:
            raise config_error(key, f"{unknown_recipe(name)}, nor a `variants` entry")


def unknown_recipe(name):
    return f"{name!r} is not a recipe (recipes: {', '.join(RECIPE_NAMES)})"


def row_seeds(variant):
    """Seeds of a comparison row. `base` is one deterministic model with a fixed held-out set: one seed."""
    return config["seeds"][:1] if variant == BASE_VARIANT else config["seeds"]


def comparison_tables():
    return [(suite, setting) for suite in config["suites"] for setting in compare_settings(suite)]


def run_files(runs, filename):
    return [f"{run.path}/{filename}" for run in runs]


def wildcard_pattern(names):
    return "|".join(sorted(re.escape(str(name)) for name in names))


# --- train --------------------------------------------------------------------------------------


def uses_prepared_model(suite, setting):
    spec = config["suites"][suite]
    return "prepare" in spec and "model" not in spec["settings"][setting]


def model_path(suite, setting):
    spec = config["suites"][suite]
    if uses_prepared_model(suite, setting):
        return MODEL_DIR.format(suite=suite, setting=spec["settings"][setting].get("model_from", setting))
    return spec["settings"][setting].get("model", spec.get("model"))


def repo_path(path):
    """A config path as given if it exists from the working directory, else relative to the repository.

    This keeps `--directory <scratch>` runs working: run configs and accelerate configs stay in the repo.
    """
    if os.path.isabs(path) or os.path.exists(path):
        return path
    return os.path.join(workflow.basedir, path)


def dataset_files(suite):
    return [DATASETS[name] for name in config["suites"][suite]["data"]]


def train_inputs(wildcards):
    inputs = {"run_config": repo_path(config["suites"][wildcards.suite]["run_config"]), "data": dataset_files(wildcards.suite)}
    if uses_prepared_model(wildcards.suite, wildcards.setting):
        inputs["model"] = model_path(wildcards.suite, wildcards.setting)
    return inputs


def run_overrides(wildcards):
    """Overrides in order of precedence (later wins): suite, setting, variant, then the run identity."""
    suite = config["suites"][wildcards.suite]
    variant = variant_spec(wildcards.variant)
    overrides = {}
    overrides.update(suite.get("set", {}))
    overrides.update(suite["settings"][wildcards.setting].get("set", {}))
    overrides.update(variant["set"])
    overrides["method"] = variant["method"]
    overrides["seed"] = int(wildcards.seed)
    overrides["model.path"] = model_path(wildcards.suite, wildcards.setting)
    return overrides


def cli_value(value):
    """`value` as `--set` text that the commands parse back (as YAML) to exactly `value`.

    Plain where that is exact, else JSON; floats keep a decimal point in the mantissa (`1.0e-06`), so
    that a YAML 1.1 reader such as plain PyYAML reads the same number as the commands do.
    """
    if isinstance(value, float):
        mantissa, e, exponent = repr(value).partition("e")
        text = f"{mantissa}.0e{exponent}" if e and "." not in mantissa else repr(value)
    elif isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_./:,+-]+", value) and yaml.safe_load(value) == value:
        text = value
    else:
        text = json.dumps(value)
    if yaml.safe_load(text) != value:
        raise WorkflowError(f"cannot pass {value!r} to `--set` exactly; write it so that YAML reads it back unchanged")
    return text


def set_flags(overrides):
    """`--set key=value` flags, shell-quoted."""
    return " ".join(f"--set {shlex.quote(f'{key}={cli_value(value)}')}" for key, value in overrides.items())


def train_set_flags(wildcards):
    return set_flags(run_overrides(wildcards))


def job_gpus(wildcards):
    return config["suites"][wildcards.suite]["gpus"]


def job_threads(wildcards):
    return config["suites"][wildcards.suite]["threads"]


def launcher(wildcards, resources):
    """`python` for 0-1 GPU; accelerate's launcher with one process per allocated GPU otherwise.

    The job's `gpu` resource is the config's `gpus` unless a profile overrides it (slurm/config.yaml
    sets 1): fewer GPUs than the config asks for is an error here, before anything is submitted.
    """
    suite = config["suites"][wildcards.suite]
    allocated = int(resources.get("gpu", 0) or 0)
    if allocated < suite["gpus"]:
        raise WorkflowError(
            f"suites.{wildcards.suite}.gpus is {suite['gpus']} but its jobs get gpu={allocated}; "
            "on SLURM add `--profile slurm/multi_gpu` after `--profile slurm` (docs/workflow.md)"
        )
    if allocated <= 1:
        return "python"
    accelerate_config = shlex.quote(repo_path(suite["accelerate_config"]))
    return f"python -m accelerate.commands.launch --config_file {accelerate_config} --num_processes {allocated}"


def run_dir_of(wildcards, output):
    """The run dir of a job: the folder of its first output (summary.json or eval.json)."""
    return os.path.dirname(output[0])


def output_prefix(wildcards, output):
    """A report job's output prefix: its first output without the format suffix."""
    return os.path.splitext(output[0])[0]


# --- prepare and evaluate -----------------------------------------------------------------------


def prepare_flags(wildcards):
    spec = config["suites"][wildcards.suite]["prepare"]
    task_sets = {
        key: value
        for key, value in config["suites"][wildcards.suite]["settings"][wildcards.setting].get("set", {}).items()
        if key.startswith("task.")
    }
    steps = f"--warmstart-steps {spec['warmstart_steps']} " if "warmstart_steps" in spec else ""
    return (
        f"--task {shlex.quote(spec['task'])} --seed {spec['seed']} --size {shlex.quote(spec['size'])} "
        f"{steps}{set_flags(task_sets)}"
    ).strip()


def evaluate_flags(wildcards):
    spec = config["suites"][wildcards.suite]["evaluate"]
    limit = "" if spec["limit"] is None else f" --limit {spec['limit']}"
    return f"--suite {spec['suite']} --benchmarks {shlex.quote(spec['benchmarks'])}{limit}"


# --- report -------------------------------------------------------------------------------------


def variant_label(name):
    return variant_spec(name).get("label", "")


def row_flags(rows):
    """`--row LABEL=DIR` per (setting, variant) row; empty labels let the report name the method."""
    return " ".join(f"--row {shlex.quote(f'{label}={path}')}" for label, path in rows)


def seed_list(seeds):
    return ",".join(str(seed) for seed in seeds)


def seed_flags(seeds, variants=()):
    """`--seeds`: the report reads only the seeds these jobs declare as inputs, never other seed dirs
    (stale runs, or extra seeds of runs an ablation shares with the comparison grid); `--row-seeds`
    for the variants with fewer seeds (`base`)."""
    flags = [f"--seeds {seed_list(seeds)}"]
    flags += [f"--row-seeds {shlex.quote(f'{v}={seed_list(row_seeds(v))}')}" for v in variants if row_seeds(v) != seeds]
    return " ".join(flags)


def comparison_row_dirs(suite, setting, variants):
    return [(variant_label(v), f"results/{suite}/{setting}/{v}") for v in variants]


def ablation_row_dirs(name):
    ablation = config["ablations"][name]
    many_settings = len(ablation["settings"]) > 1
    rows = []
    for setting, variant in itertools.product(ablation["settings"], ablation["variants"]):
        label = variant_label(variant)
        if many_settings:
            label = f"{label or '{method}'} [{setting}]"
        rows.append((label, f"results/{ablation['suite']}/{setting}/{variant}"))
    return rows


def ablation_inputs(wildcards):
    return run_files(ablation_runs(wildcards.ablation), "eval.json")


def table_inputs(wildcards):
    runs = [Run(wildcards.suite, wildcards.setting, v, s) for v in comparison_rows() for s in row_seeds(v)]
    return run_files(runs, "eval.json")


def curve_inputs(wildcards):
    runs = [Run(wildcards.suite, wildcards.setting, v, s) for v in config["methods"] for s in config["seeds"]]
    return run_files(runs, "summary.json")


def ablation_runs(name):
    ablation = config["ablations"][name]
    return [
        Run(ablation["suite"], setting, variant, seed)
        for setting, variant, seed in itertools.product(ablation["settings"], ablation["variants"], ablation["seeds"])
    ]


def table_flags(wildcards):
    suite = config["suites"][wildcards.suite]
    setting = suite["settings"][wildcards.setting]
    flags = [row_flags(comparison_row_dirs(wildcards.suite, wildcards.setting, comparison_rows()))]
    flags.append(seed_flags(config["seeds"], comparison_rows()))
    flags += metric_flags(wildcards.suite)
    reference = setting.get("reference")
    if reference:
        flags.append(
            f"--reference-model {shlex.quote(reference['model'])} --reference-rewards {shlex.quote(reference['rewards'])} "
            f"--reference-dir {shlex.quote(repo_path(REFERENCE_DIR))}"
        )
    return " ".join(flags)


def metric_flags(suite):
    table = config["suites"][suite]["table"]
    flags = []
    if table["columns"]:
        flags.append(f"--columns {shlex.quote(','.join(table['columns']))}")
    if table["lower_is_better"]:
        flags.append(f"--lower-is-better {shlex.quote(','.join(table['lower_is_better']))}")
    return flags


def ablation_table_flags(wildcards):
    ablation = config["ablations"][wildcards.ablation]
    rows = [row_flags(ablation_row_dirs(wildcards.ablation)), seed_flags(ablation["seeds"])]
    return " ".join(rows + metric_flags(ablation["suite"]))


def sweep_flags(wildcards):
    ablation = config["ablations"][wildcards.ablation]
    rows = f"{row_flags(ablation_row_dirs(wildcards.ablation))} {seed_flags(ablation['seeds'])}"
    primary = config["suites"][ablation["suite"]]["table"]["primary"]
    return f"{rows} --x {shlex.quote(ablation['sweep'])} --metric {shlex.quote(primary)}"


def sweep_ablations():
    return [name for name, ablation in config["ablations"].items() if ablation.get("sweep")]


def curve_flags(wildcards):
    rows = row_flags(comparison_row_dirs(wildcards.suite, wildcards.setting, config["methods"]))
    return f"{rows} {seed_flags(config['seeds'])}"


def efficiency_flags(wildcards):
    reward = config["suites"][wildcards.suite]["efficiency_reward"]
    baseline = f"results/{wildcards.suite}/{wildcards.setting}/{config['baseline']}"
    return f"{curve_flags(wildcards)} --baseline {shlex.quote(baseline)} --reward {shlex.quote(reward)}"


def report_targets():
    targets = []
    for suite, setting in comparison_tables():
        stem = f"{suite}/{setting}"
        targets += [f"results/tables/{stem}.{ext}" for ext in ("csv", "md", "tex")]
        targets += [f"results/plots/{stem}/{plot}.{ext}" for plot in PLOTS for ext in ("png", "pdf")]
        targets.append(f"results/plots/{stem}/efficiency.csv")
    for name in config["ablations"]:
        targets += [f"results/tables/ablations/{name}.{ext}" for ext in ("csv", "md", "tex")]
    for name in sweep_ablations():
        targets += [f"results/plots/ablations/{name}.{ext}" for ext in ("png", "pdf")]
    return targets
