"""The shared algorithm core: pure torch, one small function per equation of docs/algorithms.md.

Entry point: `compute_advantages(method, rewards, group_ids, response_mask, **options)`.
No trainer, model or file format is imported here.
"""

from gd2po.core.dapo import DynamicSampling, Overlong
from gd2po.core.facade import METHODS, AdvantageResult, compute_advantages, resolve_options
from gd2po.core.loss import LOSS_AGGREGATIONS, policy_loss
from gd2po.core.recipe import Recipe

__all__ = [
    "LOSS_AGGREGATIONS",
    "METHODS",
    "AdvantageResult",
    "DynamicSampling",
    "Overlong",
    "Recipe",
    "compute_advantages",
    "policy_loss",
    "resolve_options",
]
