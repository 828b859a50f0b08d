"""Worked examples and closed forms of docs/algorithms.md (§1, §2, §4), checked by hand values."""

import math

import pytest
import torch

from gd2po.core import compute_advantages
from gd2po.core.conflict import length_scaled_sums, mixed_sign, paper_keep, snr_keep, snr_ratio
from gd2po.core.groups import group_zscore

ONE_GROUP4 = [0, 0, 0, 0]


def full_mask(rows: int, length: int) -> torch.Tensor:
    return torch.ones(rows, length)


# §4.4 worked example: K = 2, G = 4, all responses L = 10 tokens.
CORRECTNESS = [3.0, -3.0, 1.0, -1.0]
LENGTH = [0.2, 0.8, 0.5, 0.5]
WORKED = torch.tensor([CORRECTNESS, LENGTH]).T


def test_worked_example_per_reward_advantages():
    zscores = group_zscore(WORKED, torch.ones_like(WORKED, dtype=torch.bool), torch.zeros(4, dtype=torch.long), 1, 1e-6)
    sigma = math.sqrt(20 / 3)
    torch.testing.assert_close(zscores[:, 0], torch.tensor([3, -3, 1, -1]) / (sigma + 1e-6))
    torch.testing.assert_close(zscores[:, 1], torch.tensor([-1.2247, 1.2247, 0.0, 0.0]), atol=1e-4, rtol=0)
    assert zscores[2, 1] == 0 and zscores[3, 1] == 0


def test_worked_example_conflict_ratio_and_drops():
    zscores = group_zscore(WORKED, torch.ones_like(WORKED, dtype=torch.bool), torch.zeros(4, dtype=torch.long), 1, 1e-6)
    sums = length_scaled_sums(zscores, torch.full((4,), 10.0))
    mixed = mixed_sign(sums)
    assert mixed.tolist() == [True, True, False, False]
    ratio = snr_ratio(sums, 1e-8)
    torch.testing.assert_close(ratio[:2], torch.tensor([-0.026, 0.026]), atol=1e-3, rtol=0)
    for tau in (0.2, 0.8):
        assert snr_keep(mixed, ratio, tau).tolist() == [False, False, True, True]


@pytest.mark.parametrize("method, options", [("gd2po_hard", {}), ("gd2po_snr", {"tau": 0.2}), ("gd2po_snr", {"tau": 0.8})])
def test_worked_example_end_to_end(method, options):
    none = compute_advantages(method, WORKED, ONE_GROUP4, full_mask(4, 10), whitening="none", **options)
    torch.testing.assert_close(none.sequence_advantages, torch.tensor([0.0, 0.0, 0.1936, -0.1936]), atol=1e-4, rtol=0)
    whitened = compute_advantages(method, WORKED, ONE_GROUP4, full_mask(4, 10), **options)
    expected = math.sqrt((2 * 10 - 1) / (2 * 10))  # ±0.975
    torch.testing.assert_close(whitened.sequence_advantages, torch.tensor([0.0, 0.0, expected, -expected]))
    assert whitened.keep.tolist() == [False, False, True, True]
    assert whitened.diagnostics["keep_ratio"] == 0.5
    assert whitened.diagnostics["conflict_rate"] == 0.5


# §4.2 K = 2 closed form: with opposite signs, SNR drops iff b/a > (1 − τ)/(1 + τ).
@pytest.mark.parametrize("tau, table_value", [(0.2, 0.667), (0.5, 0.333), (0.8, 0.111), (1.0, 0.0)])
def test_k2_closed_form_table(tau, table_value):
    boundary = (1 - tau) / (1 + tau)
    assert boundary == pytest.approx(table_value, abs=5e-4)
    for ratio_ba in (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.9, 1.0):
        if abs(ratio_ba - boundary) < 1e-3:
            continue
        for a, sign in ((2.0, 1.0), (1.5, -1.0)):
            sums = torch.tensor([[sign * a, -sign * a * ratio_ba]], dtype=torch.float64)
            kept = snr_keep(mixed_sign(sums), snr_ratio(sums, 1e-8), tau)
            assert bool(kept[0]) is not (ratio_ba > boundary), (tau, ratio_ba)


@pytest.mark.parametrize(
    "components, rho, kept_at_08, kept_at_02",
    [((1.0, 0.9, -0.2), 0.81, True, True), ((1.0, -0.9, 0.2), 0.143, False, False)],
)
def test_k3_examples(components, rho, kept_at_08, kept_at_02):
    sums = torch.tensor([components], dtype=torch.float64)
    mixed = mixed_sign(sums)
    ratio = snr_ratio(sums, 1e-8)
    assert float(ratio[0]) == pytest.approx(rho, abs=5e-3)
    assert bool(snr_keep(mixed, ratio, 0.8)[0]) is kept_at_08
    assert bool(snr_keep(mixed, ratio, 0.2)[0]) is kept_at_02
    assert bool(snr_keep(mixed, ratio, 1.0)[0]) is False  # Hard drops every mixed rollout


@pytest.mark.parametrize("summed", [(0.0, 1.0), (0.0, 2.0), (1.0, 2.0)])
def test_grpo_collapse_example(summed):
    rewards = torch.tensor([[summed[0], 0.0], [summed[1], 0.0]])
    result = compute_advantages("grpo", rewards, [0, 0], full_mask(2, 3))
    torch.testing.assert_close(result.sequence_advantages, torch.tensor([-0.7071, 0.7071]), atol=1e-4, rtol=0)
    raw = compute_advantages("grpo", rewards, [0, 0], full_mask(2, 3), scale_by_std=False)
    half_gap = (summed[1] - summed[0]) / 2
    torch.testing.assert_close(raw.sequence_advantages, torch.tensor([-half_gap, half_gap]))


@pytest.mark.parametrize("second, expected", [((1.0, 0.0), 0.7071), ((1.0, 1.0), 1.4142)])
def test_gdpo_toy_case_is_not_collapsed(second, expected):
    rewards = torch.tensor([[0.0, 0.0], list(second)])
    result = compute_advantages("gdpo", rewards, [0, 0], full_mask(2, 3), whitening="none")
    torch.testing.assert_close(result.sequence_advantages, torch.tensor([-expected, expected]), atol=1e-4, rtol=0)


def test_verl_and_trl_gdpo_differ_by_token_count_factor():
    """§2.4: 8 sequences, G = 4, weights [1, 0.5], all 5 tokens: verl = √(39/35) · TRL."""
    generator = torch.Generator().manual_seed(0)
    rewards = torch.randint(0, 4, (8, 2), generator=generator).to(torch.float64)
    ids = [0, 0, 0, 0, 1, 1, 1, 1]
    options = {"reward_weights": [1.0, 0.5]}
    verl = compute_advantages("gdpo", rewards, ids, full_mask(8, 5), whitening="token", **options)
    trl = compute_advantages("gdpo", rewards, ids, full_mask(8, 5), whitening="sequence", **options)
    torch.testing.assert_close(verl.sequence_advantages, math.sqrt(39 / 35) * trl.sequence_advantages, rtol=1e-3, atol=1e-4)


# §4.3 edge cases.
def test_constant_sum_components_give_zero_for_gdpo_and_kappa_zero_for_gd2po():
    first = torch.tensor([0.0, 1.0, 2.0, 3.0])
    rewards = torch.stack([first, 3.0 - first], dim=1)  # z₂ = −z₁
    gdpo = compute_advantages("gdpo", rewards, ONE_GROUP4, full_mask(4, 4))
    assert torch.all(gdpo.advantages == 0)
    snr = compute_advantages("gd2po_snr", rewards, ONE_GROUP4, full_mask(4, 4), tau=0.01)
    assert snr.diagnostics["conflict_rate"] == 1.0
    assert not bool(snr.keep.any())
    assert torch.all(snr.advantages == 0)


def test_tied_group_is_kept_with_zero_value_but_enters_whitening():
    varied = [[1.0, 0.0], [0.0, 0.0], [2.0, 1.0], [0.0, 1.0]]
    tied = [[0.5, 0.5]] * 3
    mask = full_mask(7, 4)
    with_tied = compute_advantages("gd2po_hard", torch.tensor(varied + tied), [0, 0, 0, 0, 9, 9, 9], mask)
    without = compute_advantages("gd2po_hard", torch.tensor(varied), [0, 0, 0, 0], mask[:4])
    assert with_tied.keep[4:].all()
    sequence = compute_advantages("gd2po_hard", torch.tensor(varied + tied), [0, 0, 0, 0, 9, 9, 9], mask, whitening="none")
    assert torch.all(sequence.sequence_advantages[4:] == 0)
    assert not torch.allclose(with_tied.sequence_advantages[:4], without.sequence_advantages)


def test_group_with_every_rollout_dropped_has_zero_advantages_and_kappa_zero():
    conflicting = [[1.0, -1.0], [-1.0, 1.0]]  # z = (+a, −a) and (−a, +a): both mixed, ρ = 0
    clean = [[1.0, 1.0], [0.0, 0.0]]
    rewards = torch.tensor(conflicting + clean)
    result = compute_advantages("gd2po_hard", rewards, ["a", "a", "b", "b"], full_mask(4, 3))
    assert result.keep.tolist() == [False, False, True, True]
    assert torch.all(result.advantages[:2] == 0)
    assert torch.all(result.advantages[2:] != 0)


def test_whole_batch_dropped_gives_all_zeros():
    rewards = torch.tensor([[0.0, 3.0], [1.0, 2.5], [3.0, 0.0]])  # every rollout mixed, sums do not cancel
    result = compute_advantages("gd2po_hard", rewards, [0, 0, 0], full_mask(3, 3))
    assert not bool(result.keep.any())
    assert torch.all(result.advantages == 0)
    assert result.diagnostics["keep_ratio"] == 0.0
    assert result.diagnostics["abs_mean"] == 0.0
    assert result.diagnostics["abs_mean_before_filter"] > 0.0


def test_one_kept_token_gives_zero_instead_of_the_official_division_error():
    rewards = torch.tensor([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])  # one kept token in the batch
    result = compute_advantages("gd2po_hard", rewards, [0, 0, 1, 1], mask)
    assert result.keep.tolist() == [False, False, True, True]
    assert torch.all(result.advantages == 0)


def test_single_rollout_group_uses_mean_zero_std_one():
    rewards = torch.tensor([[2.0], [1.0], [3.0]])
    result = compute_advantages("grpo", rewards, [5, 7, 7], full_mask(3, 2))
    torch.testing.assert_close(result.sequence_advantages[0], torch.tensor(2.0 / (1 + 1e-6)))
    torch.testing.assert_close(result.sequence_advantages[1:], torch.tensor([-0.7071, 0.7071]), atol=1e-4, rtol=0)


def test_paper_rule_drops_zero_signal_rollouts_the_code_keeps():
    """§6 row 1: a fully tied group has SNR 0; the paper drops it (κ = 0), the code keeps it."""
    rewards = torch.tensor([[1.0, 1.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    ids = [0, 0, 1, 1]
    code = compute_advantages("gd2po_snr", rewards, ids, full_mask(4, 3), tau=0.5)
    paper = compute_advantages("gd2po_snr", rewards, ids, full_mask(4, 3), tau=0.5, filter_rule="paper")
    assert code.keep.tolist() == [True, True, True, True]
    assert paper.keep.tolist() == [True, True, False, False]
    assert torch.all(paper.advantages[2:] == 0)


def test_threshold_boundary_paper_strict_code_inclusive():
    """§6 row 4: the paper keeps iff SNR > τ; the code drops iff |ρ| < τ, so |ρ| = τ is kept."""
    at_threshold = torch.tensor([0.5, -0.5, 0.25])
    assert paper_keep(at_threshold.abs(), 0.5).tolist() == [False, False, False]
    mixed = torch.tensor([True, True, True])
    assert snr_keep(mixed, at_threshold, 0.5).tolist() == [True, True, False]


def test_kappa_differences_between_groups_survive_whitening():
    # Group a: rollouts 1 and 3 conflict (κ = 0.5); group b: none does (κ = 1).
    group_a = [[2.0, 0.0], [1.0, 1.0], [0.0, 2.0], [3.0, 3.0]]
    group_b = [[2.0, 2.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    rewards = torch.tensor(group_a + group_b)
    ids = ["a"] * 4 + ["b"] * 4
    full = compute_advantages("gd2po_hard", rewards, ids, full_mask(8, 3))
    filter_only = compute_advantages("gd2po_snr", rewards, ids, full_mask(8, 3), tau=1.0, reweight=False)
    assert full.keep.tolist() == [False, True, False, True] + [True] * 4
    assert not torch.allclose(full.advantages, filter_only.advantages)
    reweight_only = compute_advantages("gd2po_snr", rewards, ids, full_mask(8, 3), tau=1.0, apply_filter=False)
    assert bool(reweight_only.keep.all())
    assert reweight_only.diagnostics["conflict_rate"] == full.diagnostics["conflict_rate"] > 0


@pytest.mark.parametrize("size", [3, 5, 7, 8])
def test_tied_rewards_give_exactly_zero_despite_float32_rounding(size):
    """§2.2: a reward constant within a group has A = 0. In float32, n·x / n need not be x (n · 0.1 / n),
    and a naive mean then yields z-scores of order ulp / 1e-6 ≈ 0.1 and spurious sign conflicts."""
    tied = [0.1, 0.7, 1.3, 2.9, 0.3]
    rewards = torch.tensor([tied[:2]] * size + [[1.0, 0.0], [0.0, 1.0]], dtype=torch.float32)
    ids = [0] * size + [1, 1]
    sequence = compute_advantages("gdpo", rewards, ids, full_mask(size + 2, 2), whitening="none")
    assert torch.all(sequence.sequence_advantages[:size] == 0)
    hard = compute_advantages("gd2po_hard", torch.tensor([tied[2:4]] * size + [[0.0, 1.0], [1.0, 0.0]]), ids, full_mask(size + 2, 2))
    assert bool(hard.keep[:size].all())
