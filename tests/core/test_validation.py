"""Bad input gives a ValueError that names the argument and what was expected."""

import pytest
import torch

from gd2po.core import compute_advantages

REWARDS = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
IDS = [0, 0, 1, 1]
MASK = torch.ones(4, 3)


@pytest.mark.parametrize(
    "method, rewards, group_ids, mask, options, message",
    [
        ("gdpo", torch.ones(4), IDS, MASK, {}, r"rewards: expected shape \(B, K\)"),
        ("gdpo", torch.ones(4, 0), IDS, MASK, {}, r"rewards: expected at least one reward dimension \(K >= 1\)"),
        ("gdpo", torch.ones(0, 2), [], torch.ones(0, 3), {}, r"rewards: expected at least one rollout"),
        ("gdpo", REWARDS, [0, 0, 1], MASK, {}, r"group_ids: expected 4 ids .*got 3"),
        ("gdpo", REWARDS, torch.tensor([0, 0, 1]), MASK, {}, r"group_ids: expected 4 ids .*got 3"),
        ("gdpo", REWARDS, torch.tensor([0.0, 0.0, 1.0, 1.0]), MASK, {}, r"group_ids: expected a 1-D integer tensor"),
        ("gdpo", REWARDS, IDS, torch.ones(3, 3), {}, r"response_mask: expected shape \(B, T\) with B = 4"),
        ("gdpo", REWARDS, IDS, torch.full((4, 3), 2.0), {}, r"response_mask: expected entries 0 or 1"),
        ("gdpo", REWARDS.masked_fill(torch.eye(4, 2, dtype=torch.bool), float("nan")), IDS, MASK, {}, r"rewards: found NaN"),
        ("gdpo", REWARDS.masked_fill(torch.eye(4, 2, dtype=torch.bool), float("inf")), IDS, MASK, {}, r"rewards: expected finite"),
        ("gdpo", REWARDS.masked_fill(torch.eye(4, 2, dtype=torch.bool), float("inf")), IDS, MASK, {"nan_policy": "missing"}, r"finite"),
        ("gd2po_snr", REWARDS, IDS, MASK, {}, r"tau: required for gd2po_snr"),
        ("gd2po_snr", REWARDS, IDS, MASK, {"tau": 1.5}, r"tau: expected a value in \[0, 1\], got 1.5"),
        ("gd2po_snr", REWARDS, IDS, MASK, {"tau": -0.1}, r"tau: expected a value in \[0, 1\]"),
        ("gd2po_snr", REWARDS, IDS, MASK, {"tau": 0.5, "snr_eps": -1.0}, r"snr_eps: expected a value >= 0"),
        ("gdpo", REWARDS, IDS, MASK, {"tau": 0.8}, r"tau: does not apply to method 'gdpo'"),
        ("gd2po_hard", REWARDS, IDS, MASK, {"tau": 0.8}, r"tau: does not apply to method 'gd2po_hard'"),
        ("grpo", REWARDS, IDS, MASK, {"reweight": False}, r"reweight: does not apply"),
        ("gdpo", REWARDS, IDS, MASK, {"dynamic_sampling_metric": "sum"}, r"dynamic_sampling_metric: does not apply"),
        ("gd2po_hard", REWARDS, IDS, MASK, {"filter_rule": "paper"}, r"filter_rule: 'paper'"),
        ("gd2po_snr", REWARDS, IDS, MASK, {"tau": 0.5, "filter_rule": "strict"}, r"filter_rule: expected one of"),
        ("gdpo", REWARDS, IDS, MASK, {"whitening": "batch"}, r"whitening: expected one of \('token', 'sequence', 'none'\)"),
        ("gdpo", REWARDS, IDS, MASK, {"nan_policy": "zero"}, r"nan_policy: expected one of"),
        ("gdpo", REWARDS, IDS, MASK, {"reward_weights": [1.0]}, r"reward_weights: expected 2 weights"),
        ("gdpo", REWARDS, IDS, MASK, {"reward_weights": [1.0, float("nan")]}, r"reward_weights: expected finite"),
        ("dapo", REWARDS, IDS, MASK, {"dynamic_sampling_metric": "correctness"}, r"dynamic_sampling_metric: 'correctness'"),
        ("ppo", REWARDS, IDS, MASK, {}, r"method: expected one of \('grpo', 'gdpo', 'dapo', 'gd2po_hard', 'gd2po_snr'\)"),
        ("gdpo", REWARDS, IDS, MASK, {"overlong": (100, 10)}, r"overlong: expected None or gd2po.core.Overlong"),
    ],
)
def test_bad_input_names_the_argument(method, rewards, group_ids, mask, options, message):
    with pytest.raises(ValueError, match=message):
        compute_advantages(method, rewards, group_ids, mask, **options)


def test_unknown_option_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"option 'threshold' is unknown; allowed options: tau, snr_eps"):
        compute_advantages("gd2po_snr", REWARDS, IDS, MASK, threshold=0.8)


def test_reward_names_must_match_the_columns():
    with pytest.raises(ValueError, match=r"reward_names: expected 2 names"):
        compute_advantages("dapo", REWARDS, IDS, MASK, reward_names=["correctness"])


def test_group_ids_accept_strings_ints_and_tensors_alike():
    reference = compute_advantages("gdpo", REWARDS, torch.tensor([7, 7, -2, -2]), MASK).advantages
    for ids in (["q1", "q1", "q0", "q0"], [3, 3, 10**12, 10**12], (5, 5, 6, 6)):
        torch.testing.assert_close(compute_advantages("gdpo", REWARDS, ids, MASK).advantages, reference)


def test_lists_and_integer_tensors_become_float32():
    result = compute_advantages("grpo", [[1, 0], [0, 1], [2, 2], [0, 0]], IDS, [[1, 1, 0]] * 4)
    assert result.advantages.dtype == torch.float32
    bool_mask = compute_advantages("grpo", REWARDS, IDS, torch.ones(4, 3, dtype=torch.bool))
    assert bool_mask.advantages.dtype == torch.float32


def test_float64_rewards_keep_float64():
    result = compute_advantages("gd2po_hard", REWARDS.double(), IDS, MASK)
    assert result.advantages.dtype == torch.float64
    assert result.sequence_advantages.dtype == torch.float64
