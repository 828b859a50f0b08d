"""`python -m gd2po evaluate --suite safety`: metrics per test set, the mini benchmark, --limit, scorers."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import eval_helpers
from eval_helpers import fake_generation

from gd2po.errors import UserError
from gd2po.evaluate import cli
from gd2po.evaluate import safety as suite
from gd2po.evaluate.context import EvalContext
from gd2po.tasks.safety import data
from gd2po.tasks.safety.mini import ANSWERS, MiniSafetyOptions, MiniSafetyTask
from gd2po.tasks.safety.reward_models import RewardModelScorer, RewardModelSpec
from gd2po.tasks.safety.rules import is_harmful_prompt

REPO = Path(__file__).resolve().parents[2]
COMPLY, REFUSE, REDIRECT = ANSWERS["comply"][0], ANSWERS["refuse"][0], ANSWERS["redirect"][0]


def make_run(tmp_path, task: dict, max_completion_length: int = 24) -> EvalContext:
    return eval_helpers.make_run(tmp_path, task, max_completion_length=max_completion_length)


def ideal(conversation) -> str:
    return REDIRECT if is_harmful_prompt(conversation) else COMPLY


def test_defaults_depend_on_the_run():
    assert suite.default_benchmarks({"task": {"name": "safety_mini"}}) == ("mini",)
    assert suite.default_benchmarks({"task": {"name": "safety"}}) == ("alpaca", "hh_rlhf", "pku_saferlhf")
    assert set(suite.BENCHMARKS) == {"alpaca", "hh_rlhf", "pku_saferlhf", "mini"}


def test_mini_pools_the_three_held_out_sets_in_one_generation_pass(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, ideal)
    metrics = suite.BENCHMARKS["mini"](make_run(tmp_path, {"name": "safety_mini"}))
    n = MiniSafetyOptions().num_test_prompts
    assert calls == [{"n": 3 * n, "max_new_tokens": 24}]  # the run's own completion budget
    assert metrics["refusal_harmful"] == 1.0 and metrics["refusal_benign"] == 0.0
    assert metrics["harmless"] == 1.0 and metrics["n"] == 3 * n
    # The ideal policy: redirect every harmful prompt (PKU; half of HH), answer every benign one.
    assert metrics["pku_saferlhf/useful"] == 1.0 and metrics["alpaca/useful"] == 1.0
    assert metrics["hh_rlhf/refusal_harmful"] == 1.0 and metrics["hh_rlhf/refusal_benign"] == 0.0
    assert metrics["useful"] == 1.0 and metrics["reward"] == 2.0
    assert "refusal_benign" not in {k.split("/", 1)[1] for k in metrics if k.startswith("pku_saferlhf/")}
    records = [json.loads(line) for line in (tmp_path / "run" / "eval_work" / "safety_mini.jsonl").open()]
    assert len(records) == 3 * n and {r["data_source"] for r in records} == {
        data.ALPACA, data.HH_RLHF, data.PKU_SAFERLHF}


def test_compliance_everywhere_is_helpful_and_harmful(tmp_path, monkeypatch):
    fake_generation(monkeypatch, lambda conversation: COMPLY if len(conversation[0]["content"]) % 2 else "")
    context = make_run(tmp_path, {"name": "safety_mini", "num_test_prompts": 6})
    metrics = suite.BENCHMARKS["pku_saferlhf"](context)
    answered = [len(row["prompt"][0]["content"]) % 2 for row in MiniSafetyTask().evaluation_sets(
        MiniSafetyOptions(num_test_prompts=6))["pku_saferlhf"]]
    assert metrics["empty_responses"] == answered.count(0)  # the counted fallback
    assert metrics["useful"] == pytest.approx(sum(answered) / 6)
    assert metrics["harmless"] == pytest.approx((answered.count(0) - sum(answered)) / 6)
    assert metrics["refusal_harmful"] == pytest.approx(answered.count(0) / 6)


def test_limit_keeps_the_first_prompts_of_each_set(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, ideal)
    context = make_run(tmp_path, {"name": "safety_mini"})
    context = EvalContext(**{**context.__dict__, "limit": 5})
    metrics = suite.BENCHMARKS["mini"](context)
    assert calls[0]["n"] == 15 and metrics["n"] == 15


def _score_model(path: Path) -> Path:
    from transformers import Qwen2Config, Qwen2ForSequenceClassification

    from gd2po.models.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(["How do I boil an egg?", "Sorry, I can't help with that."] * 4, vocab_size=300)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048,
                         pad_token_id=tokenizer.pad_token_id, num_labels=1)
    torch.manual_seed(0)
    Qwen2ForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_real_task_scores_each_set_with_the_configured_reward_models(tmp_path, monkeypatch):
    model = _score_model(tmp_path / "rm")
    fake_generation(monkeypatch, lambda conversation: "Sure, here it is.")
    task = {"name": "safety", "useful_model": str(model), "harmless_model": str(model),
            "harmless_higher_is_better": False, "harmless_shift": 1.0, "rm_max_length": 40, "check_sign": False}
    context = EvalContext(**{**make_run(tmp_path, task, max_completion_length=0).__dict__, "limit": 3})
    metrics = suite.BENCHMARKS["hh_rlhf"](context)
    rows = data.load_test_set("hh_rlhf").rows[:3]
    conversations, responses = [r["prompt"] for r in rows], ["Sure, here it is."] * 3
    raw = RewardModelScorer(RewardModelSpec(str(model), max_length=40)).score(conversations, responses)
    assert metrics["useful"] == pytest.approx(sum(raw) / 3, abs=1e-5)
    assert metrics["harmless"] == pytest.approx(sum(1.0 - r for r in raw) / 3, abs=1e-5)  # sign and shift applied
    assert metrics["reward"] == pytest.approx(metrics["useful"] + metrics["harmless"], abs=1e-6)
    assert metrics["truncated"] >= 1 and metrics["n"] == 3  # HH conversations exceed 40 tokens
    assert "refusal_harmful" not in metrics
    with pytest.raises(UserError, match="mini"):
        suite.BENCHMARKS["mini"](context)


def test_missing_reward_model_path_is_a_user_error(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, lambda conversation: "ok")
    context = EvalContext(**{**make_run(tmp_path, {"name": "safety"}).__dict__, "limit": 1})
    with pytest.raises(UserError, match="task.useful_model"):
        suite.BENCHMARKS["alpaca"](context)
    assert calls == []  # reported before generating


def cli_args(run_dir: Path, benchmarks: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(["--run", str(run_dir), "--suite", "safety", "--benchmarks", benchmarks, "--limit", "2"])


def test_a_bad_reward_model_dir_is_refused_before_any_set_generates(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, lambda conversation: "ok")
    model = _score_model(tmp_path / "rm")
    missing = tmp_path / "no-such-cm"
    context = make_run(tmp_path, {"name": "safety", "useful_model": str(model), "harmless_model": str(missing)})
    with pytest.raises(UserError, match=rf"task.harmless_model: {missing} holds no model \(config.json missing\)"):
        cli.run(cli_args(context.run_dir, "alpaca,hh_rlhf"))
    assert calls == [] and not (context.run_dir / "eval.json").exists()


def test_a_tool_calling_run_is_refused_by_the_safety_suite_before_generating(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, lambda conversation: "ok")
    context = make_run(tmp_path, {"name": "tool_calling"})
    with pytest.raises(UserError, match="is not a safety task; evaluate it with --suite tool_calling"):
        cli.run(cli_args(context.run_dir, "alpaca"))
    assert calls == []


def test_the_requested_sets_are_generated_in_one_pass_and_scored_per_set(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, ideal)
    context = make_run(tmp_path, {"name": "safety_mini"})
    assert cli.run(cli_args(context.run_dir, "alpaca,hh_rlhf,pku_saferlhf")) == 0
    assert calls == [{"n": 3 * 2, "max_new_tokens": 24}]  # one engine start for the three sets
    metrics = json.loads((context.run_dir / "eval.json").read_text())["metrics"]
    for name in ("alpaca", "hh_rlhf", "pku_saferlhf"):  # each set scored on its own prompts' responses
        assert metrics[f"{name}/n"] == 2 and metrics[f"{name}/harmless"] == 1.0 and metrics[f"{name}/useful"] == 1.0


def test_each_set_reuses_the_test_sets_loaded_for_the_first(tmp_path, monkeypatch):
    fake_generation(monkeypatch, ideal)
    loads = []
    load = MiniSafetyTask.evaluation_sets
    monkeypatch.setattr(MiniSafetyTask, "evaluation_sets", lambda self, *args: loads.append(args) or load(self, *args))
    context = make_run(tmp_path, {"name": "safety_mini"})
    for name in ("alpaca", "hh_rlhf", "pku_saferlhf"):
        assert suite.BENCHMARKS[name](context)["n"] == MiniSafetyOptions().num_test_prompts
    assert len(loads) == 1


def test_cli_end_to_end_on_a_tiny_policy(tmp_path):
    """A random tiny policy through `python -m gd2po evaluate`: real generation, eval.json written."""
    from gd2po.models.builder import build_model
    from gd2po.models.tokenizer import train_tokenizer

    task = MiniSafetyTask()
    tokenizer = train_tokenizer(task.tokenizer_corpus(task.Options(), 0), vocab_size=384)
    run = make_run(tmp_path, {"name": "safety_mini"}, max_completion_length=8)
    build_model(tokenizer, "tiny", seed=0).save_pretrained(run.model_dir)
    tokenizer.save_pretrained(run.model_dir)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "gd2po", "evaluate", "--run", str(run.run_dir), "--suite", "safety",
         "--benchmarks", "mini", "--limit", "4", "--batch-size", "12"],
        capture_output=True, text=True, cwd=REPO, env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((run.run_dir / "eval.json").read_text())["metrics"]
    assert metrics["mini/n"] == 12.0
    assert 0.0 <= metrics["mini/useful"] <= 1.0 and -1.0 <= metrics["mini/harmless"] <= 1.0
    assert metrics["mini/reward"] == pytest.approx(metrics["mini/useful"] + metrics["mini/harmless"])
