"""`Recipe`: an algorithm as data — which advantage method with which options, and which loss.

A recipe is what `gd2po/method.py` and `baselines/` declare and what the trainer applies; adding
an algorithm or an ablation means adding a recipe, not code. Torch-pure, like the rest of the core.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from gd2po.core.dapo import DynamicSampling, Overlong
from gd2po.core.facade import AdvantageOptions, AdvantageResult, advantages_from_batch, dapo_keep, resolve_options
from gd2po.core.inputs import prepare_batch
from gd2po.core.loss import LOSS_AGGREGATIONS, check_clip, loss_mask, policy_loss


@dataclass(frozen=True)
class Recipe:
    """One algorithm. Advantage fields left at None take the method's default (see `resolve_options`)."""

    name: str  # registry name, recorded in run metadata
    method: str  # advantage estimator: grpo | gdpo | dapo | gd2po_hard | gd2po_snr

    # --- advantage ---
    tau: float | None = None  # SNR threshold; required for gd2po_snr (the 0.2 vs 0.8 trap, §4.5)
    snr_eps: float | None = None  # ε of ρ = ΣS / (Σ|S| + ε); code default 1e-8, floored at 1e-12
    reward_weights: tuple[float, ...] | None = None  # w_k; None = all 1 (the official code)
    whitening: str | None = None  # "token" (verl) | "sequence" (TRL) | "none"
    scale_by_std: bool = True  # divide by the group std (verl norm_adv_by_std_in_grpo)
    filter_rule: str | None = None  # "code" (only mixed-sign rollouts can drop) | "paper" (δ = 1(SNR > τ))
    apply_filter: bool | None = None  # mask dropped rollouts (False: reweight-only ablation)
    reweight: bool | None = None  # scale by the group keep ratio κ_g (False: filter-only ablation)
    nan_policy: str = "raise"  # NaN reward: "raise" | "missing" (excluded from its reward's statistics)

    # --- loss ---
    epsilon_low: float = 0.2  # clip: r ≥ 1 − ε_low
    epsilon_high: float = 0.2  # clip: r ≤ 1 + ε_high (clip-higher when > ε_low)
    dual_clip: float | None = None  # c > 1: for A < 0 the loss is capped at −A·c; None = off
    loss_aggregation: str = "token-mean"  # token-mean | seq-mean-token-mean | seq-mean-token-sum
    dynamic_sampling: DynamicSampling | None = None  # DAPO group filter + refill; required iff method is dapo
    overlong: Overlong | None = None  # soft overlong punishment, one more reward column
    exclude_filtered_from_denominator: bool = False  # official: filtered tokens still count (§4.3)

    def __post_init__(self) -> None:
        coerce = object.__setattr__  # frozen: normalise config-file shapes once, here
        if isinstance(self.dynamic_sampling, Mapping):
            coerce(self, "dynamic_sampling", spec_from_mapping(DynamicSampling, self.dynamic_sampling, "dynamic_sampling"))
        if isinstance(self.overlong, Mapping):
            coerce(self, "overlong", spec_from_mapping(Overlong, self.overlong, "overlong"))
        if self.reward_weights is not None:
            coerce(self, "reward_weights", tuple(float(w) for w in self.reward_weights))
        if (self.method == "dapo") != (self.dynamic_sampling is not None):
            raise ValueError(
                f"dynamic_sampling: recipe {self.name!r} has method {self.method!r}; "
                "method 'dapo' needs a dynamic_sampling spec and other methods must not set one"
            )
        if self.loss_aggregation not in LOSS_AGGREGATIONS:
            raise ValueError(f"loss_aggregation: expected one of {LOSS_AGGREGATIONS}, got {self.loss_aggregation!r}")
        check_clip(self.epsilon_low, self.epsilon_high, self.dual_clip)
        self.advantage_options()

    def advantage_options(self) -> AdvantageOptions:
        """The resolved options this recipe passes to `compute_advantages` (validated)."""
        return resolve_options(
            self.method,
            tau=self.tau,
            snr_eps=self.snr_eps,
            reward_weights=self.reward_weights,
            whitening=self.whitening,
            scale_by_std=self.scale_by_std,
            filter_rule=self.filter_rule,
            apply_filter=self.apply_filter,
            reweight=self.reweight,
            nan_policy=self.nan_policy,
            dynamic_sampling_metric=None if self.dynamic_sampling is None else self.dynamic_sampling.metric,
            overlong=self.overlong,
        )

    def compute_advantages(
        self,
        rewards: Tensor | Sequence,
        group_ids: Tensor | Sequence,
        response_mask: Tensor | Sequence,
        reward_names: Sequence[str] | None = None,
    ) -> AdvantageResult:
        """`gd2po.core.compute_advantages` with this recipe's method and options.

        rewards: (B, K), group_ids: (B,), response_mask: (B, T); reward_names only for DAPO's
        per-reward filter metric.
        """
        options = self.advantage_options()
        batch = prepare_batch(rewards, group_ids, response_mask, options.nan_policy)
        return advantages_from_batch(options, batch, reward_names)

    def dapo_keep(
        self,
        rewards: Tensor | Sequence,
        group_ids: Tensor | Sequence,
        response_mask: Tensor | Sequence,
        reward_names: Sequence[str] | None = None,
    ) -> Tensor:
        """DAPO's group filter alone: keep_j iff the metric of j's group is not constant.  → (B,) bool.

        The same decision `compute_advantages` makes on the same inputs (overlong term included),
        for the trainer's refill loop. Arguments as `compute_advantages`.
        """
        options = self.advantage_options()
        batch = prepare_batch(rewards, group_ids, response_mask, options.nan_policy)
        return dapo_keep(options, batch, reward_names)

    def policy_loss(
        self,
        log_probs: Tensor,
        old_log_probs: Tensor,
        result: AdvantageResult,
        response_mask: Tensor,
        denominator: float | Tensor | None = None,
    ) -> Tensor:
        """Scalar clipped loss with this recipe's clip range, dual-clip and aggregation.

        log_probs, old_log_probs, response_mask: (B, T); ``result`` from `compute_advantages` on the
        same rollouts. ``denominator``: global token (or sequence) count for gradient accumulation.
        """
        mask = loss_mask(response_mask, result.keep, self.exclude_filtered_from_denominator)
        return policy_loss(
            log_probs,
            old_log_probs,
            result.advantages,
            mask,
            epsilon_low=self.epsilon_low,
            epsilon_high=self.epsilon_high,
            dual_clip=self.dual_clip,
            loss_aggregation=self.loss_aggregation,
            denominator=denominator,
        )

    def with_overrides(self, **fields: Any) -> Recipe:
        """A new recipe with ``fields`` replaced (e.g. ``tau=0.5``); unknown field → ValueError."""
        allowed = [field.name for field in dataclasses.fields(self)]
        unknown = [name for name in fields if name not in allowed]
        if unknown:
            raise ValueError(f"recipe field {unknown[0]!r} does not exist; allowed fields: {', '.join(allowed)}")
        return dataclasses.replace(self, **fields)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (nested specs as dicts, tuples as lists) for run metadata."""
        data = dataclasses.asdict(self)
        if data["reward_weights"] is not None:
            data["reward_weights"] = list(data["reward_weights"])
        return data


def spec_from_mapping(spec_type: type, values: Mapping[str, Any], field_name: str) -> Any:
    """Build a nested spec (DynamicSampling, Overlong) from a config mapping, naming bad keys."""
    allowed = [field.name for field in dataclasses.fields(spec_type)]
    unknown = [key for key in values if key not in allowed]
    if unknown:
        raise ValueError(f"{field_name}.{unknown[0]}: unknown key; allowed keys: {', '.join(allowed)}")
    try:
        return spec_type(**values)
    except TypeError as error:
        raise ValueError(f"{field_name}: expected keys {', '.join(allowed)}; {error}") from None
