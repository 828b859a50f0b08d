"""Speed benchmarks, reported as ratios against a reference measured in the same run.

Run as `python -m gd2po bench core|engine`.

`python -m gd2po bench engine` times a training step of the GD²PO adapter against TRL's own
`normalize_then_sum` (see :mod:`gd2po.engine.bench`).

`python -m gd2po bench core`: the cost of GD²PO-SNR advantages
for 512 prompts × 4 rollouts × 3 rewards × 256 tokens (shuffled group ids, random lengths), as a
multiple of one verl `masked_whiten` pass over the same (B, T) tensor, next to an official-style
implementation that loops over rollouts and groups in Python (the reference shape of the GD²PO
code; it lives here only, as a yardstick). Times are medians over repeats after a warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import torch

from gd2po.core import compute_advantages
from gd2po.core.advantages import masked_whiten
from gd2po.engine import bench as engine_bench


def add_arguments(parser: argparse.ArgumentParser) -> None:
    suites = parser.add_subparsers(dest="suite", required=True, metavar="SUITE")
    core = suites.add_parser("core", help="the advantage core against one masked whitening pass")
    core.add_argument("--prompts", type=int, default=512, help="prompts per batch (default 512)")
    core.add_argument("--rollouts", type=int, default=4, help="rollouts per prompt (default 4)")
    core.add_argument("--rewards", type=int, default=3, help="reward dimensions (default 3)")
    core.add_argument("--tokens", type=int, default=256, help="padded response length T (default 256)")
    core.add_argument("--repeats", type=int, default=30, help="timed repeats per measurement (default 30)")
    core.add_argument("--loop-repeats", type=int, default=5, help="timed repeats of the slow loop reference (default 5)")
    core.add_argument("--seed", type=int, default=0, help="random seed of the synthetic batch")
    core.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (default 1: stable ratios on a shared machine)"
    )
    engine = suites.add_parser("engine", help="a training step of the adapter against TRL's normalize_then_sum")
    engine_bench.add_arguments(engine)


def run(args: argparse.Namespace) -> int:
    if args.suite == "engine":
        return engine_bench.run(args)
    torch.set_num_threads(args.threads)
    for line in bench_core_report(args):
        print(line)
    return 0


def synthetic_batch(prompts: int, rollouts: int, rewards: int, tokens: int, seed: int):
    """Rewards (B, K) like the tool task (correctness −3..3, format 0/1, length in [0, 1]), shuffled
    group ids (B,), and a left-aligned response mask (B, T) with random lengths 1..T."""
    generator = torch.Generator().manual_seed(seed)
    size = prompts * rollouts
    columns = [
        torch.randint(-3, 4, (size,), generator=generator).float(),
        torch.randint(0, 2, (size,), generator=generator).float(),
        torch.rand(size, generator=generator),
    ]
    reward_tensor = torch.stack([columns[k % 3] for k in range(rewards)], dim=1)
    order = torch.randperm(size, generator=generator)
    group_ids = (torch.arange(size) // rollouts)[order] * 7919 + 13  # arbitrary, non-contiguous labels
    lengths = torch.randint(1, tokens + 1, (size,), generator=generator)
    mask = (torch.arange(tokens).unsqueeze(0) < lengths.unsqueeze(1)).float()
    return reward_tensor, group_ids, mask


def median_seconds(function: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_core_report(args: argparse.Namespace) -> list[str]:
    rewards, group_ids, mask = synthetic_batch(args.prompts, args.rollouts, args.rewards, args.tokens, args.seed)
    uids = np.array([f"uid{int(g)}" for g in group_ids])
    values = torch.randn(mask.shape, generator=torch.Generator().manual_seed(args.seed + 1)) * mask
    tau = 0.8

    def core() -> torch.Tensor:
        return compute_advantages("gd2po_snr", rewards, group_ids, mask, tau=tau, snr_eps=1e-8).advantages

    def whitening_pass() -> torch.Tensor:
        return masked_whiten(values, mask) * mask

    def official_loop() -> torch.Tensor:
        return official_style_snr_advantages(rewards, uids, mask, tau=tau, eps=1e-8)

    agreement = float((core() - official_loop()).abs().max())
    whiten_s = median_seconds(whitening_pass, args.repeats)
    core_s = median_seconds(core, args.repeats)
    loop_s = median_seconds(official_loop, args.loop_repeats, warmup=1)
    size, tokens = mask.shape
    return [
        f"bench core: GD²PO-SNR advantages, B={size} ({args.prompts} prompts × {args.rollouts}), "
        f"K={args.rewards}, T={tokens}, shuffled groups, torch {torch.__version__}, {torch.get_num_threads()} threads",
        f"  reference  masked_whiten pass over (B, T)        {whiten_s * 1e3:9.3f} ms   1.0×",
        f"  gd2po.core compute_advantages('gd2po_snr')       {core_s * 1e3:9.3f} ms   {core_s / whiten_s:.1f}×  (goal ≤ 6×)",
        f"  official-style per-group Python loop (reference) {loop_s * 1e3:9.3f} ms   {loop_s / whiten_s:.1f}×",
        f"  max |core − official-style| = {agreement:.2e}",
    ]


# ---------------------------------------------------------------------------------------------
# Official-style reference, for timing only: the loop structure of the GD²PO code (f1ad765,
# `compute_grpo_outcome_advantage` per reward, `_compute_gdpo_group_keep_ratio`, `masked_whiten`)
# with rewards placed on each response's last token. Not used by the suite.
# ---------------------------------------------------------------------------------------------


def official_style_snr_advantages(rewards: torch.Tensor, uids: np.ndarray, mask: torch.Tensor, tau: float, eps: float):
    lengths = mask.sum(dim=1).long()
    token_advantages, rollout_sums = [], []
    for k in range(rewards.shape[1]):
        token_rewards = torch.zeros_like(mask)
        token_rewards[torch.arange(mask.shape[0]), lengths - 1] = rewards[:, k]
        advantage = _official_grpo_outcome_advantage(token_rewards, mask, uids)
        token_advantages.append(advantage)
        rollout_sums.append((advantage * mask).sum(dim=-1))
    token_advantages, rollout_sums = torch.stack(token_advantages), torch.stack(rollout_sums)
    conflict = (rollout_sums > 1e-8).any(dim=0) & (rollout_sums < -1e-8).any(dim=0)
    ratio = rollout_sums.sum(dim=0) / (rollout_sums.abs().sum(dim=0) + max(eps, 1e-12))
    keep = ~(conflict & (ratio.abs() < max(min(tau, 1.0), 0.0)))
    combined = token_advantages.sum(dim=0) * _official_group_keep_ratio(keep, uids).unsqueeze(-1)
    keep_float = keep.float()
    filtered = combined * keep_float.unsqueeze(-1) * mask
    whiten_mask = keep_float.unsqueeze(-1) * mask
    if whiten_mask.sum() > 0:
        return masked_whiten(filtered, whiten_mask) * whiten_mask
    return torch.zeros_like(filtered)


def _official_grpo_outcome_advantage(token_level_rewards, response_mask, index, epsilon=1e-6):
    scores = token_level_rewards.sum(dim=-1)
    id2score, id2mean, id2std = defaultdict(list), {}, {}
    with torch.no_grad():
        for i in range(scores.shape[0]):
            id2score[index[i]].append(scores[i])
        for idx in id2score:
            if len(id2score[idx]) == 1:
                id2mean[idx], id2std[idx] = torch.tensor(0.0), torch.tensor(1.0)
            else:
                id2mean[idx] = torch.mean(torch.tensor(id2score[idx]))
                id2std[idx] = torch.std(torch.tensor([id2score[idx]]))
        for i in range(scores.shape[0]):
            scores[i] = (scores[i] - id2mean[index[i]]) / (id2std[index[i]] + epsilon)
        return scores.unsqueeze(-1) * response_mask


def _official_group_keep_ratio(keep: torch.Tensor, index: np.ndarray) -> torch.Tensor:
    keep_float = keep.to(torch.float32)
    ratio = torch.zeros_like(keep_float)
    for group_id in np.unique(index):
        group_mask = torch.as_tensor(index == group_id)
        ratio[group_mask] = keep_float[group_mask].sum() / float(int(group_mask.sum()))
    return ratio
