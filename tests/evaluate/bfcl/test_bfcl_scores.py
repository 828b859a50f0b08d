"""BFCL v3 aggregates from per-category scores (pure Python, no bfcl needed)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gd2po.evaluate.bfcl.scores import CATEGORIES, CATEGORY_SIZES, LIVE_AST, MULTI_TURN, read_scores, v3_aggregates

NON_LIVE = ("simple", "java", "javascript", "multiple", "parallel", "parallel_multiple", "irrelevance")
LIVE = LIVE_AST + ("live_irrelevance", "live_relevance")


def full(accuracies: dict[str, float]) -> dict[str, dict]:
    """Score headers for whole categories; ``accuracies`` in percent."""
    return {c: {"accuracy": a / 100, "total_count": CATEGORY_SIZES[c]} for c, a in accuracies.items()}


def test_overall_is_the_mean_of_non_live_live_and_multi_turn_as_gdpo_reports():
    """GDPO Table 1 (Qwen2.5-1.5B + GDPO): Live 55.36, Multi-Turn 2.50, Non-Live 40.58, Avg Acc
    (55.36 + 2.50 + 40.58) / 3 = 32.81; each column gets its own value, so swapped keys fail."""
    scores = full({c: 40.58 for c in NON_LIVE} | {c: 55.36 for c in LIVE} | {c: 2.50 for c in MULTI_TURN})
    metrics = v3_aggregates(scores)
    assert metrics["bfcl/non_live"] == pytest.approx(40.58)
    assert metrics["bfcl/live"] == pytest.approx(55.36)
    assert metrics["bfcl/multi_turn"] == pytest.approx(2.50)
    assert round(metrics["bfcl/overall"], 2) == 32.81
    assert metrics["bfcl/complete"] is True


def test_each_aggregate_follows_its_v3_formula():
    accuracies = {
        "simple": 90, "java": 60, "javascript": 30, "multiple": 80, "parallel": 70, "parallel_multiple": 50,
        "irrelevance": 40, "live_simple": 100, "live_multiple": 0, "live_parallel": 50, "live_parallel_multiple": 25,
        "live_irrelevance": 20, "live_relevance": 10,
        "multi_turn_base": 40, "multi_turn_miss_func": 30, "multi_turn_miss_param": 20, "multi_turn_long_context": 10,
    }
    metrics = v3_aggregates(full(accuracies))
    simple_ast = (90 + 60 + 30) / 3
    live_ast = (100 * 258 + 0 * 1053 + 50 * 16 + 25 * 24) / (258 + 1053 + 16 + 24)
    live = (100 * 258 + 50 * 16 + 25 * 24 + 20 * 882 + 10 * 18) / (258 + 1053 + 16 + 24 + 882 + 18)
    non_live = (simple_ast + 80 + 70 + 50 + 40) / 5
    assert metrics == pytest.approx({
        "bfcl/overall": (non_live + live + 25) / 3,
        "bfcl/non_live": non_live,
        "bfcl/live": live,
        "bfcl/multi_turn": 25.0,
        "bfcl/non_live_ast": (simple_ast + 80 + 70 + 50) / 4,
        "bfcl/simple_ast": simple_ast,
        "bfcl/live_ast": live_ast,
        "bfcl/relevance": 10.0,
        "bfcl/irrelevance": 30.0,
        **{f"bfcl/category/{c}": float(a) for c, a in accuracies.items()},
        "bfcl/complete": True,
    })


def test_missing_and_partial_categories_count_as_zero_and_are_flagged():
    """2 of 3 smoke ``simple`` entries right, nothing else: Non-Live 4.44 (= 66.67 / 3 / 5), Overall 1.48."""
    metrics = v3_aggregates({"simple": {"accuracy": 2 / 3, "total_count": 3}})
    assert metrics["bfcl/category/simple"] == pytest.approx(200 / 3)
    assert metrics["bfcl/non_live"] == pytest.approx(200 / 45)
    assert metrics["bfcl/overall"] == pytest.approx(200 / 135)
    assert metrics["bfcl/complete"] is False
    assert "bfcl/category/java" not in metrics
    # A missing live category still weighs with its full size, as in bfcl.
    live_only = v3_aggregates(full({"live_relevance": 100}))
    assert live_only["bfcl/live"] == pytest.approx(100 * 18 / sum(CATEGORY_SIZES[c] for c in LIVE))


def test_unknown_category_is_rejected():
    with pytest.raises(ValueError, match="simple_python"):
        v3_aggregates(full({"simple": 50}) | {"simple_python": {"accuracy": 0.5, "total_count": 400}})


@given(st.dictionaries(st.sampled_from(CATEGORIES), st.floats(0, 100)), st.sampled_from(CATEGORIES), st.floats(0, 100))
def test_aggregates_stay_in_range_and_never_drop_when_a_category_improves(accuracies, category, gain):
    before = v3_aggregates(full(accuracies))
    improved = dict(accuracies)
    improved[category] = min(100.0, improved.get(category, 0.0) + gain)
    after = v3_aggregates(full(improved))
    for key, value in before.items():
        if key != "bfcl/complete":
            assert -1e-9 <= value <= 100 + 1e-9
            assert after[key] >= value - 1e-9


def test_read_scores_takes_the_header_line_of_each_score_file(tmp_path):
    (tmp_path / "BFCL_v3_simple_score.json").write_text(
        json.dumps({"accuracy": 0.5, "correct_count": 200, "total_count": 400}) + "\n"
        + json.dumps({"id": "simple_1", "valid": False, "error": ["wrong value"]}) + "\n"
    )
    assert read_scores(tmp_path, ["simple"]) == {"simple": {"accuracy": 0.5, "correct_count": 200, "total_count": 400}}
    with pytest.raises(FileNotFoundError):
        read_scores(tmp_path, ["java"])
