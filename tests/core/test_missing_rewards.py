"""nan_policy="missing": a NaN reward is left out of its reward's group statistics and adds 0.

Default "raise" rejects NaN (tested in test_validation). Under "missing", like TRL:
- group mean/std of reward k use the valid values only; the NaN entry's component is 0;
- a group of two or more rollouts with fewer than two valid values of k gets 0 for k;
- a rollout with every reward missing is unscorable: advantage 0, keep False, outside whitening.
"""

import math

import torch

from gd2po.core import compute_advantages

NAN = float("nan")


def test_nan_is_excluded_from_group_statistics():
    rewards = torch.tensor([[1.0], [NAN], [3.0], [5.0]])
    result = compute_advantages("gdpo", rewards, [0] * 4, torch.ones(4, 2), whitening="none", nan_policy="missing")
    std = 2.0  # of (1, 3, 5)
    torch.testing.assert_close(result.sequence_advantages, torch.tensor([-2.0, 0.0, 0.0, 2.0]) / (std + 1e-6))


def test_missing_component_adds_zero_but_others_count():
    rewards = torch.tensor([[1.0, NAN], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    with_nan = compute_advantages("gdpo", rewards, [0] * 4, torch.ones(4, 2), whitening="none", nan_policy="missing")
    correctness_only = compute_advantages("gdpo", rewards[:, :1], [0] * 4, torch.ones(4, 2), whitening="none")
    # rollout 0 has only its first reward: its value is that reward's z-score
    torch.testing.assert_close(with_nan.sequence_advantages[0], correctness_only.sequence_advantages[0])
    assert with_nan.keep.all()


def test_group_with_one_valid_value_has_no_baseline():
    rewards = torch.tensor([[2.0], [NAN], [NAN], [1.0], [3.0]])
    result = compute_advantages("gdpo", rewards, [0, 0, 0, 1, 1], torch.ones(5, 2), whitening="none", nan_policy="missing")
    assert result.sequence_advantages[:3].tolist() == [0.0, 0.0, 0.0]
    assert result.sequence_advantages[3] < 0 < result.sequence_advantages[4]


def test_unscorable_rollout_gets_zero_and_leaves_whitening():
    rewards = torch.tensor([[1.0, 1.0], [NAN, NAN], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    ids = [0, 0, 0, 1, 1]
    result = compute_advantages("gdpo", rewards, ids, torch.ones(5, 2), nan_policy="missing")
    assert result.keep.tolist() == [True, False, True, True, True]
    assert torch.all(result.advantages[1] == 0)
    dropped = compute_advantages("gdpo", rewards[[0, 2, 3, 4]], [0, 0, 1, 1], torch.ones(4, 2))
    torch.testing.assert_close(result.sequence_advantages[[0, 2, 3, 4]], dropped.sequence_advantages)


def test_grpo_sums_the_valid_rewards():
    rewards = torch.tensor([[1.0, NAN], [0.0, 2.0], [NAN, NAN]])
    result = compute_advantages("grpo", rewards, [0, 0, 0], torch.ones(3, 1), nan_policy="missing")
    # summed rewards (1, 2, —): z = ∓0.7071, the unscorable rollout 0
    torch.testing.assert_close(result.sequence_advantages, torch.tensor([-1 / math.sqrt(2), 1 / math.sqrt(2), 0.0]), atol=1e-5, rtol=0)
