"""The mini tool-calling task: seeded, deterministic, held-out split disjoint, scored by the real rewards."""

from __future__ import annotations

import json
import re

from gd2po.tasks import get_task
from gd2po.tasks.tool_calling import score_response
from gd2po.tasks.tool_calling.mini import AMBIGUOUS_FROM, TOOLS, MiniOptions, exact_match
from gd2po.tasks.tool_calling.rewards import parse_tool_block, think_text

TASK = get_task("tool_calling_mini")
OPTIONS = MiniOptions()


def requests(dataset) -> set[str]:
    return {row["prompt"][1]["content"] for row in dataset}


def test_same_seed_same_data_other_seed_other_data():
    assert TASK.train_dataset(OPTIONS, seed=1).to_list() == TASK.train_dataset(OPTIONS, seed=1).to_list()
    assert TASK.warmstart_conversations(OPTIONS, seed=1) == TASK.warmstart_conversations(OPTIONS, seed=1)
    assert TASK.train_dataset(OPTIONS, seed=1)["prompt"] != TASK.train_dataset(OPTIONS, seed=2)["prompt"]


def test_test_split_is_fixed_and_held_out():
    test = TASK.test_dataset(OPTIONS, seed=0)
    assert test.to_list() == TASK.test_dataset(OPTIONS, seed=7).to_list()
    assert len(test) == OPTIONS.num_test == len(requests(test))
    for seed in (0, 1, 2):
        assert len(TASK.train_dataset(OPTIONS, seed)) == OPTIONS.num_train
        assert not requests(test) & requests(TASK.train_dataset(OPTIONS, seed))
        warm = {c[1]["content"] for c in TASK.warmstart_conversations(OPTIONS, seed)}
        assert not requests(test) & warm


def test_ground_truth_is_one_call_copied_from_the_request():
    for row in TASK.test_dataset(OPTIONS, seed=0):
        (call,) = parse_tool_block(row["ground_truth"])
        tools_line = row["prompt"][0]["content"].splitlines()[-1]
        assert f"{call['name']}(" in tools_line
        assert list(call["parameters"]) == list(TOOLS[call["name"]][0])
        assert all(f'"{value}"' in row["prompt"][1]["content"] for value in call["parameters"].values())
        assert score_response(row["ground_truth"], row["ground_truth"])["correctness"] == 3.0


def test_warm_start_is_noisy_where_rl_can_fix_it():
    conversations = TASK.warmstart_conversations(OPTIONS, seed=0)
    assert len(conversations) == OPTIONS.warmstart_examples
    outcomes = {"ambiguous": [], "plain": []}
    formats, bare = [], []
    for system, user, assistant in conversations:
        answer = assistant["content"]
        formats.append(score_response(answer, answer)["format"])
        if re.fullmatch(r'("\w+" ?)+', user["content"]):  # a copy lesson: one listed tool, only its values
            (call,) = parse_tool_block(answer)
            assert system["content"] == f"Tools: {call['name']}({','.join(TOOLS[call['name']][0])})"
            bare.append(user["content"] == " ".join(f'"{v}"' for v in call["parameters"].values()))
            continue
        assert 1 <= len(think_text(answer).split()) <= OPTIONS.warmstart_think_words
        expected = _solve(user["content"])
        phrasing = next(i for i, p in enumerate(TOOLS[expected["name"]][1]) if _solve_with(p, user["content"]))
        kind = "ambiguous" if phrasing >= AMBIGUOUS_FROM else "plain"
        outcomes[kind].append(parse_tool_block(answer) == [expected])
    rate = {kind: sum(flags) / len(flags) for kind, flags in outcomes.items()}
    # ambiguous phrasings call the confusable tool more often than the right one; the rest is mostly right
    assert 0.2 < rate["ambiguous"] < 0.4 and 0.85 < rate["plain"] < 0.95
    assert 0.15 < 1 - sum(formats) / len(formats) < 0.25  # a fifth break the layout (format reward 0)
    assert 0.45 < len(bare) / len(conversations) < 0.55 and 0.85 < sum(bare) / len(bare) < 0.95


def _solve_with(phrasing: str, request: str) -> dict | None:
    pattern = re.escape(phrasing)
    for parameter in re.findall(r"{(\w+)}", phrasing):
        pattern = pattern.replace(re.escape("{" + parameter + "}"), f'"(?P<{parameter}>[^"]+)"', 1)
    match = re.search(rf"(?:^|\s){pattern}(?:\s|$)", request)
    return match.groupdict() if match else None


def _solve(request: str) -> dict:
    """A reference solver from the tool phrasings (independent of the generator's internals)."""
    for name, (parameters, phrasings) in TOOLS.items():
        for phrasing in phrasings:
            values = _solve_with(phrasing, request)
            if values is not None:
                return {"name": name, "parameters": values}
    raise AssertionError(f"no phrasing matches {request!r}")


def test_reference_solver_agrees_with_the_held_out_truth():
    for row in TASK.test_dataset(OPTIONS, seed=0):
        assert parse_tool_block(row["ground_truth"]) == [_solve(row["prompt"][1]["content"])]


def test_exact_match_and_rewards_on_a_mini_answer():
    row = TASK.test_dataset(OPTIONS, seed=0)[0]
    (call,) = parse_tool_block(row["ground_truth"])
    think = "one two three four five six seven eight nine ten"
    good = f"<think> {think} </think>\n<tool_call>\n{json.dumps(call)}\n</tool_call>"
    assert exact_match(good, row["ground_truth"])
    bad_call = {"name": call["name"], "parameters": {k: v + "x" for k, v in call["parameters"].items()}}
    assert not exact_match(good.replace(json.dumps(call), json.dumps(bad_call)), row["ground_truth"])
    functions = TASK.reward_functions(MiniOptions(rewards="correctness,length,format"))
    completions = [[{"role": "assistant", "content": good}]]
    scores = [fn([row["prompt"]], completions, ground_truth=[row["ground_truth"]]) for fn in functions]
    assert scores == [[3.0], [1.0], [1.0]]  # 10 think words reach the mini length target
