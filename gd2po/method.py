"""GD²PO recipes: GDPO + conflict mask + query reweighting (algorithms.md §4), and two ablations.

Official settings (Qwen-Applications/GD2PO@f1ad765, tool-calling and safe-alignment scripts):
per-reward group std + 1e-6, sign band ±1e-8 on L_j·A_jk, κ_g applied before token-level
`masked_whiten` over kept tokens, PPO clip 0.2 / 0.2 with dual-clip c = 3, token-mean over
`response_mask` (filtered tokens stay in the denominator), no KL, entropy coefficient 0.

SNR's τ is explicit: 0.8 is the README and script default; the YAML fallback 0.2 only applies
when a script forgets to pass it (§4.5). ε_SNR = 1e-8 is the tool-calling value (safe: 1e-6).
The ablations start from SNR at τ = 0.8, the paper's headline setting.
"""

from gd2po.core.recipe import Recipe

GD2PO_HARD = Recipe(
    name="gd2po_hard",
    method="gd2po_hard",  # adv_estimator=gdpo_filter_group_ratio: drop every mixed-sign rollout
    epsilon_low=0.2,
    epsilon_high=0.2,
    dual_clip=3.0,
    loss_aggregation="token-mean",
)

GD2PO_SNR = GD2PO_HARD.with_overrides(
    name="gd2po_snr",
    method="gd2po_snr",  # adv_estimator=gdpo_filter_ratio_conflict_group_ratio: drop iff mixed ∧ |ρ| < τ
    tau=0.8,
    snr_eps=1e-8,
)

GD2PO_FILTER_ONLY = GD2PO_SNR.with_overrides(name="gd2po_filter_only", reweight=False)  # mask, no κ

GD2PO_REWEIGHT_ONLY = GD2PO_SNR.with_overrides(name="gd2po_reweight_only", apply_filter=False)  # κ, no mask
