"""DAPO pieces: the dynamic-sampling group filter and the soft overlong punishment (algorithms.md §3)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from gd2po.core.groups import group_extremes


@dataclass(frozen=True)
class DynamicSampling:
    """DAPO dynamic sampling: drop groups whose ``metric`` is constant and refill the batch.

    metric: "sum" (the summed reward the advantage uses) or the name of one reward (DAPO: the
        accuracy; filtering on a shaped total can break training, algorithms.md §3).
    max_rounds: generation rounds the trainer may use to refill the batch (verl ``max_num_gen_batches``).
    """

    metric: str = "sum"
    max_rounds: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or not self.metric:
            raise ValueError(f"dynamic_sampling.metric: expected 'sum' or a reward name, got {self.metric!r}")
        if self.max_rounds < 1:
            raise ValueError(f"dynamic_sampling.max_rounds: expected an integer >= 1, got {self.max_rounds}")


@dataclass(frozen=True)
class Overlong:
    """Soft overlong punishment (verl form), added to the reward as one more reward column.

    max_length: generation cap in tokens; buffer: the ramp length before it; factor: penalty at the cap.
    """

    max_length: int
    buffer: int
    factor: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.buffer <= self.max_length:
            raise ValueError(
                f"overlong: expected 0 < buffer <= max_length, got buffer={self.buffer}, max_length={self.max_length}"
            )
        if self.factor < 0:
            raise ValueError(f"overlong.factor: expected a value >= 0, got {self.factor}")


def nonconstant_groups(metric: Tensor, valid: Tensor, index: Tensor, num_groups: int) -> Tensor:
    """Dynamic sampling: keep group g iff its metric is not constant, i.e. std_g > 0.

    For a 0/1 accuracy this is DAPO's 0 < #correct < G. metric, valid: (B,) → keep: (B,) bool.
    Only valid entries count; a group with fewer than two valid values is constant.
    The refill loop (sample more prompts until the batch is full) is the trainer's job.
    """
    lowest, highest = group_extremes(metric.unsqueeze(1), valid.unsqueeze(1), index, num_groups)
    return (highest > lowest).squeeze(1)[index]


def overlong_penalty_verl(lengths: Tensor, max_length: int, buffer: int, factor: float = 1.0) -> Tensor:
    """verl DAPO reward manager: min(−(|y| − (max_length − buffer)) / buffer · factor, 0).

    lengths: (B,) → (B,) float64. Equal to the paper form (tests/core/test_dapo.py) with
    L_max = max_length, L_cache = buffer and factor 1 for |y| ≤ max_length (verl never generates
    past max_length).
    """
    exceed = lengths.to(torch.float64) - (max_length - buffer)
    return (-exceed / buffer * factor).clamp(max=0.0)
