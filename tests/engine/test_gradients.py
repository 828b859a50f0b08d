"""The adapter's loss and advantages against the core, and what filtered rollouts do to the gradient."""

import pytest
import torch
from engine_helpers import generation_batch, make_trainer

from gd2po.core.loss import policy_loss
from gd2po.recipes import get_recipe


def first(prompts, completions, **_):
    return [float(i % 3) for i in range(len(completions))]


def second(prompts, completions, **_):
    return [float((7 * i) % 5) for i in range(len(completions))]


# With these two rewards both groups hold mixed-sign (conflicting) and clean rollouts.
CONFLICTING = [first, second]


def gradient(trainer, batch) -> torch.Tensor:
    trainer.model.zero_grad()
    trainer._compute_loss(trainer.model, batch).backward()
    return torch.cat([p.grad.flatten() for p in trainer.model.parameters() if p.grad is not None])


def rows(batch: dict, index: torch.Tensor) -> dict:
    return {k: (v[index] if torch.is_tensor(v) and v.dim() > 0 else v) for k, v in batch.items()}


def core_result(trainer, batch, mask=None):
    mask = batch["completion_mask"] if mask is None else mask
    group_ids = torch.arange(len(mask)) // trainer.num_generations
    return trainer.recipe.compute_advantages(trainer._last_rewards, group_ids, mask, list(trainer.reward_func_names))


@pytest.fixture(scope="module")
def hard(tiny_model, tmp_path_factory):
    trainer = make_trainer(tiny_model, tmp_path_factory.mktemp("hard"), get_recipe("gd2po_hard"), CONFLICTING)
    batch = trainer._generate_and_score_completions(generation_batch(trainer))
    return trainer, batch


def test_advantages_are_the_cores_on_the_global_batch(hard):
    trainer, batch = hard
    result = core_result(trainer, batch)
    assert batch["advantages"].shape == batch["completion_mask"].shape  # (B, T)
    torch.testing.assert_close(batch["advantages"], result.advantages.float(), rtol=0, atol=1e-6)
    kept, filtered = result.keep.sum().item(), (~result.keep).sum().item()
    assert kept > 0 and filtered > 0  # the fixture exercises both kinds of rollout
    metrics = trainer._metrics["train"]
    assert metrics["adv/keep_ratio"][-1] == pytest.approx(kept / len(result.keep))
    assert metrics["adv/conflict_rate"][-1] > 0


def test_completion_logs_carry_the_recipes_advantages(hard):
    """TRL logs its own sum-then-normalise advantages; the completion logs show the recipe's instead."""
    trainer, batch = hard
    sequence = core_result(trainer, batch).sequence_advantages.tolist()
    assert list(trainer._logs["advantages"])[-len(sequence):] == pytest.approx(sequence, abs=1e-6)
    assert len(trainer._logs["advantages"]) == len(trainer._logs["completion"])


def test_filtered_rollouts_contribute_nothing_to_the_gradient(hard):
    trainer, batch = hard
    filtered = ~core_result(trainer, batch).keep
    assert torch.all(batch["advantages"][filtered] == 0)
    reference = dict(batch, advantages=batch["advantages"].clone(), completion_ids=batch["completion_ids"].clone())
    reference["advantages"][filtered] = 0.0
    # other tokens in the filtered rows: only their count (the official denominator) may matter
    reference["completion_ids"][filtered] = torch.randint_like(reference["completion_ids"][filtered], 4, 200)
    torch.testing.assert_close(gradient(trainer, batch), gradient(trainer, reference), rtol=0, atol=1e-7)
    leaking = dict(batch, advantages=batch["advantages"].clone())
    leaking["advantages"][filtered] = batch["completion_mask"][filtered].float()
    assert not torch.allclose(gradient(trainer, batch), gradient(trainer, leaking), atol=1e-7)


def test_official_denominator_counts_filtered_tokens(hard):
    trainer, batch = hard
    keep = core_result(trainer, batch).keep
    assert batch["num_items_in_batch"] == batch["completion_mask"].sum()
    without = rows(batch, keep.nonzero().flatten())
    without["num_items_in_batch"] = without["completion_mask"].sum()
    # same numerator, larger denominator: the gradient shrinks by kept tokens / all tokens
    ratio = without["num_items_in_batch"] / batch["num_items_in_batch"]
    torch.testing.assert_close(gradient(trainer, batch), gradient(trainer, without) * ratio, rtol=1e-4, atol=1e-8)


def test_excluded_from_denominator_equals_the_batch_without_them(tiny_model, tmp_path):
    recipe = get_recipe("gd2po_hard").with_overrides(exclude_filtered_from_denominator=True)
    trainer = make_trainer(tiny_model, tmp_path, recipe, CONFLICTING)
    batch = trainer._generate_and_score_completions(generation_batch(trainer))
    # which rollouts the filter drops depends on the advantage signs only, not on the lengths
    keep = core_result(trainer, batch, mask=torch.ones(len(batch["completion_mask"]), 1)).keep
    assert 0 < keep.sum() < len(keep)
    assert torch.all(batch["completion_mask"][~keep] == 0)
    assert batch["num_items_in_batch"] == batch["completion_mask"].sum()
    without = rows(batch, keep.nonzero().flatten())
    without["num_items_in_batch"] = without["completion_mask"].sum()
    torch.testing.assert_close(gradient(trainer, batch), gradient(trainer, without), rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("aggregation", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum"])
def test_loss_is_the_cores_clipped_surrogate(hard, aggregation):
    trainer, batch = hard
    trainer.recipe = get_recipe("gd2po_hard").with_overrides(epsilon_high=0.28, loss_aggregation=aggregation)
    try:
        ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
        attention = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
        with torch.no_grad():
            log_probs, _, _ = trainer._get_per_token_logps_and_entropies(
                trainer.model, ids, attention, batch["completion_ids"].size(1)
            )
        # an off-policy batch, so that clip-low, clip-high and dual-clip all bite
        generator = torch.Generator().manual_seed(0)
        old = log_probs + torch.randn(log_probs.shape, generator=generator) * 1.5
        off_policy = dict(batch, old_per_token_logps=old)
        expected = policy_loss(
            log_probs, old, batch["advantages"], batch["completion_mask"], epsilon_low=0.2, epsilon_high=0.28,
            dual_clip=3.0, loss_aggregation=aggregation,
            denominator=batch["num_items_in_batch"] if aggregation == "token-mean" else None,
        )
        with torch.no_grad():
            actual = trainer._compute_loss(trainer.model, off_policy)
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-7)
        assert trainer._metrics["train"]["clip_ratio/dual_mean"][-1] > 0
    finally:
        trainer.recipe = get_recipe("gd2po_hard")


def test_trl_knobs_reproduce_the_core_surrogate(hard):
    """Golden test of the mapping ε_low→epsilon, ε_high→epsilon_high, dual-clip→delta, token-mean→dapo."""
    from trl import GRPOTrainer

    trainer, batch = hard
    assert (trainer.epsilon_low, trainer.epsilon_high, trainer.args.delta, trainer.loss_type) == (0.2, 0.2, 3.0, "dapo")
    ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    attention = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    with torch.no_grad():
        log_probs, _, _ = trainer._get_per_token_logps_and_entropies(
            trainer.model, ids, attention, batch["completion_ids"].size(1)
        )
        old = log_probs + torch.randn(log_probs.shape, generator=torch.Generator().manual_seed(1))
        off_policy = dict(batch, old_per_token_logps=old)
        ours = trainer._compute_loss(trainer.model, off_policy)
        theirs = GRPOTrainer._compute_loss(trainer, trainer.model, off_policy)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-7)


def test_a_failing_reward_gets_the_fallback_and_is_counted(tiny_model, tmp_path):
    def flaky(prompts, completions, **_):
        if len(completions) > 1:
            raise RuntimeError("batch scoring crashed")  # retried one completion at a time
        flaky.calls += 1
        return [float("nan") if flaky.calls % 3 == 0 else 1.0]

    flaky.calls = 0
    trainer = make_trainer(tiny_model, tmp_path, get_recipe("gd2po_hard"), [first, flaky])
    batch = trainer._generate_and_score_completions(generation_batch(trainer))
    assert torch.isfinite(batch["advantages"]).all()
    rewards = trainer._last_rewards[:, 1]
    assert (rewards == 0.0).sum() == 2 and (rewards == 1.0).sum() == 6  # every third completion is NaN
    assert trainer._metrics["train"]["reward/flaky/failures"][-1] == 2
    assert trainer._metrics["train"]["reward/first/failures"][-1] == 0
