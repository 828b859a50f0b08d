"""Per-group statistics without loops: scatter over a dense group index (algorithms.md §1, §2.2).

`index: (B,)` maps each rollout to its group in [0, G) (see `inputs.group_index`).
"""

from __future__ import annotations

import torch
from torch import Tensor


def group_sum(values: Tensor, index: Tensor, num_groups: int) -> Tensor:
    """S_g = Σ_{j ∈ g} v_j.   values: (B, K) → (G, K)."""
    totals = torch.zeros((num_groups, values.shape[1]), dtype=values.dtype, device=values.device)
    return totals.index_add_(0, index, values)


def group_size(index: Tensor, num_groups: int) -> Tensor:
    """|g| for every group.   index: (B,) → (G,) int64."""
    return torch.bincount(index, minlength=num_groups)


def group_extremes(values: Tensor, valid: Tensor, index: Tensor, num_groups: int) -> tuple[Tensor, Tensor]:
    """min_g and max_g of the valid entries.   values, valid: (B, K) → (G, K), (G, K); ±inf if none valid."""
    shape = (num_groups, values.shape[1])
    rows = index.unsqueeze(1).expand_as(values)
    inf = torch.tensor(torch.inf, dtype=values.dtype, device=values.device)
    lowest = torch.full(shape, torch.inf, dtype=values.dtype, device=values.device)
    highest = torch.full(shape, -torch.inf, dtype=values.dtype, device=values.device)
    lowest = lowest.scatter_reduce(0, rows, torch.where(valid, values, inf), reduce="amin")
    highest = highest.scatter_reduce(0, rows, torch.where(valid, values, -inf), reduce="amax")
    return lowest, highest


def group_mean_std(values: Tensor, valid: Tensor, index: Tensor, num_groups: int) -> tuple[Tensor, Tensor, Tensor]:
    """Per-reward group mean and unbiased std over the valid entries.

        n_gk = #{j ∈ g : r_jk valid},   μ_gk = Σ r_jk / n_gk,   σ_gk = sqrt(Σ (r_jk − μ_gk)² / (n_gk − 1))

    values, valid: (B, K) → mean, std: (G, K), count: (G, K).
    - A group with n_gk < 2 gets μ = 0 and σ = 1 (the official size-1 rule).
    - A reward constant within its group gets μ = that value and σ = 0 exactly. A float sum of n
      equal values divided by n need not give the value back (3 · 0.1 / 3 in float32), and the
      official code then returns noise z-scores of order ulp/1e-6 ≈ 0.1 for a tie; §2.2 says A = 0.
    """
    weights = valid.to(values.dtype)
    count = group_sum(weights, index, num_groups)
    mean = group_sum(values * weights, index, num_groups) / count.clamp(min=1)
    centred = (values - mean[index]) * weights
    std = (group_sum(centred * centred, index, num_groups) / (count - 1).clamp(min=1)).sqrt()
    lowest, highest = group_extremes(values, valid, index, num_groups)
    tied = lowest == highest
    mean, std = torch.where(tied, lowest, mean), torch.where(tied, 0.0, std)
    small = count < 2
    return mean.masked_fill(small, 0.0), std.masked_fill(small, 1.0), count


def group_zscore(
    values: Tensor,
    valid: Tensor,
    index: Tensor,
    num_groups: int,
    eps: float,
    scale_by_std: bool = True,
) -> Tensor:
    """A_jk = (r_jk − μ_gk) / (σ_gk + eps), per reward k and group g (GRPO / GDPO step 1).

    values, valid: (B, K) → (B, K). ``scale_by_std=False`` gives r_jk − μ_gk (Dr. GRPO,
    verl ``norm_adv_by_std_in_grpo=False``).

    Degenerate groups, as the official code:
    - a group of one rollout has μ = 0, σ = 1, so A = r / (1 + eps);
    - a reward constant within a group has σ = 0 and A = 0 (exactly: `group_mean_std` detects the tie
      and sets μ to the tied value, whatever the dtype).
    With missing rewards (``valid`` False): a missing entry gets A = 0, and a group of two or more
    rollouts with fewer than two valid values of reward k gets A = 0 for that reward (no baseline).
    """
    mean, std, count = group_mean_std(values, valid, index, num_groups)
    centred = values - mean[index]
    scores = centred / (std[index] + eps) if scale_by_std else centred
    sizes = group_size(index, num_groups)[index].unsqueeze(1)
    no_baseline = (count[index] < 2) & (sizes > 1)
    return torch.where(valid & ~no_baseline, scores, 0.0)
