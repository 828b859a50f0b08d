"""DAPO (algorithms.md §3), from verl `recipe/dapo/run_dapo_qwen2.5_32b.sh`.

- advantage: GRPO z-score of the summed reward (std + 1e-6), no whitening;
- clip-higher: ε_low = 0.2, ε_high = 0.28; dual-clip c = 10 (`clip_ratio_c=10.0` in current verl
  DAPO scripts; older ones fall back to verl's default 3);
- token-level loss: token-mean, i.e. Σ over all tokens / Σ_i |o_i|;
- dynamic sampling: keep groups whose metric is not constant, refill for at most 10 generation
  rounds (`max_num_gen_batches=10`). The metric here is the summed reward; with several rewards,
  naming the primary one (e.g. `DynamicSampling(metric="correctness")`) is usually better (§3 caveat);
- soft overlong punishment: verl form, max_response_length 20480, buffer 4096, factor 1.0. Lower
  `max_length` to the task's generation cap with `DAPO.with_overrides(overlong=Overlong(...))`;
- no KL, entropy coefficient 0.
"""

from gd2po.core.dapo import DynamicSampling, Overlong
from gd2po.core.recipe import Recipe

DAPO = Recipe(
    name="dapo",
    method="dapo",
    epsilon_low=0.2,
    epsilon_high=0.28,
    dual_clip=10.0,
    loss_aggregation="token-mean",
    dynamic_sampling=DynamicSampling(metric="sum", max_rounds=10),
    overlong=Overlong(max_length=20480, buffer=4096, factor=1.0),
)
