"""The ToolRL/GD²PO rewards: the official golden cases, the flag variants, and fuzzing."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gd2po.errors import UserError
from gd2po.tasks.tool_calling import RewardOptions, reward_functions, score_response
from gd2po.tasks.tool_calling.rewards import correctness_reward, length_reward

GOLDEN = Path(__file__).parents[2] / "data" / "golden" / "official_rewards.json"
CASES = json.loads(GOLDEN.read_text())["cases"]

GT = (
    "<think> placeholder </think>\n<tool_call>\n"
    '{"name": "weather", "parameters": {"city": "Paris", "days": 3}}\n'
    '{"name": "news", "parameters": {"topic": "rain"}}\n'
    "</tool_call>"
)


def answer(*calls: dict, think: str = "ok") -> str:
    lines = "\n".join(json.dumps(call) for call in calls)
    return f"<think> {think} </think>\n<tool_call>\n{lines}\n</tool_call>"


WEATHER = {"name": "weather", "parameters": {"city": "Paris", "days": 3}}
NEWS = {"name": "news", "parameters": {"topic": "rain"}}


def test_golden_file_is_the_official_one():
    assert len(CASES) == 1628


def test_every_golden_case_matches_exactly():
    mismatches = [
        (index, case["expected"], got)
        for index, case in enumerate(CASES)
        if (got := score_response(case["response"], case["ground_truth"])) != case["expected"]
    ]
    assert mismatches[:5] == [] and len(mismatches) == 0


def test_partial_match_score_by_hand():
    # names J = 1; weather: keys J 1 + 1 equal value (days wrong); news: 1 + 1. S_max = 1 + 3 + 2 = 6.
    wrong_days = {"name": "weather", "parameters": {"city": "Paris", "days": 4}}
    assert correctness_reward(answer(wrong_days, NEWS), GT) == pytest.approx(6 * 5 / 6 - 3)
    assert correctness_reward(answer(wrong_days, NEWS), GT, correctness_max=1.0) == pytest.approx(2 * 5 / 6 - 1)
    # value types matter: "3" is not 3, but 3.0 is
    assert correctness_reward(answer({**WEATHER, "parameters": {"city": "Paris", "days": "3"}}, NEWS), GT) < 3
    assert correctness_reward(answer({**WEATHER, "parameters": {"city": "Paris", "days": 3.0}}, NEWS), GT) == 3


@pytest.mark.parametrize(
    ("granularity", "expected"),
    [
        # score: names 1 + weather (keys 1 + values 1) + news (1 + 1) = 5 of S_max 6
        ("default", 6 * 5 / 6 - 3),
        # keys in another order are not an exact key list: key-J drops to 0 for weather
        ("refined", 6 * 4 / 6 - 3),
        # S_max = 1 + 1 + 1; only news is exactly right: 1 + 1 = 2
        ("intermediate", 6 * 2 / 3 - 3),
        ("coarse", -3.0),
    ],
)
def test_granularity_variants(granularity, expected):
    swapped_keys = {"name": "weather", "parameters": {"days": 4, "city": "Paris"}}
    response = answer(swapped_keys, NEWS)
    assert correctness_reward(response, GT, granularity=granularity) == pytest.approx(expected)
    assert correctness_reward(answer(WEATHER, NEWS), GT, granularity=granularity) == 3.0


def test_reward_functions_follow_options_order_and_step_schedule():
    options = RewardOptions(rewards="correctness,length,format", length_schedule=True)
    functions = reward_functions(options)
    assert [fn.__name__ for fn in functions] == ["correctness", "length", "format"]
    completion = [{"role": "assistant", "content": answer(WEATHER, NEWS, think=" ".join(["w"] * 96))}]
    correctness, length, format_ = (fn([None], [completion], ground_truth=[GT],
                                       trainer_state=SimpleNamespace(global_step=0)) for fn in functions)
    assert correctness == [3.0] and format_ == [1.0]
    assert length == [0.25]  # 96 / 384 at step 0
    at_105 = functions[1]([None], [completion], ground_truth=[GT], trainer_state=SimpleNamespace(global_step=105))
    assert at_105 == [0.15]  # 96 / 640


def test_bad_options_name_the_field():
    with pytest.raises(UserError, match="task.rewards"):
        RewardOptions(rewards="correctness,speed")
    with pytest.raises(UserError, match="task.correctness_granularity"):
        RewardOptions(correctness_granularity="fine")
    with pytest.raises(UserError, match="task.length_target_words"):
        RewardOptions(length_target_words=0)


TAGS = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<response>", "</response>", "\n", " "]
JSON_BITS = ['{"name": "weather", "parameters": ', '{"city": "Paris", "days": 3}', "}", "[1, 2]", '"x"', "null",
             '{"name": "news"}', '{"name": "news", "parameters": [1]}', "[" * 50, "1e999", "NaN"]
fragments = st.one_of(st.sampled_from(TAGS), st.sampled_from(JSON_BITS), st.text(max_size=20))
responses = st.lists(fragments, max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(response=responses, ground_truth=st.sampled_from([GT, "<think> x </think>\n<response> hi </response>",
                                                           "<think> x </think>"]))
def test_fuzz_rewards_stay_in_range(response, ground_truth):
    scores = score_response(response, ground_truth)
    assert scores["format"] in (0.0, 1.0)
    assert -3.0 <= scores["correctness"] <= 3.0
    assert 0.0 <= scores["length"] <= 1.0


def test_huge_and_deeply_nested_inputs_do_not_raise():
    deep = "<tool_call>\n" + "[" * 100_000 + "\n</tool_call>"
    assert correctness_reward(deep, GT) == -3.0
    huge = "<think>" + " word" * 200_000 + "</think>\n<tool_call>\n" + json.dumps(WEATHER) + "\n</tool_call>"
    assert length_reward(huge, 512) == 1.0
    many_tags = "<think></think>\n<tool_call>\n" * 20_000
    assert score_response(many_tags, GT)["format"] == 0.0
