"""Diagnostics on hand values: conflict rate, keep ratio, cancellation (with its 0/0 rule), |A| means."""

import pytest
import torch

from gd2po.core import compute_advantages
from gd2po.core.diagnostics import cancellation, token_abs_mean


def test_cancellation_hand_values():
    components = torch.tensor([[1.0, 1.0], [1.0, -1.0], [2.0, -1.0], [0.0, 0.0]])
    # per rollout: 1, 0, 1/3; the all-zero rollout has no signal and is left out
    assert float(cancellation(components)) == pytest.approx((1 + 0 + 1 / 3) / 3)


def test_cancellation_without_any_signal_is_one():
    assert float(cancellation(torch.zeros(3, 2))) == 1.0


def test_token_abs_mean_weights_by_length():
    values = torch.tensor([1.0, -3.0, 5.0])
    lengths = torch.tensor([3.0, 1.0, 0.0])
    assert float(token_abs_mean(values, lengths)) == pytest.approx((3 * 1 + 1 * 3) / 4)
    assert float(token_abs_mean(values, torch.zeros(3))) == 0.0


def test_diagnostics_of_the_worked_example():
    rewards = torch.tensor([[3.0, 0.2], [-3.0, 0.8], [1.0, 0.5], [-1.0, 0.5]])
    mask = torch.ones(4, 10)
    snr = compute_advantages("gd2po_snr", rewards, [0] * 4, mask, tau=0.8).diagnostics
    gdpo = compute_advantages("gdpo", rewards, [0] * 4, mask).diagnostics
    grpo = compute_advantages("grpo", rewards, [0] * 4, mask).diagnostics
    for diagnostics in (snr, gdpo, grpo):  # the same per-reward view for every method
        assert diagnostics["conflict_rate"] == 0.5
        assert diagnostics["cancellation"] == pytest.approx((0.026 + 0.026 + 1 + 1) / 4, abs=2e-3)
    assert snr["keep_ratio"] == 0.5 and gdpo["keep_ratio"] == 1.0
    assert snr["tau"] == 0.8 and "tau" not in gdpo
    assert snr["abs_mean_before_filter"] == pytest.approx(gdpo["abs_mean"], rel=1e-6)
    assert snr["abs_mean"] == pytest.approx(0.5 * (19 / 20) ** 0.5, rel=1e-4)  # two of four rollouts at ±0.975
