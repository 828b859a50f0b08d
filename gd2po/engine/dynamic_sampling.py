"""DAPO dynamic sampling for TRL, which lacks it (huggingface/trl#3708).

A group whose filter metric is constant (the summed reward, or one named reward) carries no
learning signal; DAPO drops it and refills the batch with groups from further generation rounds:

1. generate and score the round's prompts; the rewards come back gathered over all processes;
2. decide on the gathered rewards and lengths which groups keep, with the recipe's own filter
   (`Recipe.dapo_keep`, overlong term included), so every process computes the same answer and
   it is the answer the advantage step gives;
3. stop when every process holds enough kept groups for its share of the batch, or after
   ``max_rounds`` rounds; otherwise draw fresh prompts and go to 1. The stop test uses gathered
   data only, so every process makes the same number of generation calls and collectives;
4. each process takes its first kept groups; a shortfall is filled with dropped groups, whose
   advantages the DAPO recipe sets to 0, and is logged.

Groups never straddle processes here: each process's share of the generation batch must be a
whole number of groups (checked when the trainer is built).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from gd2po.core.recipe import Recipe


@dataclass(frozen=True)
class RoundResult:
    output: dict  # this process's rows, as `_generate_and_score_completions` returns them
    rewards: Tensor  # (B_global, K) rewards of every process's rows, gathered
    lengths: Tensor  # (B_global,) response lengths (loss-mask tokens) of every process's rows, gathered


@dataclass(frozen=True)
class SamplingStats:
    rounds: int
    kept_groups: int  # groups in the final batch with a non-constant metric (all processes)
    dropped_groups: int  # constant-metric groups seen over all rounds (all processes)
    shortfall_groups: int  # batch slots filled with dropped groups because max_rounds ran out


def mask_from_lengths(lengths: Tensor) -> Tensor:
    """m_jt = 1(t < L_j): a left-aligned response mask.   lengths: (B,) → (B, max(max_j L_j, 1)) bool."""
    width = max(int(lengths.max()), 1)
    return torch.arange(width, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def keep_mask(recipe: Recipe, rewards: Tensor, lengths: Tensor, group_size: int, reward_names: list[str]) -> Tensor:
    """(num_groups,) bool: the recipe's DAPO filter, True for groups whose metric is not constant.

    rewards: (B_global, K), lengths: (B_global,); consecutive runs of ``group_size`` rows are groups.
    """
    group_ids = torch.arange(rewards.shape[0], device=rewards.device) // group_size
    keep = recipe.dapo_keep(rewards, group_ids, mask_from_lengths(lengths), reward_names)
    return keep.view(-1, group_size)[:, 0]


def sample_with_refill(
    generate_round: Callable[[list[dict]], RoundResult],
    first_inputs: list[dict],
    draw_inputs: Callable[[int], list[dict]],
    *,
    recipe: Recipe,
    group_size: int,
    reward_names: list[str],
    process_index: int,
    num_processes: int,
    pad_token_id: int,
) -> tuple[dict, Tensor, SamplingStats]:
    """Run rounds until every process has its share of kept groups (or ``max_rounds`` of the
    recipe's ``dynamic_sampling``).

    ``draw_inputs(round)`` returns fresh rows for the next round, the same count as ``first_inputs``.
    Returns this process's merged rows, their rewards (n_local, K) and the statistics.
    """
    max_rounds = recipe.dynamic_sampling.max_rounds
    local_groups = len(first_inputs) // group_size
    kept_parts: list[tuple[dict, Tensor, Tensor]] = []  # (output, local rewards, local group ids)
    dropped_parts: list[tuple[dict, Tensor, Tensor]] = []
    kept_per_process = torch.zeros(num_processes, dtype=torch.long)
    dropped_total = 0
    inputs, rounds = first_inputs, 0
    while True:
        rounds += 1
        result = generate_round(inputs)
        group_keep = keep_mask(recipe, result.rewards, result.lengths, group_size, reward_names).cpu()
        per_process = group_keep.view(num_processes, local_groups)
        kept_per_process += per_process.sum(dim=1)
        dropped_total += int((~group_keep).sum())
        local = slice(process_index * len(inputs), (process_index + 1) * len(inputs))
        local_rewards = result.rewards[local]
        mine = per_process[process_index]
        kept_parts.append((result.output, local_rewards, mine.nonzero().flatten()))
        dropped_parts.append((result.output, local_rewards, (~mine).nonzero().flatten()))
        if bool((kept_per_process >= local_groups).all()) or rounds >= max_rounds:
            break
        inputs = draw_inputs(rounds)

    chosen: list[tuple[dict, Tensor, Tensor]] = []
    needed = local_groups
    for output, rewards, groups in kept_parts + dropped_parts:  # kept groups first, then padding
        take = groups[:needed]
        if take.numel():
            chosen.append((output, rewards, take))
            needed -= take.numel()
        if needed == 0:
            break
    output, rewards = merge_groups(chosen, group_size, pad_token_id)
    stats = SamplingStats(
        rounds=rounds,
        kept_groups=int(kept_per_process.clamp(max=local_groups).sum()),
        dropped_groups=dropped_total,
        shortfall_groups=int((local_groups - kept_per_process).clamp(min=0).sum()),
    )
    return output, rewards, stats


def merge_groups(parts: list[tuple[dict, Tensor, Tensor]], group_size: int, pad_token_id: int) -> tuple[dict, Tensor]:
    """Concatenate the chosen groups of several rounds' outputs, re-padding token tensors.

    ``parts``: (output, local rewards (n_local, K), chosen local group ids). Prompt tensors are
    left-padded and completion tensors right-padded, as TRL builds them. Scalars
    (``num_items_in_batch``) are dropped: the caller recomputes them for the merged rows.
    """
    offsets = torch.arange(group_size)
    rows = [(output, rewards, (groups.unsqueeze(1) * group_size + offsets).flatten()) for output, rewards, groups in parts]
    merged = {}
    for key, first in rows[0][0].items():
        if not isinstance(first, Tensor):
            raise ValueError(f"dynamic sampling cannot merge the non-tensor output {key!r} (multimodal inputs)")
        if first.dim() == 0:
            continue
        pieces = [output[key][index.to(output[key].device)] for output, _, index in rows]
        if first.dim() == 2:
            width = max(piece.shape[1] for piece in pieces)
            value = pad_token_id if key in ("prompt_ids", "completion_ids") else 0
            pieces = [_pad_columns(piece, width, value, left=key.startswith("prompt_")) for piece in pieces]
        merged[key] = torch.cat(pieces, dim=0)
    rewards = torch.cat([rewards[index.to(rewards.device)] for _, rewards, index in rows])
    return merged, rewards


def _pad_columns(tensor: Tensor, width: int, value: float, left: bool) -> Tensor:
    missing = width - tensor.shape[1]
    if missing == 0:
        return tensor
    padding = tensor.new_full((tensor.shape[0], missing), value)
    return torch.cat([padding, tensor] if left else [tensor, padding], dim=1)
