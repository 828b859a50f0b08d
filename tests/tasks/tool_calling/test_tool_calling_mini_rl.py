"""RL on the mini task as the embedded default runs it: the warm start of config/config.yaml, the run
config config/runs/tool_calling_mini.yaml, GRPO on seed 0. It raises the reward over its steps and
the held-out exact-match accuracy well above the warm-started model's (about 3 minutes, most of it
the 1000-step warm start)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gd2po.config import load
from gd2po.engine.run import train

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["suites"]["tool_calling"]


@pytest.fixture(scope="module")
def warmed_model(tmp_path_factory):
    from gd2po.models.prepare import prepare_model

    spec = dict(DEFAULT["prepare"])  # the task plus any of seed, size, warmstart_steps it overrides
    out = tmp_path_factory.mktemp("models") / "tool-calling-mini"
    prepare_model(spec.pop("task"), out, **spec)
    return out


def run_and_evaluate(model, out, *sets: str) -> dict:
    config = load(REPO / DEFAULT["run_config"], [f"model.path={model}", "method=grpo", "seed=0", *sets])
    train(config, out)
    command = [sys.executable, "-m", "gd2po", "evaluate", "--run", str(out), "--suite", "tool_calling", "--benchmarks", "mini"]
    subprocess.run(command, check=True, capture_output=True)
    return json.loads((out / "eval.json").read_text())["metrics"]


@pytest.fixture(scope="module")
def base_and_trained(warmed_model, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("runs")
    base = run_and_evaluate(warmed_model, scratch / "base", "optimization.max_steps=1", "optimization.learning_rate=0")
    trained = run_and_evaluate(warmed_model, scratch / "grpo")
    rows = [json.loads(line) for line in (scratch / "grpo" / "metrics.jsonl").read_text().splitlines()]
    return base, trained, rows


def test_the_warm_start_is_sometimes_right(base_and_trained):
    base, _, _ = base_and_trained
    assert 20 <= base["mini/accuracy"] <= 60, base


def test_rl_raises_the_reward_over_its_steps(base_and_trained):
    _, _, rows = base_and_trained
    assert len(rows) == 20
    correctness = [row["reward/correctness/mean"] for row in rows]
    assert statistics.fmean(correctness[-5:]) > statistics.fmean(correctness[:5]) + 0.5, correctness
    assert all(row["reward/correctness/failures"] == 0 for row in rows)


def test_rl_raises_held_out_accuracy(base_and_trained):
    base, trained, _ = base_and_trained
    assert trained["mini/accuracy"] >= base["mini/accuracy"] + 15, (base, trained)
    assert trained["mini/correctness"] > base["mini/correctness"]
