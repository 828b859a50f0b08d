"""GRPO, multi-reward baseline (algorithms.md §1): sum the rewards, z-score within the group.

Built from the GD²PO scripts' flags with `algorithm.adv_estimator=grpo` (the repo has no GRPO
script, §6 row 9): verl group std + 1e-6, `norm_adv_by_std_in_grpo=True`, no batch whitening,
clip 0.2 / 0.2, token-mean over `response_mask`, no KL, no entropy bonus. Dual-clip c = 3 is
verl's `clip_ratio_c` default, applied to every estimator in the same actor, so the baselines
share it with GD²PO.
"""

from gd2po.core.recipe import Recipe

GRPO = Recipe(
    name="grpo",
    method="grpo",
    epsilon_low=0.2,
    epsilon_high=0.2,
    dual_clip=3.0,
    loss_aggregation="token-mean",
)
