"""Per-batch diagnostics, the same for every method (baselines too), as plain floats.

They describe the per-reward signal and what the method did to it; the trainer logs them as
`adv/<key>`. All use the decoupled per-reward advantages c_jk = w_k · A_jk (GDPO step 1), even for
GRPO and DAPO, so that conflict and cancellation mean the same thing across methods.
"""

from __future__ import annotations

import torch
from torch import Tensor


def conflict_rate(mixed: Tensor) -> Tensor:
    """Share of rollouts whose per-reward advantages have mixed signs (±1e-8 band on L_j·c_jk).

    mixed: (B,) bool → scalar.
    """
    return mixed.to(torch.float64).mean()


def keep_ratio(keep: Tensor) -> Tensor:
    """Share of rollouts kept (not masked by the conflict or group filter).   keep: (B,) → scalar."""
    return keep.to(torch.float64).mean()


def cancellation(components: Tensor) -> Tensor:
    """mean_j |Σ_k c_jk| / Σ_k |c_jk|: how much of the per-reward signal survives the sum.

    1 means no cancellation (all components agree in sign), 0 means full cancellation (they sum
    to zero). It is the figure's SNR without ε. 0/0: a rollout whose components are all exactly
    zero (a fully tied group) has no signal to cancel and is left out of the mean; if no rollout
    has any signal the value is 1. components: (B, K) → scalar.
    """
    magnitude = components.abs().sum(dim=1)
    has_signal = magnitude > 0
    if not bool(has_signal.any()):
        return torch.ones((), dtype=torch.float64, device=components.device)
    return (components.sum(dim=1).abs()[has_signal] / magnitude[has_signal]).mean()


def token_abs_mean(values: Tensor, lengths: Tensor) -> Tensor:
    """Mean |Â_jt| over the response tokens of the batch, for sequence-constant advantages:

        Σ_j L_j |x̂_j| / Σ_j L_j   (0 if the batch has no response token).   values, lengths: (B,) → scalar.
    """
    tokens = lengths.sum()
    return (lengths * values.abs()).sum() / tokens.clamp(min=1)


def advantage_diagnostics(
    mixed: Tensor,
    keep: Tensor,
    components: Tensor,
    lengths: Tensor,
    final: Tensor,
    final_without_filter: Tensor,
    tau: float | None = None,
) -> dict[str, float]:
    """The diagnostics dict of an `AdvantageResult`.

    Keys: ``conflict_rate``, ``keep_ratio``, ``cancellation``, ``abs_mean`` (mean |advantage| over
    response tokens, as the loss sees it), ``abs_mean_before_filter`` (the same method with the
    conflict/group filter and κ switched off; equal to ``abs_mean`` for GRPO and GDPO), and
    ``tau`` when the method has one.
    """
    values = torch.stack(
        [
            conflict_rate(mixed),
            keep_ratio(keep),
            cancellation(components),
            token_abs_mean(final, lengths),
            token_abs_mean(final_without_filter, lengths),
        ]
    ).tolist()
    keys = ("conflict_rate", "keep_ratio", "cancellation", "abs_mean", "abs_mean_before_filter")
    result = dict(zip(keys, values, strict=True))
    if tau is not None:
        result["tau"] = float(tau)
    return result
