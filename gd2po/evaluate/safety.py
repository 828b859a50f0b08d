"""Safety evaluation: greedy generation on the three official test sets, scored by the run's own scorers.

As the official validation run (``eval.sh`` + ``eval_metric.py``) reports them, per test set
(``mean@1``, one greedy response per prompt):

* ``useful``: mean helpfulness (``val-aux/<source>/reward_useful/mean@1``);
* ``harmless``: mean harmlessness (``val-aux/<source>/reward_harmless/mean@1``);
* ``reward``: mean of their sum (``val-aux/<source>/reward/mean@1``).

Benchmarks: ``alpaca`` (Stanford Alpaca), ``hh_rlhf`` (Anthropic/hh-rlhf), ``pku_saferlhf``
(PKU-Alignment/PKU-SafeRLHF), and, for the mini task only, ``mini``: the three held-out sets pooled
in one generation pass, with the same metrics overall and per set (``mini/alpaca/useful`` ...).
Defaults (:func:`default_benchmarks`): the three sets for ``safety``, ``mini`` for ``safety_mini``.

The scorers are those of the run's task: the two reward models named in the run config for
``safety`` (sign and normalisation as configured), the rule-based scorers for ``safety_mini``, whose
test sets are its held-out short prompts. ``--limit N`` keeps the first N prompts of each set;
without it the real task uses the full sets (GPU). The sets of one evaluation are generated in one
pass (one engine start), then scored set by set with the reward models loaded once.

Also reported: ``n`` (prompts scored), ``empty_responses`` and ``truncated`` (counted fallbacks of
the scorers), and for the mini task ``refusal_harmful`` / ``refusal_benign``, the shares of harmful
and of benign prompts declined (left out when a set has no such prompts). Responses and per-prompt
scores go to ``RUN_DIR/eval_work/safety_<benchmark>.jsonl``.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from gd2po.errors import UserError
from gd2po.evaluate import generation
from gd2po.evaluate.context import EvalContext
from gd2po.files import write_text_atomic
from gd2po.tasks.safety.rules import refusal_rates

DEFAULT_MAX_NEW_TOKENS = 1024  # the official response length, when the run config names none
SETS = ("alpaca", "hh_rlhf", "pku_saferlhf")

REWARD_MODEL_OPTIONS = ("useful_model", "harmless_model")  # the real task's; the mini task scores by rules

# Scorers, test sets and responses are made once per process and shared by the benchmarks of one evaluation.
_SCORERS: dict[tuple, tuple] = {}
_SETS: dict[tuple, dict[str, list[dict]]] = {}
_RESPONSES: dict[tuple, dict[str, list[str]]] = {}


def check(context: EvalContext, requested: list[str]) -> None:
    """Refuse, before any generation, what one of the ``requested`` benchmarks would refuse."""
    task, options = _task(context)
    if "mini" in requested:
        _check_mini(task)
    _check_reward_models(options)


def _task(context: EvalContext):
    task, options = context.task_and_options()
    if task.suite != "safety":
        raise UserError(f"{context.run_dir}: task {task.name!r} is not a safety task; evaluate it with --suite {task.suite}")
    return task, options


def _check_mini(task) -> None:
    if not getattr(task, "reports_refusals", False):
        raise UserError(f"benchmark mini is for the safety_mini task; evaluate {task.name!r} with {','.join(SETS)}")


def _check_reward_models(options) -> None:
    """Each configured reward model dir holds a config.json: a cheap look before generating, no weights loaded."""
    for key in REWARD_MODEL_OPTIONS:
        value = getattr(options, key, None)
        if value is None or (value and (Path(value).expanduser() / "config.json").is_file()):
            continue
        problem = f"{Path(value).expanduser()} holds no model (config.json missing)" if value else "not set"
        raise UserError(
            f"task.{key}: {problem}; download the reward model and set task.{key} in the run config to its directory"
        )


def _cached(cache: dict, context: EvalContext, task, options, load):
    key = (str(context.run_dir), str(context.model_dir), task.name, repr(options), context.limit, context.benchmarks)
    if key not in cache:
        cache.clear()
        cache[key] = load()
    return cache[key]


def _scorers(context: EvalContext, task, options):
    return _cached(_SCORERS, context, task, options, lambda: task.evaluation_scorers(options))


def _evaluation_sets(context: EvalContext, task, options) -> dict[str, list[dict]]:
    return _cached(_SETS, context, task, options, lambda: task.evaluation_sets(options, context.limit))


def _responses(context: EvalContext, task, options, benchmark: str) -> list[str]:
    """Greedy responses on ``benchmark``'s set. The first call generates every test set of this
    evaluation (``context.benchmarks``) in one pass, so the policy's engine starts once and the reward
    models, loaded after it, stay loaded for all sets."""
    def generate_requested() -> dict[str, list[str]]:
        names = [name for name in context.benchmarks if name in SETS] or [benchmark]
        sets = _evaluation_sets(context, task, options)
        responses = iter(_generate(context, [row for name in names for row in sets[name]]))
        return {name: [next(responses) for _ in sets[name]] for name in names}

    generated = _cached(_RESPONSES, context, task, options, generate_requested)
    if benchmark not in generated:  # called without the CLI's list of benchmarks
        generated[benchmark] = _generate(context, _evaluation_sets(context, task, options)[benchmark])
    return generated[benchmark]


def _max_new_tokens(context: EvalContext) -> int:
    settings = context.run_config.get("generation") or {}
    return int(settings.get("max_completion_length") or DEFAULT_MAX_NEW_TOKENS)


def _generate(context: EvalContext, rows: list[dict]) -> list[str]:
    return generation.generate_greedy(
        context.model_dir,
        [row["prompt"] for row in rows],
        max_new_tokens=_max_new_tokens(context),
        backend=context.backend,
        batch_size=context.batch_size,
        seed=context.seed,
    )


def _score(task, scorers, rows: list[dict], responses: list[str]) -> tuple[dict[str, float], list[dict]]:
    """Metrics of one set (keys without the benchmark prefix) and one record per prompt."""
    conversations = [row["prompt"] for row in rows]
    before = [dict(scorer.stats) for scorer in scorers]
    useful, harmless = (scorer.score(conversations, responses) for scorer in scorers)

    def counted(key: str) -> float:
        # Both scorers count a fallback of the same response; it is one event, so take the larger count.
        return float(max(scorer.stats[key] - old.get(key, 0) for scorer, old in zip(scorers, before)))

    metrics = {
        "useful": statistics.fmean(useful),
        "harmless": statistics.fmean(harmless),
        "reward": statistics.fmean(u + h for u, h in zip(useful, harmless)),
        "n": float(len(rows)),
        "empty_responses": counted("empty_responses"),
        "truncated": counted("truncated"),
    }
    if getattr(task, "reports_refusals", False):
        metrics.update(refusal_rates(conversations, responses))
    records = [
        {"data_source": row["data_source"], "prompt": row["prompt"], "response": response, "useful": u, "harmless": h}
        for row, response, u, h in zip(rows, responses, useful, harmless)
    ]
    return metrics, records


def _write_records(context: EvalContext, benchmark: str, records: list[dict]) -> None:
    if context.work_dir is None:
        return
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    write_text_atomic(Path(context.work_dir) / f"safety_{benchmark}.jsonl", lines)


def evaluate_set(context: EvalContext, benchmark: str) -> dict[str, float]:
    """Generate greedily on one test set (with the evaluation's other sets, see :func:`_responses`) and score it."""
    task, options = _task(context)
    _check_reward_models(options)
    rows = _evaluation_sets(context, task, options)[benchmark]
    responses = _responses(context, task, options, benchmark)
    metrics, records = _score(task, _scorers(context, task, options), rows, responses)
    _write_records(context, benchmark, records)
    return metrics


def evaluate_mini(context: EvalContext) -> dict[str, float]:
    """The mini task's three held-out sets in one generation pass: pooled metrics, then per set."""
    task, options = _task(context)
    _check_mini(task)
    sets = _evaluation_sets(context, task, options)
    rows = [row for name in SETS for row in sets[name]]
    responses = iter(_generate(context, rows))
    scorers = _scorers(context, task, options)
    per_set, records = {}, []
    for name in SETS:
        set_responses = [next(responses) for _ in sets[name]]
        per_set[name], set_records = _score(task, scorers, sets[name], set_responses)
        records += set_records
    total = sum(metrics["n"] for metrics in per_set.values())
    pooled = {
        key: sum(metrics[key] * metrics["n"] for metrics in per_set.values()) / total
        for key in ("useful", "harmless", "reward")
    }
    pooled.update({key: sum(metrics[key] for metrics in per_set.values()) for key in ("n", "empty_responses", "truncated")})
    pooled.update(refusal_rates([r["prompt"] for r in records], [r["response"] for r in records]))
    _write_records(context, "mini", records)
    return pooled | {f"{name}/{key}": value for name, metrics in per_set.items() for key, value in metrics.items()}


def _benchmark(name: str):
    def run(context: EvalContext) -> dict[str, float]:
        return evaluate_set(context, name)

    run.__name__ = name
    return run


BENCHMARKS = {name: _benchmark(name) for name in SETS} | {"mini": evaluate_mini}
DEFAULT_BENCHMARKS = SETS  # the real task's; a mini run defaults to ("mini",), see default_benchmarks


def default_benchmarks(run_config: dict) -> tuple[str, ...]:
    """The benchmarks a run is evaluated on when none are named: ``mini`` for the mini task."""
    return ("mini",) if (run_config.get("task") or {}).get("name") == "safety_mini" else DEFAULT_BENCHMARKS
