"""DAPO: dynamic-sampling group filter and soft overlong punishment (algorithms.md §3)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gd2po.core import DynamicSampling, Overlong, compute_advantages
from gd2po.core.dapo import nonconstant_groups, overlong_penalty_verl


def overlong_penalty_paper(lengths: torch.Tensor, max_length: int, cache: int) -> torch.Tensor:
    """Reference: the DAPO paper's soft overlong punishment, added to the reward.

        R_len(y) = 0                                  if |y| ≤ L_max − L_cache
                 = ((L_max − L_cache) − |y|) / L_cache  if L_max − L_cache < |y| ≤ L_max
                 = −1                                 if |y| > L_max

    lengths: (B,) → (B,) float64. Paper: L_max = 16384, L_cache = 4096.
    """
    lengths = lengths.to(torch.float64)
    ramp = ((max_length - cache) - lengths) / cache
    return torch.where(lengths > max_length, -1.0, ramp.clamp(max=0.0))


def test_group_filter_keeps_groups_with_mixed_accuracy():
    accuracy = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    index = torch.tensor([2, 0, 2, 1, 0, 2, 0, 1, 1])  # shuffled: group 0 all wrong, group 2 all right
    keep = nonconstant_groups(accuracy, torch.ones(9, dtype=torch.bool), index, 3)
    assert keep.tolist() == [False, False, False, True, False, False, False, True, True]


def test_group_filter_ignores_invalid_entries():
    metric = torch.tensor([1.0, 5.0, 1.0, 0.0])
    valid = torch.tensor([True, False, True, True])
    assert nonconstant_groups(metric, valid, torch.tensor([0, 0, 0, 1]), 2).tolist() == [False, False, False, False]


def test_paper_overlong_punishment():
    lengths = torch.tensor([100, 12288, 14336, 16384, 17000])
    expected = torch.tensor([0.0, 0.0, -0.5, -1.0, -1.0], dtype=torch.float64)
    torch.testing.assert_close(overlong_penalty_paper(lengths, max_length=16384, cache=4096), expected)


def test_verl_overlong_punishment():
    lengths = torch.tensor([100, 16384, 18432, 20480])
    expected = torch.tensor([0.0, 0.0, -0.5, -1.0], dtype=torch.float64)
    torch.testing.assert_close(overlong_penalty_verl(lengths, max_length=20480, buffer=4096), expected)
    torch.testing.assert_close(overlong_penalty_verl(lengths, 20480, 4096, factor=0.5), expected * 0.5)


@settings(max_examples=100, deadline=None)
@given(length=st.integers(0, 400), max_length=st.integers(10, 300), data=st.data())
def test_verl_form_equals_paper_form_up_to_the_cap(length, max_length, data):
    buffer = data.draw(st.integers(1, max_length))
    length = min(length, max_length)
    paper = overlong_penalty_paper(torch.tensor([length]), max_length, buffer)
    verl = overlong_penalty_verl(torch.tensor([length]), max_length, buffer, 1.0)
    torch.testing.assert_close(paper, verl)


REWARDS = torch.tensor([[1.0, 0.5], [1.0, 0.5], [0.0, 0.2], [1.0, 0.9], [0.0, 0.0], [0.0, 1.0]])
IDS = ["a", "a", "b", "b", "c", "c"]
MASK = torch.ones(6, 4)


def test_dapo_masks_constant_groups_and_otherwise_is_grpo():
    dapo = compute_advantages("dapo", REWARDS, IDS, MASK)
    grpo = compute_advantages("grpo", REWARDS, IDS, MASK)
    assert dapo.keep.tolist() == [False, False, True, True, True, True]
    torch.testing.assert_close(dapo.advantages, grpo.advantages)  # a constant group has zero advantage anyway
    assert dapo.diagnostics["keep_ratio"] == pytest.approx(4 / 6)


def test_dapo_filter_on_a_named_reward():
    dapo = compute_advantages("dapo", REWARDS, IDS, MASK, dynamic_sampling_metric="correctness", reward_names=["correctness", "length"])
    assert dapo.keep.tolist() == [False, False, True, True, False, False]
    assert torch.all(dapo.advantages[4:] == 0)  # group c: totals differ but correctness ties


def test_overlong_term_joins_the_summed_reward():
    mask = torch.tensor([[1.0] * 4, [1.0] * 2 + [0.0] * 2])
    rewards = torch.tensor([[1.0], [1.0]])  # tie without the length term
    plain = compute_advantages("dapo", rewards, [0, 0], mask)
    assert not plain.keep.any()
    shaped = compute_advantages("dapo", rewards, [0, 0], mask, overlong=Overlong(max_length=4, buffer=2))
    assert shaped.keep.all()
    assert shaped.sequence_advantages[0] < 0 < shaped.sequence_advantages[1]  # the long one is punished


def test_specs_reject_bad_values():
    with pytest.raises(ValueError, match="max_rounds"):
        DynamicSampling(metric="sum", max_rounds=0)
    with pytest.raises(ValueError, match="overlong: expected 0 < buffer <= max_length"):
        Overlong(max_length=10, buffer=20)
