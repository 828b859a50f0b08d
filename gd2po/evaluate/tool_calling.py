"""The tool-calling evaluation suite: ``python -m gd2po evaluate --suite tool_calling``.

Benchmarks (metric keys come back prefixed ``<benchmark>/``; accuracies and rates in percent):

* ``mini``: greedy exact-match ``accuracy`` of a ``tool_calling_mini`` run on the mini task's
  held-out split, the mean of each reward (``correctness``, ``length``, ``format``, under the run's
  own reward options at its final step), ``format_rate`` and ``think_words_mean``;
* ``api_bank``: API-Bank levels 1–3 as GD²PO scores them (:mod:`gd2po.evaluate.api_bank`);
* ``bfcl``: BFCL v3 through ``bfcl-eval`` (:mod:`gd2po.evaluate.bfcl`; GPU, eval venv).

Defaults depend on the run: ``mini`` for a ``tool_calling_mini`` run, else ``api_bank`` and ``bfcl``
(:func:`default_benchmarks`); ``DEFAULT_BENCHMARKS`` holds the real-model defaults.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from gd2po.errors import UserError
from gd2po.evaluate.api_bank import evaluate_api_bank
from gd2po.evaluate.context import EvalContext

MINI_TASK = "tool_calling_mini"
DEFAULT_BENCHMARKS = ("api_bank", "bfcl")


def default_benchmarks(run_config: dict[str, Any]) -> tuple[str, ...]:
    """``("mini",)`` for a mini-task run, else the real benchmarks."""
    return ("mini",) if (run_config.get("task") or {}).get("name") == MINI_TASK else DEFAULT_BENCHMARKS


def check(context: EvalContext, requested: list[str]) -> None:
    """Refuse, before any benchmark runs, what one of the ``requested`` benchmarks would refuse."""
    if "mini" in requested:
        _mini_task(context)
    if "bfcl" in requested:
        _check_bfcl(context)


def _mini_task(context: EvalContext):
    task, options = context.task_and_options()
    if task.name != MINI_TASK:
        raise UserError(
            f"mini: {context.run_dir} trained task {task.name!r}; the mini benchmark scores {MINI_TASK} runs only "
            "(use --benchmarks api_bank,bfcl)"
        )
    return task, options


def _check_bfcl(context: EvalContext) -> None:
    if context.limit is not None:
        raise UserError("bfcl: --limit is not supported (BFCL v3 scores whole categories); leave it out for bfcl")


def evaluate_mini(context: EvalContext) -> dict[str, float]:
    """Held-out exact match, reward means and format rate of a ``tool_calling_mini`` run."""
    from gd2po.evaluate.generation import generate_greedy
    from gd2po.tasks.tool_calling.mini import exact_match
    from gd2po.tasks.tool_calling.rewards import score_all, think_text

    task, options = _mini_task(context)
    test = task.test_dataset(options, context.seed)
    if context.limit is not None:
        test = test.select(range(min(context.limit, len(test))))
    generation = context.run_config.get("generation") or {}
    outputs = generate_greedy(
        context.model_dir,
        list(test["prompt"]),
        max_new_tokens=int(generation.get("max_completion_length", 64)),
        backend=context.backend,
        batch_size=context.batch_size,
        seed=context.seed,
    )
    final_step = int((context.run_config.get("optimization") or {}).get("max_steps", 0))
    scores = [score_all(o, gt, options, step=final_step) for o, gt in zip(outputs, test["ground_truth"])]
    matches = [exact_match(o, gt) for o, gt in zip(outputs, test["ground_truth"])]
    metrics = {
        "accuracy": 100.0 * statistics.fmean(matches),
        "format_rate": 100.0 * statistics.fmean(s["format"] for s in scores),
        "think_words_mean": statistics.fmean(len((think_text(o.strip()) or "").split()) for o in outputs),
    }
    for name in ("correctness", "length", "format"):
        metrics[name] = statistics.fmean(s[name] for s in scores)
    return metrics


def evaluate_bfcl(context: EvalContext) -> dict[str, float]:
    """BFCL v3 categories and aggregates (percent), with ``complete`` 1.0 only for a full run."""
    _check_bfcl(context)
    from gd2po.evaluate.bfcl import evaluate_bfcl as run

    work_dir = Path(context.work_dir or context.run_dir / "eval_work") / "bfcl"
    return {key.removeprefix("bfcl/"): float(value) for key, value in run(context.model_dir, work_dir).items()}


BENCHMARKS = {"mini": evaluate_mini, "api_bank": evaluate_api_bank, "bfcl": evaluate_bfcl}
