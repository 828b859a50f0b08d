"""The DAG without running jobs: lint, dry runs of every config, the config schema, the profiles."""

from __future__ import annotations

import re

import pytest
import yaml

from gd2po.recipes import RECIPE_NAMES
from workflow_helpers import CONFIGS, REPO, eight_gpu_tool_calling, job_counts, output_of, snakemake, write_config

# Expected jobs per config (see docs/workflow.md): keeping these numbers here makes any change to
# the experiment grid a visible, reviewed change.
EXPECTED_JOBS = {
    "test": {"prepare_model": 1, "train": 7, "evaluate": 7, "table": 1, "ablation_table": 1,
             "plot_curves": 1, "plot_diagnostics": 1, "plot_efficiency": 1, "plot_sweep": 1, "all": 1},
    "default": {"prepare_model": 2, "train": 52, "evaluate": 52, "table": 2, "ablation_table": 5,
                "plot_curves": 2, "plot_diagnostics": 2, "plot_efficiency": 2, "plot_sweep": 1, "all": 1},
    "paper_tool_calling": {"download_rlla_4k_train": 1, "train": 165, "evaluate": 165, "table": 9,
                           "ablation_table": 5, "plot_curves": 9, "plot_diagnostics": 9, "plot_efficiency": 9,
                           "plot_sweep": 1, "all": 1},
    "paper_safety": {"train": 20, "evaluate": 20, "table": 1, "plot_curves": 1, "plot_diagnostics": 1,
                     "plot_efficiency": 1, "ablation_table": 1, "plot_sweep": 1, "all": 1},
}
# Runs needing more than one GPU take the multi-GPU profile on top of the SLURM one.
SLURM_PROFILES = {"paper_safety": ["--profile", "slurm", "--profile", "slurm/multi_gpu"]}


def test_lint_passes():
    result = snakemake("--lint")
    assert result.returncode == 0, output_of(result)
    assert "Congratulations, your workflow is in a good condition!" in output_of(result)


def test_default_dry_run_from_the_repository_root():
    """What `make demo` runs, as a dry run: the embedded default with the workflow profile."""
    result = snakemake("-n", "--cores", "2", "--quiet", "rules")
    assert result.returncode == 0, output_of(result)
    assert job_counts(output_of(result)) == EXPECTED_JOBS["default"]


@pytest.mark.parametrize("name", sorted(EXPECTED_JOBS))
@pytest.mark.parametrize("slurm", [False, True], ids=["local", "slurm"])
def test_every_config_dry_runs(name, slurm, workdir):
    profile = SLURM_PROFILES.get(name, ["--profile", "slurm"]) if slurm else []
    result = snakemake("-n", "--cores", "all", *profile, "--configfile", CONFIGS[name], "--directory", workdir)
    assert result.returncode == 0, output_of(result)
    assert job_counts(output_of(result)) == EXPECTED_JOBS[name]
    if slurm:
        assert "slurm_partition=gpu" in output_of(result) and "cpus_per_task=" in output_of(result)


def test_the_default_dry_runs_in_another_directory_without_a_configfile(workdir):
    """`--directory <scratch>` alone: the embedded default is found next to the Snakefile."""
    result = snakemake("-n", "--cores", "2", "--directory", workdir)
    assert result.returncode == 0, output_of(result)
    assert job_counts(output_of(result)) == EXPECTED_JOBS["default"]


def test_train_and_evaluate_run_single_threaded_locally_so_cores_run_jobs_side_by_side(workdir):
    result = snakemake("-n", "--cores", "2", "--configfile", CONFIGS["test"], "--directory", workdir)
    assert result.returncode == 0, output_of(result)
    text = output_of(result)
    blocks = [block for block in re.split(r"\n(?=rule \w+:)", text) if block.startswith(("rule train:", "rule evaluate:"))]
    assert len(blocks) == EXPECTED_JOBS["test"]["train"] + EXPECTED_JOBS["test"]["evaluate"]
    # Snakemake prints `threads: N` only for N > 1, so no line at all is the single-threaded case.
    threads = [int(n) for block in blocks for n in re.findall(r"threads: (\d+)", block)]
    assert all(n == 1 for n in threads)


def test_a_schema_violation_stops_before_any_job_naming_the_key(tmp_path, workdir):
    config = write_config(tmp_path / "bad.yaml", seeds=[0, -1])
    result = snakemake("--cores", "2", "--configfile", config, "--directory", workdir)
    assert result.returncode != 0
    assert "config key seeds.1: -1 is less than the minimum of 0" in output_of(result)
    assert "rule train" not in output_of(result)
    assert sorted(p.name for p in workdir.iterdir()) in ([], [".snakemake"])


def test_an_unknown_suite_key_is_named(tmp_path, workdir):
    config = yaml.safe_load(CONFIGS["test"].read_text())
    config["suites"]["tool_calling"]["gpux"] = 1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    result = snakemake("-n", "--cores", "2", "--configfile", path, "--directory", workdir)
    assert result.returncode != 0
    assert "config key suites.tool_calling: Additional properties are not allowed ('gpux' was unexpected)" in output_of(result)


def test_an_ablation_on_an_unknown_setting_is_named(tmp_path, workdir):
    config = yaml.safe_load(CONFIGS["test"].read_text())
    config["ablations"]["tau"]["settings"] = ["5rewards"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    result = snakemake("-n", "--cores", "2", "--configfile", path, "--directory", workdir)
    assert result.returncode != 0
    assert "config key ablations.tau.settings: unknown setting '5rewards' of suite tool_calling" in output_of(result)


def test_a_configfile_replaces_the_default_instead_of_merging(workdir):
    """Otherwise a paper run would also train the default's mini suites."""
    result = snakemake("-n", "--cores", "2", "--configfile", CONFIGS["test"], "--directory", workdir)
    assert result.returncode == 0, output_of(result)
    assert "results/tool_calling/" in output_of(result)
    assert "results/safety/" not in output_of(result)


@pytest.mark.parametrize("key, edit", [
    ("methods", lambda c: c["methods"].append("gd2po_snrr")),
    ("ablations.tau.variants", lambda c: c["ablations"]["tau"]["variants"].append("gd2po_snrr")),
    ("variants.snr_tau0.0.method", lambda c: c["variants"]["snr_tau0.0"].update(method="gd2po_snrr")),
])
def test_a_misspelled_method_is_named_before_any_job(tmp_path, workdir, key, edit):
    config = write_config(tmp_path / "bad.yaml", edit=edit)
    result = snakemake("--cores", "2", "--configfile", config, "--directory", workdir)
    assert result.returncode != 0
    recipes = ", ".join(RECIPE_NAMES)  # the workflow's list of recipes is gd2po.recipes' list
    assert f"config key {key}: 'gd2po_snrr' is not a recipe (recipes: {recipes})" in output_of(result)
    assert "rule train" not in output_of(result)


def test_every_recipe_is_a_method_the_workflow_accepts(tmp_path, workdir):
    config = write_config(tmp_path / "all.yaml", methods=list(RECIPE_NAMES))
    result = snakemake("-n", "--cores", "2", "--configfile", config, "--directory", workdir)
    assert result.returncode == 0, output_of(result)
    for name in RECIPE_NAMES:
        assert f"results/tool_calling/3rewards/{name}/seed0/summary.json" in output_of(result)


def test_an_empty_accelerate_config_is_named(tmp_path, workdir):
    config = write_config(tmp_path / "bad.yaml", edit=lambda c: c["suites"]["tool_calling"].update(accelerate_config=""))
    result = snakemake("-n", "--cores", "2", "--configfile", config, "--directory", workdir)
    assert result.returncode != 0
    assert "config key suites.tool_calling.accelerate_config: '' should be non-empty" in output_of(result)


def test_ablation_runs_are_named_deltas_on_the_command_line(workdir):
    result = snakemake("-n", "-p", "--cores", "2", "--configfile", CONFIGS["default"], "--directory", workdir,
                       "results/tool_calling/3rewards/snr_paper_rule/seed1/summary.json")
    train = next(line for line in output_of(result).splitlines() if " -m gd2po train " in line)
    for flag in ("--set algorithm.tau=0.8", "--set algorithm.filter_rule=paper", "--set method=gd2po_snr",
                 "--set seed=1", "--set task.rewards=correctness,length,format",
                 "--set model.path=resources/models/tool_calling/3rewards"):
        assert flag in train
    assert "--out results/tool_calling/3rewards/snr_paper_rule/seed1 " in train


def test_small_floats_reach_the_command_as_floats(workdir):
    """The workflow writes `1.0e-06`, which every YAML reader (1.1 or 1.2) reads as a float."""
    result = snakemake("-n", "-p", "--profile", "slurm", "--profile", "slurm/multi_gpu", "--configfile",
                       CONFIGS["paper_safety"], "--directory", workdir,
                       "results/safety/useful_harmless/gd2po_snr/seed0/summary.json")
    assert "--set algorithm.snr_eps=1.0e-06" in output_of(result)


def test_settings_that_differ_in_rewards_share_one_warm_start(workdir):
    result = snakemake("-n", "-p", "--cores", "2", "--configfile", CONFIGS["default"], "--directory", workdir,
                       "results/tool_calling/2rewards/gdpo/seed0/summary.json")
    assert "--set model.path=resources/models/tool_calling/3rewards" in output_of(result)
    assert "resources/models/tool_calling/2rewards" not in output_of(result)


def test_more_gpus_than_the_profile_gives_is_refused_before_submission(tmp_path, workdir):
    config = eight_gpu_tool_calling(tmp_path / "eight.yaml")
    result = snakemake("-n", "--profile", "slurm", "--configfile", config, "--directory", workdir)
    assert result.returncode != 0
    assert "suites.tool_calling.gpus is 8 but its jobs get gpu=1" in output_of(result)


def test_multi_gpu_training_launches_through_accelerate(tmp_path, workdir):
    config = eight_gpu_tool_calling(tmp_path / "eight.yaml")
    result = snakemake("-n", "-p", "--profile", "slurm", "--profile", "slurm/multi_gpu",
                       "--configfile", config, "--directory", workdir, "results/tool_calling/qwen2.5-1.5b_clf/gd2po_snr/seed0/summary.json")
    assert result.returncode == 0, output_of(result)
    train = next(line for line in output_of(result).splitlines() if " -m gd2po train " in line)
    assert train.startswith("Shell command: python -m accelerate.commands.launch --config_file ")
    assert "--num_processes 8 -m gd2po train" in train


def profile_keys(path):
    return set(yaml.safe_load(path.read_text()))


def test_the_workflow_profile_never_overrides_a_slurm_profile_key():
    """profiles/default beats --profile key by key; an overlap would silently drop SLURM settings."""
    default = profile_keys(REPO / "profiles" / "default" / "config.yaml")
    for slurm in (REPO / "slurm" / "config.yaml", REPO / "slurm" / "multi_gpu" / "config.yaml"):
        assert not default & profile_keys(slurm), slurm
    forbidden = {"default-resources", "set-resources", "set-threads", "resources", "jobs", "cores",
                 "executor", "retries", "latency-wait"}
    assert not default & forbidden


def test_the_multi_gpu_profile_repeats_every_gpu_rule_of_the_slurm_profile():
    base = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text())
    multi = yaml.safe_load((REPO / "slurm" / "multi_gpu" / "config.yaml").read_text())
    assert set(multi) == {"set-resources", "set-threads"}
    assert set(multi["set-resources"]) == set(base["set-resources"])
    for rule, resources in multi["set-resources"].items():
        assert set(resources) == set(base["set-resources"][rule])
        assert resources["gpu"] > 1 and resources["cpus_per_task"] >= 8 * resources["gpu"]


def test_the_slurm_profile_has_only_one_profile_file():
    assert not (REPO / "slurm" / "profile.yaml").exists()


def test_report_jobs_read_only_the_seeds_they_declare(workdir):
    """Comparison rows read `seeds` (base its first), ablations their own: other seed dirs stay out."""
    result = snakemake("-n", "-p", "--cores", "2", "--configfile", CONFIGS["default"], "--directory", workdir,
                       "results/tables/tool_calling/3rewards.csv", "results/tables/ablations/tau.csv",
                       "results/plots/ablations/tau.png", "results/plots/tool_calling/3rewards/efficiency.png")
    assert result.returncode == 0, output_of(result)
    seeds = {}
    for line in output_of(result).splitlines():
        if " -m gd2po report " in line:
            seeds[re.search(r"--out (\S+)", line).group(1)] = re.findall(r"--(?:row-)?seeds \S+", line)
    assert seeds == {
        "results/tables/tool_calling/3rewards": ["--seeds 0,1,2", "--row-seeds base=0"],
        "results/plots/tool_calling/3rewards/efficiency": ["--seeds 0,1,2"],
        "results/tables/ablations/tau": ["--seeds 0,1"],
        "results/plots/ablations/tau": ["--seeds 0,1"],
    }
