"""GRPO and GDPO advantages and the two batch-whitening variants (algorithms.md §1, §2).

Per-rollout values are (B,) in the rewards' dtype; `broadcast` turns them into token-level (B, T) advantages.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gd2po.core.groups import group_zscore

VERL_GROUP_EPS = 1e-6  # verl `compute_grpo_outcome_advantage` epsilon (GRPO, GDPO, GD²PO)
TRL_EPS = 1e-4  # TRL `normalize_then_sum`: group std + 1e-4 and batch std + 1e-4
VERL_WHITEN_EPS = 1e-8  # verl `masked_whiten`: rsqrt(var + 1e-8)


def weighted_sum(values: Tensor, weights: Tensor) -> Tensor:
    """s_j = Σ_k w_k v_jk.   values: (B, K), weights: (K,) → (B,)."""
    return values @ weights


def grpo_sequence_advantages(
    rewards: Tensor,
    valid: Tensor,
    weights: Tensor,
    index: Tensor,
    num_groups: int,
    eps: float = VERL_GROUP_EPS,
    scale_by_std: bool = True,
) -> Tensor:
    """GRPO (§1): r_j = Σ_k w_k r_jk, then A_j = (r_j − mean_g r) / (std_g r + eps).

    rewards, valid: (B, K) → (B,). Missing rewards drop out of the sum; a rollout with every reward
    missing is left out of its group's statistics and gets A = 0 (TRL's unscorable rule).
    """
    summed = weighted_sum(rewards * valid, weights).unsqueeze(1)
    scored = valid.any(dim=1, keepdim=True)
    return group_zscore(summed, scored, index, num_groups, eps, scale_by_std).squeeze(1)


def gdpo_reward_advantages(
    rewards: Tensor,
    valid: Tensor,
    index: Tensor,
    num_groups: int,
    eps: float = VERL_GROUP_EPS,
    scale_by_std: bool = True,
) -> Tensor:
    """GDPO step 1 (§2.2, §2.3): A_jk = (r_jk − μ_gk) / (σ_gk + eps), each reward on its own.

    rewards, valid: (B, K) → (B, K).
    """
    return group_zscore(rewards, valid, index, num_groups, eps, scale_by_std)


def masked_whiten(values: Tensor, mask: Tensor) -> Tensor:
    """verl `masked_whiten` over every masked token of the batch (§2.2 step 3).

        m = Σ X·M / Σ M,   v = [Σ (X − m)²·M / Σ M] · ΣM / (ΣM − 1),   Â = (X − m) / sqrt(v + 1e-8)

    values, mask: (B, T) → (B, T), unmasked entries included (callers multiply by the mask).
    This is the reference form for any token-level tensor; `token_whiten` computes the same numbers
    for sequence-constant values in O(B). Like verl, it needs ΣM ≥ 2.
    """
    count = mask.sum()
    mean = (values * mask).sum() / count
    var = ((values - mean) ** 2 * mask).sum() / (count - 1)
    return (values - mean) * torch.rsqrt(var + VERL_WHITEN_EPS)


def token_whiten(values: Tensor, lengths: Tensor, weight: Tensor) -> Tensor:
    """`masked_whiten(X, W)` for X_jt = x_j · m_jt and W_jt = w_j · m_jt, computed per rollout.

    Each rollout contributes its value L_j times (L_j = Σ_t m_jt), so with N = Σ_j w_j L_j:

        m = Σ_j w_j L_j x_j / N,   v = Σ_j w_j L_j (x_j − m)² / (N − 1),   x̂_j = (x_j − m) / sqrt(v + 1e-8)

    values, lengths: (B,) float, weight: (B,) bool → (B,), 0 where w_j = 0.
    N = 0 (nothing kept): every value is 0, as the official code. N = 1: the lone kept token has
    x − m = 0, so its value is 0 (the official `masked_var` raises on a zero Bessel denominator).
    """
    token_weight = lengths * weight
    count = token_weight.sum()
    if count <= 1:
        return torch.zeros_like(values)
    mean = (token_weight * values).sum() / count
    var = (token_weight * (values - mean) ** 2).sum() / (count - 1)
    return (values - mean) * torch.rsqrt(var + VERL_WHITEN_EPS) * weight


def sequence_whiten(values: Tensor, weight: Tensor, eps: float = TRL_EPS) -> Tensor:
    """TRL `normalize_then_sum` batch step (§2.3 step 3): A_j = (s_j − mean_B s) / (std_B s + eps).

    values: (B,), weight: (B,) bool selects the rollouts in the statistics → (B,), 0 where not
    selected. Unbiased std; with fewer than two selected rollouts every value is 0.
    """
    count = weight.sum()
    if count < 2:
        return torch.zeros_like(values)
    selected = values[weight]
    return (values - selected.mean()) / (selected.std() + eps) * weight


def broadcast(values: Tensor, mask: Tensor) -> Tensor:
    """Â_jt = x̂_j · m_jt.   values: (B,), mask: (B, T) → (B, T) in the mask's dtype."""
    return values.to(mask.dtype).unsqueeze(1) * mask
