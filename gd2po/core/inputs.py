"""Checked inputs of the advantage core: rewards, group ids and response mask as tensors.

Shapes used everywhere in `gd2po.core`:

    B  rollouts in the batch      K  reward dimensions      T  response tokens (padded)
    G  distinct groups (prompts)

Everything runs in the rewards' floating dtype (float32 for integer rewards or Python lists), as
the official code does; pass float64 rewards for float64 arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

NAN_POLICIES = ("raise", "missing")


@dataclass(frozen=True)
class Batch:
    """One batch, validated.

    rewards:  (B, K) float, missing entries set to 0
    valid:    (B, K) bool, False where a reward is missing (NaN under ``nan_policy="missing"``)
    index:    (B,) int64 dense group index in [0, G)
    num_groups: G
    mask:     (B, T) response mask in the output dtype, entries 0 or 1
    lengths:  (B,) float response lengths L_j = Σ_t m_jt

    Every value computed from this batch has the dtype of ``rewards``.
    """

    rewards: Tensor
    valid: Tensor
    index: Tensor
    num_groups: int
    mask: Tensor
    lengths: Tensor


def as_reward_tensor(rewards: Tensor | Sequence) -> Tensor:
    """Rewards as a (B, K) floating tensor; a Python list or an integer tensor becomes float32."""
    tensor = torch.as_tensor(rewards)
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.float32)
    if tensor.dim() != 2:
        raise ValueError(f"rewards: expected shape (B, K), got {tuple(tensor.shape)}")
    if tensor.shape[1] == 0:
        raise ValueError("rewards: expected at least one reward dimension (K >= 1), got K = 0")
    if tensor.shape[0] == 0:
        raise ValueError("rewards: expected at least one rollout (B >= 1), got B = 0")
    return tensor


def group_index(group_ids: Tensor | Sequence, batch_size: int, device: torch.device) -> tuple[Tensor, int]:
    """Dense group index (B,) in [0, G) and G, from arbitrary group ids.

    ``group_ids`` is an integer tensor (B,) or a list of B hashable ids (strings or ints). Ids need
    not be contiguous or sorted, and groups may have any size.
    """
    if isinstance(group_ids, Tensor):
        if group_ids.dim() != 1 or group_ids.is_floating_point() or group_ids.is_complex():
            raise ValueError(
                f"group_ids: expected a 1-D integer tensor of length B = {batch_size}, "
                f"got dtype {group_ids.dtype} and shape {tuple(group_ids.shape)}"
            )
        ids = group_ids.to(device)
    else:
        ids_list = list(group_ids)
        if len(ids_list) != batch_size:
            raise ValueError(f"group_ids: expected {batch_size} ids (one per rollout), got {len(ids_list)}")
        dense = {group_id: position for position, group_id in enumerate(dict.fromkeys(ids_list))}
        ids = torch.tensor([dense[group_id] for group_id in ids_list], dtype=torch.int64, device=device)
    if ids.shape[0] != batch_size:
        raise ValueError(f"group_ids: expected {batch_size} ids (one per rollout), got {ids.shape[0]}")
    unique, index = torch.unique(ids, return_inverse=True)
    return index, unique.numel()


def response_mask_tensor(response_mask: Tensor | Sequence, batch_size: int, dtype: torch.dtype) -> Tensor:
    """Response mask (B, T) as ``dtype``; every entry must be 0 or 1."""
    mask = torch.as_tensor(response_mask)
    if mask.dim() != 2 or mask.shape[0] != batch_size:
        raise ValueError(f"response_mask: expected shape (B, T) with B = {batch_size}, got {tuple(mask.shape)}")
    if mask.dtype != torch.bool and bool(torch.count_nonzero(mask * (1 - mask))):  # m(1 − m) = 0 iff m ∈ {0, 1}
        raise ValueError("response_mask: expected entries 0 or 1 only")
    return mask.to(dtype)


def missing_rewards(rewards: Tensor, nan_policy: str) -> Tensor:
    """Valid-entry mask (B, K): NaN is an error (``"raise"``) or a missing reward (``"missing"``).

    An infinite reward is always an error: it has no finite z-score under either policy.
    """
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy: expected one of {NAN_POLICIES}, got {nan_policy!r}")
    if bool(torch.isinf(rewards).any()):
        raise ValueError("rewards: expected finite values, found inf")
    is_nan = torch.isnan(rewards)
    if nan_policy == "raise" and bool(is_nan.any()):
        raise ValueError(
            "rewards: found NaN; pass nan_policy='missing' to treat NaN as a missing reward, "
            "or fix the reward function"
        )
    return ~is_nan


def prepare_batch(
    rewards: Tensor | Sequence,
    group_ids: Tensor | Sequence,
    response_mask: Tensor | Sequence,
    nan_policy: str = "raise",
) -> Batch:
    """Validate and convert the three inputs of every advantage estimator."""
    reward_tensor = as_reward_tensor(rewards)
    batch_size = reward_tensor.shape[0]
    valid = missing_rewards(reward_tensor, nan_policy)
    index, num_groups = group_index(group_ids, batch_size, reward_tensor.device)
    mask = response_mask_tensor(response_mask, batch_size, reward_tensor.dtype).to(reward_tensor.device)
    return Batch(
        rewards=torch.where(valid, reward_tensor, 0.0),
        valid=valid,
        index=index,
        num_groups=num_groups,
        mask=mask,
        lengths=mask.sum(dim=1),
    )
