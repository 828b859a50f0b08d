"""Shared by the suites' evaluation tests: a run dir without a real model, and generation faked."""

from __future__ import annotations

import json

import yaml

from gd2po.evaluate import generation
from gd2po.evaluate.context import EvalContext

CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}\n{% endfor %}"


def make_run(tmp_path, task: dict, *, max_completion_length: int = 48, seed: int = 0, **sections) -> EvalContext:
    """A run dir whose ``config.yaml`` holds ``task``, the seed, the completion length and ``sections``;
    ``model/`` holds placeholder config and tokenizer files with a chat template (generation is faked)."""
    run_dir = tmp_path / "run"
    (run_dir / "model").mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json"):
        (run_dir / "model" / name).write_text("{}")
    (run_dir / "model" / "tokenizer_config.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE}))
    config = {"task": task, "seed": seed, "generation": {"max_completion_length": max_completion_length}, **sections}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    return EvalContext(run_dir=run_dir, model_dir=run_dir / "model", run_config=config, work_dir=run_dir / "eval_work")


def fake_generation(monkeypatch, answer) -> list[dict]:
    """Replace greedy generation by ``answer(conversation)``; returns the calls it receives."""
    calls = []

    def generate(model_dir, conversations, *, max_new_tokens, **kwargs):
        calls.append({"n": len(conversations), "max_new_tokens": max_new_tokens})
        return [answer(conversation) for conversation in conversations]

    monkeypatch.setattr(generation, "generate_greedy", generate)
    return calls
