"""GD²PO conflict filter and query reweighting (algorithms.md §4.1, §4.2).

`components: (B, K)` are the weighted per-reward advantages w_k · A_jk (the official code: w ≡ 1).
"""

from __future__ import annotations

import torch
from torch import Tensor

from gd2po.core.groups import group_size

SIGN_BAND = 1e-8  # `_get_mixed_sign_conflict_mask(eps=1e-8)`
SNR_EPS_FLOOR = 1e-12  # `ratio_eps = max(ratio_eps, 1e-12)`


def length_scaled_sums(components: Tensor, lengths: Tensor) -> Tensor:
    """S_jk = Σ_t A_jk · m_jt = L_j · A_jk (§4.2 step 1).   components: (B, K), lengths: (B,) → (B, K)."""
    return components * lengths.unsqueeze(1)


def mixed_sign(sums: Tensor, band: float = SIGN_BAND) -> Tensor:
    """mixed_j = (∃k S_jk > band) ∧ (∃k S_jk < −band); exact zeros have no sign (§4.2 step 2).

    sums: (B, K) → (B,) bool.
    """
    return (sums > band).any(dim=1) & (sums < -band).any(dim=1)


def snr_ratio(sums: Tensor, eps: float) -> Tensor:
    """ρ_j = Σ_k S_jk / (Σ_k |S_jk| + max(eps, 1e-12)) (§4.2 step 3b).   sums: (B, K) → (B,)."""
    return sums.sum(dim=1) / (sums.abs().sum(dim=1) + max(eps, SNR_EPS_FLOOR))


def hard_keep(mixed: Tensor) -> Tensor:
    """GD²PO-Hard (§4.2 step 3a): keep_j = ¬mixed_j.   mixed: (B,) bool → (B,) bool."""
    return ~mixed


def snr_keep(mixed: Tensor, ratio: Tensor, tau: float) -> Tensor:
    """GD²PO-SNR, code rule (§4.2 step 3b): drop_j = mixed_j ∧ |ρ_j| < τ; keep_j = ¬drop_j.

    Only mixed-sign rollouts can be dropped. τ = 0 keeps all (GDPO); τ = 1 drops every mixed
    rollout (Hard), since |ρ| < 1 whenever signs are mixed. mixed, ratio: (B,) → (B,) bool.
    """
    return ~(mixed & (ratio.abs() < tau))


def paper_snr(components: Tensor, eps: float) -> Tensor:
    """SNR_n = |Σ_i w_i A_n^i| / (Σ_i |w_i A_n^i| + ε), in [0, 1] (§4.1, method figure).

    components: (B, K) → (B,). This is |`snr_ratio`| of the advantages, not of the length-scaled sums.
    """
    return snr_ratio(components, eps).abs()


def paper_keep(snr: Tensor, tau: float) -> Tensor:
    """GD²PO-SNR, paper rule (§4.1): δ_n = 1(SNR_n > τ), for every rollout (strict).

    A rollout whose advantages are all zero has SNR = 0 and is dropped for any τ ≥ 0; the code
    rule keeps it (§6 row 1). snr: (B,) → (B,) bool.
    """
    return snr > tau


def group_keep_ratio(keep: Tensor, index: Tensor, num_groups: int) -> Tensor:
    """κ_g = #{j ∈ g : keep_j} / |g|, returned per rollout (§4.2 step 4).   keep: (B,) → (B,) float64."""
    kept = torch.bincount(index, weights=keep.to(torch.float64), minlength=num_groups)
    return (kept / group_size(index, num_groups))[index]
