"""A real run of config/test/config.yaml: every rule, every method, 2 steps, 1 seed (a few minutes).

Select with `pytest -m slow tests/workflow`. It runs the prepare, train, evaluate and report commands
for real.
"""

from __future__ import annotations

import csv
import json
import math
import os

import pytest

from workflow_helpers import CONFIGS, output_of, snakemake

pytestmark = pytest.mark.slow

ROWS = ["base", "grpo", "gdpo", "dapo", "gd2po_hard", "gd2po_snr"]
SETTING = "results/tool_calling/3rewards"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e")
    env = os.environ.copy()
    env["PATH"] = "/usr/bin:/bin"  # no activated venv: the jobs must still find the suite's Python
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    result = snakemake("--cores", "2", "--configfile", CONFIGS["test"], "--directory", workdir, env=env, timeout=1200)
    assert result.returncode == 0, output_of(result)[-6000:]
    return workdir, env


def read_csv(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_the_table_has_a_row_per_method_with_finite_metrics(finished):
    workdir, _ = finished
    records = read_csv(workdir / "results/tables/tool_calling/3rewards.csv")
    assert [r["variant"] for r in records] == ROWS
    assert {r["kind"] for r in records} == {"ours"} and {r["seeds"] for r in records} == {"1"}
    metrics = [c for c in records[0] if c.startswith("mini/") and not c.endswith(" ci95")]
    assert "mini/accuracy" in metrics
    assert all(math.isfinite(float(r[m])) for r in records for m in metrics)
    assert (workdir / "results/tables/tool_calling/3rewards.md").read_text().count("\n| ") == len(ROWS) + 1


def test_every_run_trained_its_steps_and_was_evaluated(finished):
    workdir, _ = finished
    for variant in ROWS[1:] + ["snr_tau0.0"]:
        run = workdir / SETTING / variant / "seed0"
        steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
        assert steps == [1, 2], variant
        assert (run / "model" / "config.json").is_file()
        assert json.loads((run / "eval.json").read_text())["suite"] == "tool_calling"


def test_the_ablation_and_every_figure_exist(finished):
    workdir, _ = finished
    assert [r["variant"] for r in read_csv(workdir / "results/tables/ablations/tau.csv")] == ["snr_tau0.0", "gd2po_snr"]
    for name in ("curves", "diagnostics", "efficiency"):
        for suffix in (".png", ".pdf"):
            assert (workdir / "results/plots/tool_calling/3rewards" / f"{name}{suffix}").stat().st_size > 1000
    assert (workdir / "results/plots/ablations/tau.png").stat().st_size > 1000


def test_a_second_run_has_nothing_to_do(finished):
    workdir, env = finished
    result = snakemake("-n", "--cores", "2", "--configfile", CONFIGS["test"], "--directory", workdir, env=env)
    assert result.returncode == 0 and "Nothing to be done" in output_of(result)


def test_the_html_report_carries_the_captions(finished):
    workdir, env = finished
    report = workdir / "report.html"
    result = snakemake("--report", report, "--configfile", CONFIGS["test"], "--directory", workdir, env=env)
    assert result.returncode == 0, output_of(result)
    assert report.stat().st_size > 100_000
