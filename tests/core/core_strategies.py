"""Hypothesis strategies for the core tests: shuffled ragged groups, ties, single-rollout groups."""

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

# Dyadic values: float32 sums are exact in any order, and repeats make ties and tied groups common.
TIED_VALUES = st.sampled_from([-3.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0])
ANY_VALUES = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False, width=32)


@dataclass(frozen=True)
class Case:
    rewards: torch.Tensor  # (B, K) float32
    group_ids: torch.Tensor  # (B,) int64, arbitrary labels, shuffled
    mask: torch.Tensor  # (B, T) float32, left-aligned, lengths 1..T

    def permuted(self, order: torch.Tensor) -> "Case":
        return Case(self.rewards[order], self.group_ids[order], self.mask[order])


@st.composite
def batches(draw, min_rewards=1, max_rewards=3, max_groups=5, max_group_size=5, max_tokens=6, exact=False):
    sizes = draw(st.lists(st.integers(1, max_group_size), min_size=1, max_size=max_groups))
    num_rewards = draw(st.integers(min_rewards, max_rewards))
    num_tokens = draw(st.integers(1, max_tokens))
    size = sum(sizes)
    values = TIED_VALUES if exact else draw(st.sampled_from([TIED_VALUES, ANY_VALUES]))
    rewards = draw(st.lists(st.lists(values, min_size=num_rewards, max_size=num_rewards), min_size=size, max_size=size))
    lengths = draw(st.lists(st.integers(1, num_tokens), min_size=size, max_size=size))
    labels = draw(st.lists(st.integers(-(10**9), 10**9), min_size=len(sizes), max_size=len(sizes), unique=True))
    order = draw(st.permutations(range(size)))
    ids = [label for label, count in zip(labels, sizes) for _ in range(count)]
    mask = [[1.0] * length + [0.0] * (num_tokens - length) for length in lengths]
    return Case(
        rewards=torch.tensor(rewards, dtype=torch.float32)[list(order)],
        group_ids=torch.tensor(ids, dtype=torch.int64)[list(order)],
        mask=torch.tensor(mask, dtype=torch.float32)[list(order)],
    )


@st.composite
def replicated_group(draw, min_rewards=2, max_copies=3):
    """One random group repeated under 1..max_copies labels and shuffled: every group has the same κ."""
    group = draw(batches(min_rewards=min_rewards, max_groups=1))
    copies = draw(st.integers(1, max_copies))
    size = group.rewards.shape[0]
    labels = torch.tensor(draw(st.lists(st.integers(-(10**9), 10**9), min_size=copies, max_size=copies, unique=True)))
    order = list(draw(st.permutations(range(size * copies))))
    return Case(
        rewards=group.rewards.repeat(copies, 1)[order],
        group_ids=labels.repeat_interleave(size)[order],
        mask=group.mask.repeat(copies, 1)[order],
    )
