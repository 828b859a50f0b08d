"""GDPO (algorithms.md §2.2): per-reward group z-scores, summed, then token-level batch whitening.

The verl form used by the GD²PO repo (`adv_estimator=gdpo`, `use_masked_whiten_in_gdpo=True`):
group std + 1e-6, unweighted sum, `masked_whiten` over all response tokens. Loss as the GD²PO
scripts: clip 0.2 / 0.2, verl's default dual-clip c = 3, token-mean. TRL's sequence-level variant
(§2.3) is `GDPO.with_overrides(whitening="sequence")`.
"""

from gd2po.core.recipe import Recipe

GDPO = Recipe(
    name="gdpo",
    method="gdpo",
    whitening="token",
    epsilon_low=0.2,
    epsilon_high=0.2,
    dual_clip=3.0,
    loss_aggregation="token-mean",
)
