"""Reward functions that raise or return None/NaN get the fallback and are counted."""

import math
from collections import Counter

from gd2po.engine.rewards import guarded


def fragile(prompts, completions, answer, **_):
    if "boom" in completions:
        raise RuntimeError("parser crashed")
    return [None if c == "none" else math.nan if c == "nan" else float(len(c)) for c in completions]


def test_failing_completions_get_the_fallback_and_are_counted():
    failures = Counter()
    reward = guarded(fragile, fallback=-1.0, failures=failures)
    completions = ["ab", "boom", "none", "nan", "abc"]
    scores = reward(prompts=["p"] * 5, completions=completions, answer=list("xxxxx"), trainer_state=None)
    assert scores == [2.0, -1.0, -1.0, -1.0, 3.0]
    assert failures == Counter({"fragile": 3})
    assert reward.__name__ == "fragile"  # TRL names the reward after the function


def test_a_healthy_reward_is_untouched():
    failures = Counter()
    reward = guarded(fragile, fallback=0.0, failures=failures)
    assert reward(prompts=["p"], completions=["abcd"], answer=["x"]) == [4.0]
    assert not failures
