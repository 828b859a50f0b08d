"""The API-Bank scorer on hand-made outputs: gold answers score 100 %, perturbed ones 0 %."""

from __future__ import annotations

import json
import math

import pytest

from gd2po.evaluate import api_bank
from gd2po.evaluate.api_bank import Case, format_errors, is_correct, load_cases, parse_tool_calls, score_outputs

CASES = load_cases()


def render(calls: list, think: str = "I will call the tool.") -> str:
    lines = "\n".join(json.dumps(call) for call in calls)
    return f"<think> {think} </think>\n<tool_call>\n{lines}\n</tool_call>"


def gold(case: Case) -> dict:
    return case.answer[0] if isinstance(case.answer, list) else case.answer


def test_the_shipped_levels_have_597_cases_and_level_2_answers_are_dicts():
    counts = {level: sum(case.level == level for case in CASES) for level in api_bank.LEVELS}
    assert counts == {1: 399, 2: 67, 3: 131}
    assert all(isinstance(case.answer, dict) for case in CASES if case.level == 2)
    assert all(isinstance(case.answer, list) for case in CASES if case.level != 2)
    assert "'type': 'str'" in CASES[0].system  # parameters are Python reprs, prompt text only
    assert len(load_cases(limit=2)) == 6


def test_gold_answers_score_100_percent():
    metrics = score_outputs(CASES, [render([gold(case)]) for case in CASES])
    assert {k: metrics[k] for k in ("lv1_acc", "lv2_acc", "lv3_acc", "overall_acc", "format_rate")} == {
        "lv1_acc": 100.0, "lv2_acc": 100.0, "lv3_acc": 100.0, "overall_acc": 100.0, "format_rate": 100.0}
    assert metrics["think_words_mean"] == 5 and metrics["length_mean"] == 0.01


def perturb(call: dict) -> dict:
    parameters = dict(call["parameters"])
    if parameters:
        key = sorted(parameters)[0]
        parameters[key] = str(parameters[key]) + "x"
    else:
        parameters["extra"] = "x"
    return {"name": call["name"], "parameters": parameters}


def test_perturbed_answers_score_0_percent():
    metrics = score_outputs(CASES, [render([perturb(gold(case))]) for case in CASES])
    assert metrics["overall_acc"] == metrics["lv1_acc"] == metrics["lv2_acc"] == metrics["lv3_acc"] == 0.0
    assert metrics["format_rate"] == 100.0


def test_three_records_as_in_the_docs():
    by_level = {level: next(c for c in CASES if c.level == level) for level in (1, 2, 3)}
    outputs = [
        render([gold(by_level[1])]),
        render([perturb(gold(by_level[2]))]),
        f"<tool_call>\n{json.dumps(gold(by_level[3]))}\n</tool_call>",  # correct call, no think block
    ]
    metrics = score_outputs(list(by_level.values()), outputs)
    assert (metrics["lv1_acc"], metrics["lv2_acc"], metrics["lv3_acc"]) == (100.0, 0.0, 100.0)
    assert metrics["overall_acc"] == pytest.approx(200 / 3)
    assert metrics["format_rate"] == pytest.approx(200 / 3)


GOLD = {"name": "QueryMeeting", "parameters": {"user_name": "John"}}


@pytest.mark.parametrize(
    ("output", "correct"),
    [
        # bad lines are skipped, any matching call counts, extra calls are not penalised
        ('<tool_call>\n{oops\n{"name": "Other", "parameters": {}}\n' + json.dumps(GOLD) + "\n</tool_call>", True),
        # a call without name/parameters stands for the gold tool's parameters
        ('<tool_call>\n{"user_name": "John"}\n</tool_call>', True),
        # only the first complete block counts
        ('<tool_call>\n{"name": "Other", "parameters": {}}\n</tool_call><tool_call>\n' + json.dumps(GOLD) + "\n</tool_call>", False),
        # an unclosed block yields no calls
        ("<tool_call>\n" + json.dumps(GOLD), False),
        # values compare with ==: a list is not the string
        ('<tool_call>\n{"name": "QueryMeeting", "parameters": {"user_name": ["John"]}}\n</tool_call>', False),
        # a non-object entry ends the search before a later correct call (official behaviour)
        ("<tool_call>\n5\n" + json.dumps(GOLD) + "\n</tool_call>", False),
        # a JSON string holding a call is decoded once more
        ("<tool_call>\n" + json.dumps(json.dumps(GOLD)) + "\n</tool_call>", True),
    ],
)
def test_call_matching_rules(output, correct):
    assert is_correct(parse_tool_calls(output), [GOLD]) is correct
    assert is_correct(parse_tool_calls(output), GOLD) is correct  # level-2 answers are bare dicts


def test_unusable_gold_is_left_out_of_the_accuracy():
    cases = [Case(1, 0, "", "", [GOLD]), Case(1, 1, "", "", [{"name": "x"}])]
    metrics = score_outputs(cases, [render([GOLD]), render([GOLD])])
    assert metrics["lv1_acc"] == 100.0 and math.isnan(metrics["lv2_acc"])


@pytest.mark.parametrize(
    ("output", "errors"),
    [
        ("<think> a </think>\n<tool_call>\n{}\n</tool_call>\n<response> b </response>", []),
        ("<think> a </think>\n<response> b </response>", []),
        ("  ", ["empty_output"]),
        ("<tool_call>\n{}\n</tool_call>", ["missing_think"]),
        ("<think> a </think>", ["missing_tool_call_and_response"]),
        ("<think> a </think><think> b </think><response> c </response>", ["multiple_think_blocks"]),
        ("<think> a </think>\n<tool_call>\n{}\n", ["unbalanced_tool_call_tags"]),
        ("<response> b </response><think> a </think>", ["response_before_think_end"]),
        ("<think> a </think><response> b </response><tool_call>{}</tool_call>",
         ["response_before_tool_call_end", "tool_call_after_response"]),
    ],
)
def test_format_check(output, errors):
    assert format_errors(output) == errors
