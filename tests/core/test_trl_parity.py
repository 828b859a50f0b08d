"""GDPO with sequence-level whitening is TRL 1.16's `normalize_then_sum` (algorithms.md §2.3).

The reference below re-derives the formula from §2.3 with TRL's own `nanstd` (unbiased, NaN-aware),
on TRL's layout: contiguous groups of `num_generations` rollouts.

    z_jk = (r_jk − nanmean_g r_k) / (nanstd_g r_k + 1e-4);  s_j = nansum_k w_k z_jk
    A_j = (s_j − nanmean_B s) / (nanstd_B s + 1e-4);  rows with every reward NaN: s = NaN, A = 0
"""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gd2po.core import compute_advantages

trl_utils = pytest.importorskip("trl.trainer.utils")


def trl_normalize_then_sum(rewards: torch.Tensor, weights: torch.Tensor, num_generations: int) -> torch.Tensor:
    nanstd = trl_utils.nanstd
    num_rewards = rewards.shape[1]
    unscorable = torch.isnan(rewards).all(dim=1)
    grouped = rewards.view(-1, num_generations, num_rewards)
    mean_k = torch.nanmean(grouped, dim=1, keepdim=True)
    std_k = nanstd(grouped, dim=1, keepdim=True)
    reward_k = ((grouped - mean_k) / (std_k + 1e-4)).view(-1, num_rewards)
    summed = (reward_k * weights.unsqueeze(0)).nansum(dim=1)
    summed[unscorable] = torch.nan
    std = nanstd(summed)
    return torch.nan_to_num((summed - torch.nanmean(summed)) / (std + 1e-4), nan=0.0)


@st.composite
def trl_batches(draw, allow_nan: bool):
    num_groups = draw(st.integers(1, 6))
    num_generations = draw(st.integers(2, 6))
    num_rewards = draw(st.integers(1, 3))
    size = num_groups * num_generations
    value = st.floats(-3, 3, allow_nan=False, width=32) | st.sampled_from([0.0, 1.0])
    if allow_nan:
        value = value | st.just(float("nan"))
    rewards = draw(st.lists(st.lists(value, min_size=num_rewards, max_size=num_rewards), min_size=size, max_size=size))
    weights = draw(st.lists(st.floats(0.125, 2.0, width=32), min_size=num_rewards, max_size=num_rewards))
    return (
        torch.tensor(rewards, dtype=torch.float64),
        torch.tensor(weights, dtype=torch.float64),
        num_generations,
    )


def ours(rewards, weights, num_generations, **options):
    ids = torch.arange(rewards.shape[0]) // num_generations
    mask = torch.ones(rewards.shape[0], 3)
    return compute_advantages(
        "gdpo", rewards, ids, mask, whitening="sequence", reward_weights=weights.tolist(), **options
    ).sequence_advantages


@settings(max_examples=150, deadline=None)
@given(batch=trl_batches(allow_nan=False))
def test_sequence_gdpo_matches_trl_formula(batch):
    rewards, weights, num_generations = batch
    expected = trl_normalize_then_sum(rewards, weights, num_generations)
    torch.testing.assert_close(ours(rewards, weights, num_generations), expected, rtol=1e-6, atol=1e-6)


@settings(max_examples=150, deadline=None)
@given(batch=trl_batches(allow_nan=True))
def test_missing_rewards_match_trl_nan_handling(batch):
    rewards, weights, num_generations = batch
    expected = trl_normalize_then_sum(rewards, weights, num_generations)
    torch.testing.assert_close(
        ours(rewards, weights, num_generations, nan_policy="missing"), expected, rtol=1e-6, atol=1e-6
    )
