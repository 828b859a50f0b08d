"""Clipped surrogate with clip-higher and dual-clip, and the loss aggregation modes, on hand values."""

import math

import pytest
import torch

from gd2po.core.loss import aggregate_loss, clipped_surrogate, importance_ratio, loss_mask, policy_loss


def surrogate(ratio, advantage, low=0.2, high=0.28, dual_clip=None):
    return float(clipped_surrogate(torch.tensor([ratio]), torch.tensor([advantage]), low, high, dual_clip)[0])


@pytest.mark.parametrize(
    "ratio, advantage, expected",
    [
        (1.5, 1.0, -1.28),  # A > 0: gain capped at 1 + ε_high
        (1.1, 1.0, -1.1),  # inside the clip range: plain −A·r
        (0.5, 1.0, -0.5),  # A > 0, r small: the pessimistic unclipped term
        (0.5, -1.0, 0.8),  # A < 0: floor at 1 − ε_low
        (1.5, -1.0, 1.5),  # A < 0, r large: unclipped, ε_high plays no part
        (2.0, 0.0, 0.0),
    ],
)
def test_clip_higher(ratio, advantage, expected):
    assert surrogate(ratio, advantage) == pytest.approx(expected)


def test_symmetric_clip_differs_from_clip_higher_only_above_one():
    assert surrogate(1.5, 1.0, high=0.2) == pytest.approx(-1.2)
    assert surrogate(0.5, -1.0, high=0.2) == surrogate(0.5, -1.0, high=0.28)


@pytest.mark.parametrize(
    "ratio, advantage, expected",
    [
        (5.0, -1.0, 3.0),  # A < 0: capped at −A·c
        (2.0, -1.0, 2.0),  # below the cap
        (5.0, -2.0, 6.0),
        (5.0, 1.0, -1.28),  # A > 0: dual-clip never applies
    ],
)
def test_dual_clip(ratio, advantage, expected):
    assert surrogate(ratio, advantage, dual_clip=3.0) == pytest.approx(expected)
    if advantage < 0 and ratio > 3.0:
        assert surrogate(ratio, advantage) == pytest.approx(-advantage * ratio)  # without it: uncapped


def test_importance_ratio_clamps_log_ratio_at_20():
    log_probs = torch.tensor([[30.0, -30.0, 0.5]])
    ratio = importance_ratio(log_probs, torch.zeros_like(log_probs))
    torch.testing.assert_close(ratio, torch.tensor([[math.exp(20), math.exp(-20), math.exp(0.5)]]))


LOSS = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0]])
MASK = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize(
    "mode, expected",
    [("token-mean", 10 / 4), ("seq-mean-token-mean", (2 + 4) / 2), ("seq-mean-token-sum", (6 + 4) / 2)],
)
def test_aggregation_modes(mode, expected):
    assert float(aggregate_loss(LOSS, MASK, mode)) == pytest.approx(expected)


def test_global_denominator_makes_micro_batches_add_up():
    full = aggregate_loss(LOSS, MASK, "token-mean")
    total_tokens = MASK.sum()
    parts = [aggregate_loss(LOSS[i : i + 1], MASK[i : i + 1], "token-mean", denominator=total_tokens) for i in range(2)]
    torch.testing.assert_close(sum(parts), full)
    local = [aggregate_loss(LOSS[i : i + 1], MASK[i : i + 1], "token-mean") for i in range(2)]
    assert float(sum(local) / 2) != pytest.approx(float(full))  # averaging local means would be wrong


def test_sequence_without_tokens_contributes_zero():
    mask = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    assert float(aggregate_loss(LOSS, mask, "seq-mean-token-mean")) == pytest.approx(1.5 / 2)


def test_unknown_aggregation_is_rejected():
    with pytest.raises(ValueError, match="loss_aggregation"):
        aggregate_loss(LOSS, MASK, "sum")


@pytest.mark.parametrize(
    "settings, name",
    [({"dual_clip": 1.0}, "dual_clip"), ({"epsilon_low": 1.0}, "epsilon_low"), ({"epsilon_high": -0.1}, "epsilon_high")],
)
def test_bad_clip_settings_are_rejected(settings, name):
    zeros = torch.zeros(1, 2)
    with pytest.raises(ValueError, match=name):
        policy_loss(zeros, zeros, zeros, torch.ones(1, 2), **settings)


def test_policy_loss_gradient_vanishes_where_clipped():
    log_probs = torch.log(torch.tensor([[1.5, 1.1, 0.5]])).requires_grad_()
    old = torch.zeros(1, 3)
    advantages = torch.tensor([[1.0, 1.0, -1.0]])
    loss = policy_loss(log_probs, old, advantages, torch.ones(1, 3), epsilon_low=0.2, epsilon_high=0.28)
    loss.backward()
    # token 0: r = 1.5 > 1.28 with A > 0 → clipped; token 2: r = 0.5 < 0.8 with A < 0 → clipped
    torch.testing.assert_close(log_probs.grad, torch.tensor([[0.0, -1.1 / 3, 0.0]]))
    assert float(loss.detach()) == pytest.approx((-1.28 - 1.1 + 0.8) / 3)


def test_loss_mask_keeps_or_drops_filtered_tokens():
    response_mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    keep = torch.tensor([False, True])
    assert torch.equal(loss_mask(response_mask, keep), response_mask)
    assert torch.equal(loss_mask(response_mask, keep, exclude_filtered=True), torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
