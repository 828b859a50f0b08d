"""`python -m gd2po evaluate --suite tool_calling`: benchmark wiring, defaults, --limit, no partial eval.json."""

from __future__ import annotations

import argparse
import json
import sys
import types

import pytest

import eval_helpers
from eval_helpers import fake_generation

from gd2po.errors import UserError
from gd2po.evaluate import cli
from gd2po.evaluate import tool_calling as suite
from gd2po.evaluate.api_bank import load_cases
from gd2po.evaluate.context import EvalContext
from gd2po.tasks.tool_calling.mini import MiniOptions, held_out_problems


def make_run(tmp_path, task: dict) -> EvalContext:
    return eval_helpers.make_run(tmp_path, task, seed=3, optimization={"max_steps": 10})


def mini_truth(conversation) -> str:
    request = conversation[-1]["content"]
    problem = next(p for p in held_out_problems(MiniOptions()) if p.request == request)
    return "  " + problem.ground_truth().replace("call the tool", "one two three four five") + "\n"


def test_defaults_depend_on_the_run():
    assert suite.default_benchmarks({"task": {"name": "tool_calling_mini"}}) == ("mini",)
    assert suite.default_benchmarks({"task": {"name": "tool_calling"}}) == ("api_bank", "bfcl")
    assert suite.DEFAULT_BENCHMARKS == ("api_bank", "bfcl")
    assert set(suite.BENCHMARKS) == {"mini", "api_bank", "bfcl"}


def test_mini_scores_gold_answers_perfectly(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, mini_truth)
    context = make_run(tmp_path, {"name": "tool_calling_mini", "rewards": "correctness,length,format"})
    metrics = suite.BENCHMARKS["mini"](context)
    assert calls == [{"n": MiniOptions().num_test, "max_new_tokens": 48}]  # the run's own completion budget
    assert metrics["accuracy"] == 100.0 and metrics["format_rate"] == 100.0
    assert metrics["correctness"] == 3.0 and metrics["length"] == 0.62  # 5 of 8 target words, rounded as rlla.py does
    assert metrics["format"] == 1.0 and metrics["think_words_mean"] == 5.0


def test_mini_with_limit_and_wrong_answers(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, lambda conversation: mini_truth(conversation).replace('"}}', 'x"}}'))
    context = make_run(tmp_path, {"name": "tool_calling_mini"})
    metrics = suite.BENCHMARKS["mini"](EvalContext(**{**context.__dict__, "limit": 5}))
    assert calls[0]["n"] == 5
    assert metrics["accuracy"] == 0.0 and metrics["format_rate"] == 100.0 and metrics["correctness"] < 3.0


def test_mini_refuses_other_tasks(tmp_path):
    with pytest.raises(UserError, match="tool_calling_mini runs only"):
        suite.BENCHMARKS["mini"](make_run(tmp_path, {"name": "tool_calling"}))


def test_bfcl_keys_and_limit(tmp_path, monkeypatch):
    seen = {}

    def fake_bfcl(model_dir, work_dir):
        seen["work_dir"] = work_dir
        return {"bfcl/overall": 12.5, "bfcl/complete": False}

    monkeypatch.setitem(sys.modules, "gd2po.evaluate.bfcl", types.SimpleNamespace(evaluate_bfcl=fake_bfcl))
    context = make_run(tmp_path, {"name": "tool_calling"})
    assert suite.BENCHMARKS["bfcl"](context) == {"overall": 12.5, "complete": 0.0}
    assert seen["work_dir"] == context.work_dir / "bfcl"
    with pytest.raises(UserError, match="--limit"):
        suite.BENCHMARKS["bfcl"](EvalContext(**{**context.__dict__, "limit": 3}))


def cli_args(run_dir, benchmarks: str | None, limit=None, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    argv = ["--run", str(run_dir), "--suite", "tool_calling"] + (["--benchmarks", benchmarks] if benchmarks else [])
    return parser.parse_args(argv + (["--limit", str(limit)] if limit else []) + list(extra))


def test_cli_defaults_to_mini_for_a_mini_run(tmp_path, monkeypatch):
    fake_generation(monkeypatch, mini_truth)
    context = make_run(tmp_path, {"name": "tool_calling_mini"})
    assert cli.run(cli_args(context.run_dir, None, limit=3)) == 0
    written = json.loads((context.run_dir / "eval.json").read_text())
    assert written["benchmarks"] == ["mini"] and written["metrics"]["mini/accuracy"] == 100.0


def test_cli_writes_eval_json_for_api_bank(tmp_path, monkeypatch):
    gold = {case.user: case.answer for case in load_cases()}

    def answer(conversation):
        call = gold[conversation[-1]["content"]]
        call = call[0] if isinstance(call, list) else call
        return f"<think> ok </think>\n<tool_call>\n{json.dumps(call)}\n</tool_call>"

    fake_generation(monkeypatch, answer)
    context = make_run(tmp_path, {"name": "tool_calling"})
    assert cli.run(cli_args(context.run_dir, "api_bank", limit=4)) == 0
    written = json.loads((context.run_dir / "eval.json").read_text())
    assert written["metrics"]["api_bank/overall_acc"] == 100.0
    assert written["meta"]["limit"] == 4
    outputs = json.loads((context.work_dir / "api_bank" / "outputs.json").read_text())
    assert len(outputs) == 12 and "Level2_3" in outputs


def test_a_failing_benchmark_leaves_no_eval_json(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, lambda conversation: "<think> x </think>")
    context = make_run(tmp_path, {"name": "tool_calling"})
    with pytest.raises(UserError, match="tool_calling_mini runs only"):
        cli.run(cli_args(context.run_dir, "api_bank,mini", limit=2))
    assert not (context.run_dir / "eval.json").exists()
    assert calls == []  # refused before api_bank generated anything


def test_limit_with_bfcl_is_refused_before_api_bank_generates(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, lambda conversation: "<think> x </think>")
    context = make_run(tmp_path, {"name": "tool_calling"})
    with pytest.raises(UserError, match="bfcl: --limit is not supported"):
        cli.run(cli_args(context.run_dir, "api_bank,bfcl", limit=2))
    assert calls == [] and not (context.run_dir / "eval.json").exists()


@pytest.mark.parametrize("batch_size", ["0", "-3"])
def test_batch_size_below_one_is_a_user_error(tmp_path, monkeypatch, batch_size):
    calls = fake_generation(monkeypatch, mini_truth)
    context = make_run(tmp_path, {"name": "tool_calling_mini"})
    with pytest.raises(UserError, match=rf"--batch-size {batch_size}: expected a positive integer"):
        cli.run(cli_args(context.run_dir, None, 3, "--batch-size", batch_size))
    assert calls == []


def test_a_benchmark_named_twice_runs_once(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, mini_truth)
    context = make_run(tmp_path, {"name": "tool_calling_mini"})
    assert cli.run(cli_args(context.run_dir, "mini,mini", limit=3)) == 0
    assert calls == [{"n": 3, "max_new_tokens": 48}]
    assert json.loads((context.run_dir / "eval.json").read_text())["benchmarks"] == ["mini"]


def test_a_checkpoint_without_chat_template_is_a_user_error_before_generation(tmp_path, monkeypatch):
    calls = fake_generation(monkeypatch, lambda conversation: "<think> x </think>")
    context = make_run(tmp_path, {"name": "tool_calling"})
    (context.model_dir / "tokenizer_config.json").write_text("{}")
    with pytest.raises(UserError, match=r"model: the tokenizer has no chat template") as error:
        cli.run(cli_args(context.run_dir, "api_bank", limit=2))
    assert "\n" not in str(error.value) and calls == []
