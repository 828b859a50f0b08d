"""Clipped policy-gradient loss: clip-higher, dual-clip and loss aggregation (algorithms.md §3, §7).

Token tensors are (B, T); `mask: (B, T)` selects the tokens that enter the loss.
"""

from __future__ import annotations

import torch
from torch import Tensor

LOSS_AGGREGATIONS = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum")
LOG_RATIO_CLAMP = 20.0  # verl `compute_policy_loss`: clamp(log π − log π_old, −20, 20)


def importance_ratio(log_probs: Tensor, old_log_probs: Tensor) -> Tensor:
    """r_t = exp(clamp(log π_θ − log π_old, −20, 20)).   (B, T) → (B, T)."""
    return torch.exp(torch.clamp(log_probs - old_log_probs, -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))


def clipped_surrogate(
    ratio: Tensor,
    advantages: Tensor,
    epsilon_low: float,
    epsilon_high: float,
    dual_clip: float | None = None,
) -> Tensor:
    """Per-token PPO loss with clip-higher and optional dual-clip.

        L = max(−A·r, −A·clip(r, 1 − ε_low, 1 + ε_high));   for A < 0 with dual-clip c: L = min(L, −A·c)

    ratio, advantages: (B, T) → (B, T). DAPO: ε_low = 0.2, ε_high = 0.28. GD²PO: 0.2 / 0.2, c = 3.
    """
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - epsilon_low, 1.0 + epsilon_high)
    loss = torch.maximum(unclipped, clipped)
    if dual_clip is None:
        return loss
    return torch.where(advantages < 0, torch.minimum(loss, -advantages * dual_clip), loss)


def aggregate_loss(
    loss: Tensor,
    mask: Tensor,
    mode: str = "token-mean",
    denominator: float | Tensor | None = None,
) -> Tensor:
    """Reduce a (B, T) loss to a scalar.

    - ``token-mean``: Σ_jt L·m / Σ_jt m (DAPO token-level loss; verl default).
    - ``seq-mean-token-mean``: mean_j (Σ_t L·m / Σ_t m); a sequence with no tokens contributes 0.
    - ``seq-mean-token-sum``: mean_j Σ_t L·m.

    ``denominator`` replaces the local count (tokens for token-mean, sequences for the seq modes)
    with a global one, e.g. the token count of the whole mini-batch: then the micro-batch losses
    of a gradient-accumulation step add up to the full-batch loss.
    """
    if mode == "token-mean":
        total = (loss * mask).sum()
        return total / (mask.sum() if denominator is None else denominator)
    if mode == "seq-mean-token-mean":
        per_sequence = (loss * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
    elif mode == "seq-mean-token-sum":
        per_sequence = (loss * mask).sum(dim=1)
    else:
        raise ValueError(f"loss_aggregation: expected one of {LOSS_AGGREGATIONS}, got {mode!r}")
    return per_sequence.sum() / (per_sequence.numel() if denominator is None else denominator)


def policy_loss(
    log_probs: Tensor,
    old_log_probs: Tensor,
    advantages: Tensor,
    mask: Tensor,
    epsilon_low: float = 0.2,
    epsilon_high: float = 0.2,
    dual_clip: float | None = None,
    loss_aggregation: str = "token-mean",
    denominator: float | Tensor | None = None,
) -> Tensor:
    """Scalar clipped policy loss: `aggregate_loss(clipped_surrogate(importance_ratio(...)))`.

    log_probs, old_log_probs, advantages, mask: (B, T) → scalar. No KL and no entropy term (all
    official scripts of §7 run without them).
    """
    check_clip(epsilon_low, epsilon_high, dual_clip)
    ratio = importance_ratio(log_probs, old_log_probs)
    loss = clipped_surrogate(ratio, advantages, epsilon_low, epsilon_high, dual_clip)
    return aggregate_loss(loss, mask.to(loss.dtype), loss_aggregation, denominator)


def loss_mask(response_mask: Tensor, keep: Tensor, exclude_filtered: bool = False) -> Tensor:
    """Tokens in the loss: the response mask (official: filtered rollouts still count in the
    token-mean denominator, §4.3), or response_mask · keep with ``exclude_filtered``.

    response_mask: (B, T), keep: (B,) bool → (B, T).
    """
    if not exclude_filtered:
        return response_mask
    return response_mask * keep.to(response_mask.dtype).unsqueeze(1)


def check_clip(epsilon_low: float, epsilon_high: float, dual_clip: float | None) -> None:
    """Clip settings a PPO loss can use: 0 ≤ ε_low < 1, ε_high ≥ 0, dual-clip c > 1 or None."""
    if not 0.0 <= epsilon_low < 1.0:
        raise ValueError(f"epsilon_low: expected a value in [0, 1), got {epsilon_low}")
    if epsilon_high < 0.0:
        raise ValueError(f"epsilon_high: expected a value >= 0, got {epsilon_high}")
    if dual_clip is not None and dual_clip <= 1.0:
        raise ValueError(f"dual_clip: expected None or a value > 1 (verl clip_ratio_c), got {dual_clip}")
