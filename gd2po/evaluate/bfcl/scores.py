"""BFCL v3 per-category scores and the v3 aggregates (docs/setups.md §4.2), in percent.

Pure Python: reads the header line of bfcl's score files and combines them as bfcl-eval <= 2025.8.6.2
does (``eval_checker/eval_runner_helper.py``). A category that was not scored counts as 0 in every
aggregate above it, weighted by its full size, exactly as bfcl does; ``bfcl/complete`` is False then,
and also when a category was scored on fewer entries than the benchmark has (a smoke run).
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import mean
from typing import Mapping

VERSION_PREFIX = "BFCL_v3"

# Entries per v3 category (bfcl-eval 2025.8.6.2 data files).
CATEGORY_SIZES = {
    "simple": 400,
    "java": 100,
    "javascript": 50,
    "multiple": 200,
    "parallel": 200,
    "parallel_multiple": 200,
    "irrelevance": 240,
    "live_simple": 258,
    "live_multiple": 1053,
    "live_parallel": 16,
    "live_parallel_multiple": 24,
    "live_irrelevance": 882,
    "live_relevance": 18,
    "multi_turn_base": 200,
    "multi_turn_miss_func": 200,
    "multi_turn_miss_param": 200,
    "multi_turn_long_context": 200,
}
CATEGORIES = tuple(CATEGORY_SIZES)
SIMPLE = ("simple", "java", "javascript")
NON_LIVE_AST_OTHERS = ("multiple", "parallel", "parallel_multiple")
LIVE_AST = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple")
MULTI_TURN = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context")


def score_file(score_dir: Path, category: str) -> Path:
    return score_dir / f"{VERSION_PREFIX}_{category}_score.json"


def read_score_header(path: Path) -> dict:
    """``{"accuracy": fraction, "correct_count", "total_count"}``: the first line of a bfcl score file."""
    with path.open() as file:
        header = json.loads(file.readline())
    if not {"accuracy", "total_count"} <= header.keys():
        raise ValueError(f"{path}: first line is not a bfcl score header: {header}")
    return header


def read_scores(score_dir: Path, categories: list[str]) -> dict[str, dict]:
    """Score headers of ``categories`` from one model's score dir; a missing file raises FileNotFoundError."""
    return {category: read_score_header(score_file(score_dir, category)) for category in categories}


def v3_aggregates(scores: Mapping[str, Mapping]) -> dict[str, float | bool]:
    """The v3 aggregates and per-category accuracies, in percent (0-100), plus ``bfcl/complete``.

    Keys: ``bfcl/{overall,non_live,live,multi_turn,non_live_ast,simple_ast,live_ast,relevance,
    irrelevance}`` and ``bfcl/category/<category>`` for each scored category (the aggregate
    ``bfcl/irrelevance`` and the category ``irrelevance`` differ).

    ``scores`` maps a category to its score header (``accuracy`` a fraction, ``total_count``); absent
    categories count as 0. Formulas ("mean" unweighted, "wmean" weighted by entries):
    simple_ast = mean(simple, java, javascript);
    non_live_ast = mean(simple_ast, multiple, parallel, parallel_multiple);
    non_live = mean(simple_ast, multiple, parallel, parallel_multiple, irrelevance);
    live_ast = wmean(4 live AST); live = wmean(4 live AST, live_irrelevance, live_relevance);
    multi_turn = mean(4 multi-turn); irrelevance = mean(irrelevance, live_irrelevance);
    relevance = live_relevance; overall = mean(non_live, live, multi_turn) (GDPO's "Avg Acc").
    """
    unknown = set(scores) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"not BFCL v3 categories: {', '.join(sorted(unknown))}")

    def accuracy(category: str) -> float:
        return 100.0 * scores[category]["accuracy"] if category in scores else 0.0

    def weight(category: str) -> int:
        return scores[category]["total_count"] if category in scores else CATEGORY_SIZES[category]

    def weighted_mean(categories: tuple[str, ...]) -> float:
        return sum(accuracy(c) * weight(c) for c in categories) / sum(weight(c) for c in categories)

    simple_ast = mean(accuracy(c) for c in SIMPLE)
    non_live_ast_parts = [simple_ast] + [accuracy(c) for c in NON_LIVE_AST_OTHERS]
    non_live = mean(non_live_ast_parts + [accuracy("irrelevance")])
    live = weighted_mean(LIVE_AST + ("live_irrelevance", "live_relevance"))
    multi_turn = mean(accuracy(c) for c in MULTI_TURN)
    return {
        "bfcl/overall": mean([non_live, live, multi_turn]),
        "bfcl/non_live": non_live,
        "bfcl/live": live,
        "bfcl/multi_turn": multi_turn,
        "bfcl/non_live_ast": mean(non_live_ast_parts),
        "bfcl/simple_ast": simple_ast,
        "bfcl/live_ast": weighted_mean(LIVE_AST),
        "bfcl/relevance": accuracy("live_relevance"),
        "bfcl/irrelevance": mean([accuracy("irrelevance"), accuracy("live_irrelevance")]),
        **{f"bfcl/category/{c}": accuracy(c) for c in CATEGORIES if c in scores},
        "bfcl/complete": not incomplete_categories(scores),
    }


def incomplete_categories(scores: Mapping[str, Mapping]) -> list[str]:
    """Categories missing from ``scores`` or scored on fewer entries than the benchmark has."""
    return [c for c in CATEGORIES if c not in scores or scores[c]["total_count"] != CATEGORY_SIZES[c]]
