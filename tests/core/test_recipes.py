"""Recipes are data: official hyperparameters, the registry, overrides, and the core's purity."""

import subprocess
import sys

import pytest
import torch

from gd2po.core import DynamicSampling, Overlong, Recipe, compute_advantages
from gd2po.recipes import RECIPE_NAMES, get_recipe

REWARDS = torch.tensor([[3.0, 0.2], [-3.0, 0.8], [1.0, 0.5], [-1.0, 0.5], [1.0, 1.0], [0.0, 0.0]])
IDS = ["q", "q", "q", "q", "r", "r"]
MASK = torch.ones(6, 5)


def test_registry_names():
    assert RECIPE_NAMES == (
        "grpo",
        "gdpo",
        "dapo",
        "gd2po_hard",
        "gd2po_snr",
        "gd2po_filter_only",
        "gd2po_reweight_only",
    )
    assert all(get_recipe(name).name == name for name in RECIPE_NAMES)


def test_unknown_recipe_lists_the_allowed_names():
    with pytest.raises(ValueError, match=r"recipe 'gspo' is unknown; allowed: grpo, gdpo, dapo, gd2po_hard"):
        get_recipe("gspo")


@pytest.mark.parametrize(
    "name, method, low, high, dual_clip",
    [
        ("grpo", "grpo", 0.2, 0.2, 3.0),
        ("gdpo", "gdpo", 0.2, 0.2, 3.0),
        ("dapo", "dapo", 0.2, 0.28, 10.0),
        ("gd2po_hard", "gd2po_hard", 0.2, 0.2, 3.0),
        ("gd2po_snr", "gd2po_snr", 0.2, 0.2, 3.0),
        ("gd2po_filter_only", "gd2po_snr", 0.2, 0.2, 3.0),
        ("gd2po_reweight_only", "gd2po_snr", 0.2, 0.2, 3.0),
    ],
)
def test_official_loss_settings(name, method, low, high, dual_clip):
    recipe = get_recipe(name)
    assert (recipe.method, recipe.epsilon_low, recipe.epsilon_high, recipe.dual_clip) == (method, low, high, dual_clip)
    assert recipe.loss_aggregation == "token-mean"
    assert recipe.exclude_filtered_from_denominator is False


def test_snr_recipes_pin_tau_explicitly():
    for name in ("gd2po_snr", "gd2po_filter_only", "gd2po_reweight_only"):
        assert get_recipe(name).tau == 0.8
        assert get_recipe(name).snr_eps == 1e-8
    assert (get_recipe("gd2po_filter_only").reweight, get_recipe("gd2po_filter_only").apply_filter) == (False, None)
    assert (get_recipe("gd2po_reweight_only").reweight, get_recipe("gd2po_reweight_only").apply_filter) == (None, False)


def test_dapo_recipe_has_dynamic_sampling_and_overlong():
    dapo = get_recipe("dapo")
    assert dapo.dynamic_sampling == DynamicSampling(metric="sum", max_rounds=10)
    assert dapo.overlong == Overlong(max_length=20480, buffer=4096, factor=1.0)


@pytest.mark.parametrize("name", ["grpo", "gdpo", "gd2po_hard", "gd2po_snr", "gd2po_filter_only", "gd2po_reweight_only"])
def test_recipe_advantages_are_the_facade_with_the_recipe_options(name):
    recipe = get_recipe(name)
    options = {
        key: value
        for key, value in {
            "tau": recipe.tau,
            "snr_eps": recipe.snr_eps,
            "reweight": recipe.reweight,
            "apply_filter": recipe.apply_filter,
        }.items()
        if value is not None
    }
    expected = compute_advantages(recipe.method, REWARDS, IDS, MASK, **options)
    result = recipe.compute_advantages(REWARDS, IDS, MASK)
    torch.testing.assert_close(result.advantages, expected.advantages, rtol=0, atol=0)
    assert result.diagnostics == expected.diagnostics


def test_ablations_differ_from_the_full_method():
    full = get_recipe("gd2po_snr").compute_advantages(REWARDS, IDS, MASK)
    filter_only = get_recipe("gd2po_filter_only").compute_advantages(REWARDS, IDS, MASK)
    reweight_only = get_recipe("gd2po_reweight_only").compute_advantages(REWARDS, IDS, MASK)
    assert torch.equal(filter_only.keep, full.keep) and not bool(full.keep.all())
    assert bool(reweight_only.keep.all())
    assert not torch.allclose(filter_only.advantages, full.advantages)
    assert not torch.allclose(reweight_only.advantages, full.advantages)


def test_with_overrides_returns_a_new_recipe():
    snr = get_recipe("gd2po_snr")
    looser = snr.with_overrides(tau=0.2)
    assert looser.tau == 0.2 and snr.tau == 0.8
    assert looser.compute_advantages(REWARDS, IDS, MASK).diagnostics["tau"] == 0.2


def test_with_overrides_rejects_unknown_fields_and_lists_allowed():
    with pytest.raises(ValueError, match=r"recipe field 'threshold' does not exist; allowed fields: name, method, tau"):
        get_recipe("gd2po_snr").with_overrides(threshold=0.5)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"tau": None}, r"tau: required for gd2po_snr"),
        ({"tau": 2.0}, r"tau: expected a value in \[0, 1\]"),
        ({"loss_aggregation": "sum"}, r"loss_aggregation: expected one of"),
        ({"dual_clip": 0.5}, r"dual_clip: expected None or a value > 1"),
        ({"method": "gdpo"}, r"tau: does not apply to method 'gdpo'"),
        ({"whitening": "global"}, r"whitening: expected one of"),
        ({"dynamic_sampling": {"metric": "sum"}}, r"dynamic_sampling: recipe 'gd2po_snr' has method 'gd2po_snr'"),
        ({"overlong": {"max_len": 10}}, r"overlong.max_len: unknown key; allowed keys: max_length, buffer, factor"),
    ],
)
def test_invalid_recipes_fail_when_built(fields, message):
    with pytest.raises(ValueError, match=message):
        get_recipe("gd2po_snr").with_overrides(**fields)


def test_dapo_method_needs_a_dynamic_sampling_spec():
    with pytest.raises(ValueError, match=r"method 'dapo' needs a dynamic_sampling spec"):
        Recipe(name="dapo_plain", method="dapo")


def test_config_mappings_become_specs():
    dapo = get_recipe("dapo").with_overrides(
        dynamic_sampling={"metric": "correctness", "max_rounds": 3},
        overlong={"max_length": 512, "buffer": 128},
        reward_weights=[1, 0.5],
    )
    assert dapo.dynamic_sampling == DynamicSampling(metric="correctness", max_rounds=3)
    assert dapo.overlong == Overlong(max_length=512, buffer=128, factor=1.0)
    assert dapo.reward_weights == (1.0, 0.5)
    assert dapo.as_dict()["overlong"] == {"max_length": 512, "buffer": 128, "factor": 1.0}
    assert dapo.as_dict()["reward_weights"] == [1.0, 0.5]


def test_recipe_policy_loss_uses_its_clip_and_denominator_rule():
    recipe = get_recipe("gd2po_hard")
    result = recipe.compute_advantages(REWARDS, IDS, MASK)
    assert not bool(result.keep.all())
    log_probs = torch.full((6, 5), -1.0)
    old = torch.full((6, 5), -1.2)  # r = e^0.2 ≈ 1.22: clipped at 1.2 where A > 0
    official = recipe.policy_loss(log_probs, old, result, MASK)
    excluded = recipe.with_overrides(exclude_filtered_from_denominator=True).policy_loss(log_probs, old, result, MASK)
    kept_tokens = float(MASK[result.keep].sum())
    torch.testing.assert_close(excluded, official * MASK.sum() / kept_tokens)


def test_core_imports_no_trainer_stack():
    code = (
        "import sys, gd2po.core, gd2po.recipes;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'trl', 'transformers', 'vllm', 'accelerate'}"
        " or m.startswith('gd2po.engine'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
