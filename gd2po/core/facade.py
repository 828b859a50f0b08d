"""`compute_advantages`: one entry point for GRPO, GDPO, DAPO, GD²PO-Hard and GD²PO-SNR.

Every method runs the same five steps on per-rollout values, then broadcasts once to tokens:

1. per-reward group z-scores c_jk = w_k · A_jk (diagnostics for all methods; the advantage of GDPO/GD²PO)
2. the rollout value: GRPO/DAPO z-score the summed reward, GDPO/GD²PO sum the c_jk
3. a filter: DAPO drops constant groups, GD²PO drops conflicting rollouts and scales by κ_g
4. batch whitening over kept rollouts: token-level (verl), sequence-level (TRL) or none
5. Â_jt = x̂_j · m_jt, exactly 0 for filtered rollouts

Defaults reproduce the official GD²PO code (verl, `norm_adv_by_std_in_grpo=True`,
`use_masked_whiten_in_gdpo=True`) and its golden cases to 1e-5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch
from torch import Tensor

from gd2po.core.advantages import (
    TRL_EPS,
    VERL_GROUP_EPS,
    broadcast,
    gdpo_reward_advantages,
    grpo_sequence_advantages,
    sequence_whiten,
    token_whiten,
    weighted_sum,
)
from gd2po.core.conflict import (
    group_keep_ratio,
    hard_keep,
    length_scaled_sums,
    mixed_sign,
    paper_keep,
    paper_snr,
    snr_keep,
    snr_ratio,
)
from gd2po.core.dapo import Overlong, nonconstant_groups, overlong_penalty_verl
from gd2po.core.diagnostics import advantage_diagnostics
from gd2po.core.inputs import NAN_POLICIES, Batch, prepare_batch

METHODS = ("grpo", "gdpo", "dapo", "gd2po_hard", "gd2po_snr")
GD2PO_METHODS = ("gd2po_hard", "gd2po_snr")
WHITENING_MODES = ("token", "sequence", "none")
FILTER_RULES = ("code", "paper")
DEFAULT_WHITENING = {"grpo": "none", "dapo": "none", "gdpo": "token", "gd2po_hard": "token", "gd2po_snr": "token"}
DEFAULT_SNR_EPS = 1e-8  # tool-calling code and scripts; the safe-alignment YAML uses 1e-6

# Options that only some methods use: anything else set there is a config mistake, not a no-op.
METHOD_OPTIONS = {
    "tau": ("gd2po_snr",),
    "snr_eps": ("gd2po_snr",),
    "filter_rule": GD2PO_METHODS,
    "apply_filter": GD2PO_METHODS,
    "reweight": GD2PO_METHODS,
    "dynamic_sampling_metric": ("dapo",),
}


@dataclass(frozen=True)
class AdvantageResult:
    """advantages: (B, T) token advantages in the rewards' float dtype, 0 outside the response mask.
    keep: (B,) bool, False for rollouts dropped by a filter (their advantages are exactly 0) or with
        every reward missing.
    sequence_advantages: (B,) the per-rollout value before broadcasting to tokens.
    diagnostics: plain floats, see `gd2po.core.diagnostics.advantage_diagnostics`.
    """

    advantages: Tensor
    keep: Tensor
    sequence_advantages: Tensor
    diagnostics: dict[str, float]


@dataclass(frozen=True)
class AdvantageOptions:
    """Resolved options of one method (defaults filled in, every value checked)."""

    method: str
    tau: float | None = None
    snr_eps: float = DEFAULT_SNR_EPS
    reward_weights: tuple[float, ...] | None = None
    whitening: str = "token"
    scale_by_std: bool = True
    filter_rule: str = "code"
    apply_filter: bool = True
    reweight: bool = True
    nan_policy: str = "raise"
    dynamic_sampling_metric: str = "sum"
    overlong: Overlong | None = None


OPTION_NAMES = tuple(field.name for field in fields(AdvantageOptions) if field.name != "method")


def resolve_options(
    method: str,
    *,
    tau: float | None = None,
    snr_eps: float | None = None,
    reward_weights: Sequence[float] | None = None,
    whitening: str | None = None,
    scale_by_std: bool | None = None,
    filter_rule: str | None = None,
    apply_filter: bool | None = None,
    reweight: bool | None = None,
    nan_policy: str | None = None,
    dynamic_sampling_metric: str | None = None,
    overlong: Overlong | None = None,
) -> AdvantageOptions:
    """Check the options of ``method`` and fill in its defaults (None means "method default").

    Raises ValueError naming the option: unknown method, an option the method does not use,
    τ missing for gd2po_snr (the YAML-fallback trap, algorithms.md §4.5) or outside [0, 1], a bad
    choice string, a negative ε.
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    given = {
        "tau": tau,
        "snr_eps": snr_eps,
        "filter_rule": filter_rule,
        "apply_filter": apply_filter,
        "reweight": reweight,
        "dynamic_sampling_metric": dynamic_sampling_metric,
    }
    for name, value in given.items():
        if value is not None and method not in METHOD_OPTIONS[name]:
            raise ValueError(
                f"{name}: does not apply to method {method!r} (used by {', '.join(METHOD_OPTIONS[name])}); remove it"
            )
    if method == "gd2po_snr":
        if tau is None:
            raise ValueError(
                "tau: required for gd2po_snr (the official YAML falls back to 0.2, the README to 0.8); "
                "pass it explicitly, e.g. tau=0.8"
            )
        if not 0.0 <= float(tau) <= 1.0:
            raise ValueError(f"tau: expected a value in [0, 1], got {tau}")
    if snr_eps is not None and not float(snr_eps) >= 0.0:
        raise ValueError(f"snr_eps: expected a value >= 0, got {snr_eps}")
    choices = {
        "whitening": (whitening, WHITENING_MODES),
        "filter_rule": (filter_rule, FILTER_RULES),
        "nan_policy": (nan_policy, NAN_POLICIES),
    }
    for name, (value, allowed) in choices.items():
        if value is not None and value not in allowed:
            raise ValueError(f"{name}: expected one of {allowed}, got {value!r}")
    if filter_rule == "paper" and method != "gd2po_snr":
        raise ValueError("filter_rule: 'paper' is the SNR rule δ = 1(SNR > τ); use it with method 'gd2po_snr'")
    if overlong is not None and not isinstance(overlong, Overlong):
        raise ValueError(f"overlong: expected None or gd2po.core.Overlong, got {type(overlong).__name__}")
    return AdvantageOptions(
        method=method,
        tau=None if tau is None else float(tau),
        snr_eps=DEFAULT_SNR_EPS if snr_eps is None else float(snr_eps),
        reward_weights=None if reward_weights is None else tuple(float(w) for w in reward_weights),
        whitening=DEFAULT_WHITENING[method] if whitening is None else whitening,
        scale_by_std=True if scale_by_std is None else bool(scale_by_std),
        filter_rule="code" if filter_rule is None else filter_rule,
        apply_filter=True if apply_filter is None else bool(apply_filter),
        reweight=True if reweight is None else bool(reweight),
        nan_policy="raise" if nan_policy is None else nan_policy,
        dynamic_sampling_metric="sum" if dynamic_sampling_metric is None else dynamic_sampling_metric,
        overlong=overlong,
    )


def compute_advantages(
    method: str,
    rewards: Tensor | Sequence,
    group_ids: Tensor | Sequence,
    response_mask: Tensor | Sequence,
    *,
    reward_names: Sequence[str] | None = None,
    **options,
) -> AdvantageResult:
    """Token-level advantages of ``method`` for one batch.

    rewards: (B, K) one scalar per rollout and reward (tensor or nested list)
    group_ids: (B,) int tensor, or a list of B ids (str or int); rollouts sharing an id answer the
        same prompt; any order, any group size
    response_mask: (B, T) 0/1
    reward_names: K names, needed only when DAPO filters on one reward
    options: see `resolve_options` — tau, snr_eps, reward_weights, whitening ("token" | "sequence"
        | "none"), scale_by_std, filter_rule ("code" | "paper"), apply_filter, reweight,
        nan_policy ("raise" | "missing"), dynamic_sampling_metric, overlong
    """
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise ValueError(f"option {unknown[0]!r} is unknown; allowed options: {', '.join(OPTION_NAMES)}")
    resolved = resolve_options(method, **options)
    batch = prepare_batch(rewards, group_ids, response_mask, resolved.nan_policy)
    return advantages_from_batch(resolved, batch, reward_names)


def advantages_from_batch(
    options: AdvantageOptions, batch: Batch, reward_names: Sequence[str] | None = None
) -> AdvantageResult:
    """The five steps of the module docstring on a validated batch."""
    method = options.method
    num_rewards = batch.rewards.shape[1]
    if reward_names is not None and len(reward_names) != num_rewards:
        raise ValueError(f"reward_names: expected {num_rewards} names (one per reward column), got {len(reward_names)}")
    rewards, valid, weights = reward_columns(options, batch)

    group_eps = TRL_EPS if options.whitening == "sequence" else VERL_GROUP_EPS
    index, num_groups = batch.index, batch.num_groups
    reward_advantages = gdpo_reward_advantages(rewards, valid, index, num_groups, group_eps, options.scale_by_std)
    components = reward_advantages * weights
    sums = length_scaled_sums(components, batch.lengths)
    mixed = mixed_sign(sums)
    scored = valid.any(dim=1)

    if method in ("grpo", "dapo"):
        sequence = grpo_sequence_advantages(rewards, valid, weights, index, num_groups, group_eps, options.scale_by_std)
    else:
        sequence = components.sum(dim=1)

    keep = torch.ones_like(scored)
    kappa = torch.ones_like(sequence)
    if method == "dapo":
        keep = dapo_keep(options, batch, reward_names)
    elif method in GD2PO_METHODS:
        conflict_keep = gd2po_keep(options, components, sums, mixed)
        if options.reweight:
            kappa = group_keep_ratio(conflict_keep, index, num_groups).to(sequence.dtype)
        if options.apply_filter:
            keep = conflict_keep

    kept = keep & scored
    final = whiten(sequence * kappa * kept, batch.lengths, kept, options.whitening)
    filtered = method == "dapo" or method in GD2PO_METHODS
    final_without_filter = whiten(sequence * scored, batch.lengths, scored, options.whitening) if filtered else final
    diagnostics = advantage_diagnostics(
        mixed, kept, components, batch.lengths, final, final_without_filter, tau=options.tau
    )
    return AdvantageResult(
        advantages=broadcast(final, batch.mask),
        keep=kept,
        sequence_advantages=final,
        diagnostics=diagnostics,
    )


def reward_columns(options: AdvantageOptions, batch: Batch) -> tuple[Tensor, Tensor, Tensor]:
    """The rewards the method scores: rewards, valid: (B, K'), weights w: (K',).

    K' = K, or K + 1 with the soft overlong penalty as the last column (always valid, w = 1).
    """
    rewards, valid = batch.rewards, batch.valid
    weights = reward_weight_tensor(options.reward_weights, rewards.shape[1], rewards.dtype, rewards.device)
    if options.overlong is None:
        return rewards, valid, weights
    spec = options.overlong
    penalty = overlong_penalty_verl(batch.lengths, spec.max_length, spec.buffer, spec.factor)
    rewards = torch.cat([rewards, penalty.to(rewards.dtype).unsqueeze(1)], dim=1)
    valid = torch.cat([valid, torch.ones_like(valid[:, :1])], dim=1)
    return rewards, valid, torch.cat([weights, weights.new_ones(1)])


def dapo_keep(options: AdvantageOptions, batch: Batch, reward_names: Sequence[str] | None = None) -> Tensor:
    """DAPO's group filter (§3): keep_j iff the metric of j's group is not constant.  → (B,) bool.

    The one place the filter is decided: the advantage step and the trainer's refill loop both call it.
    """
    rewards, valid, weights = reward_columns(options, batch)
    metric, metric_valid = dapo_metric(options.dynamic_sampling_metric, rewards, valid, weights, reward_names)
    return nonconstant_groups(metric, metric_valid, batch.index, batch.num_groups)


def gd2po_keep(options: AdvantageOptions, components: Tensor, sums: Tensor, mixed: Tensor) -> Tensor:
    """Rollouts that survive the conflict test: Hard, SNR (code rule) or SNR (paper rule).  → (B,) bool."""
    if options.method == "gd2po_hard":
        return hard_keep(mixed)
    if options.filter_rule == "paper":
        return paper_keep(paper_snr(components, options.snr_eps), options.tau)
    return snr_keep(mixed, snr_ratio(sums, options.snr_eps), options.tau)


def whiten(values: Tensor, lengths: Tensor, weight: Tensor, mode: str) -> Tensor:
    """Batch step over the rollouts with ``weight``: token-level, sequence-level or none.  (B,) → (B,)."""
    if mode == "token":
        return token_whiten(values, lengths, weight)
    if mode == "sequence":
        return sequence_whiten(values, weight)
    return values * weight


def dapo_metric(
    metric: str, rewards: Tensor, valid: Tensor, weights: Tensor, reward_names: Sequence[str] | None
) -> tuple[Tensor, Tensor]:
    """The per-rollout value DAPO's group filter tests, and where it is valid.  → (B,), (B,) bool.

    "sum": the weighted total Σ_k w_k r_jk (overlong term included), valid if any reward is;
    a name: that reward column.
    """
    if metric == "sum":
        return weighted_sum(rewards * valid, weights), valid.any(dim=1)
    names = list(reward_names) if reward_names is not None else []
    if metric not in names:
        raise ValueError(
            f"dynamic_sampling_metric: {metric!r} is not 'sum' and not one of reward_names {names}; "
            "pass reward_names (one per reward column) or use 'sum'"
        )
    column = names.index(metric)
    return rewards[:, column], valid[:, column]


def reward_weight_tensor(
    weights: tuple[float, ...] | None, num_rewards: int, dtype: torch.dtype, device: torch.device
) -> Tensor:
    """w: (K,), ones when not given (the official code has no weights)."""
    if weights is None:
        return torch.ones(num_rewards, dtype=dtype, device=device)
    if len(weights) != num_rewards:
        raise ValueError(f"reward_weights: expected {num_rewards} weights (one per reward), got {len(weights)}")
    tensor = torch.tensor(weights, dtype=dtype, device=device)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"reward_weights: expected finite values, got {list(weights)}")
    return tensor
