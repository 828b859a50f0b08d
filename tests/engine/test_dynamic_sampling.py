"""DAPO dynamic sampling on fake rounds: refill, cap, shortfall, merge, and agreement across processes."""

import torch

from gd2po.core import DynamicSampling, Overlong, Recipe
from gd2po.engine.dynamic_sampling import RoundResult, keep_mask, mask_from_lengths, merge_groups, sample_with_refill

G = 2  # rollouts per prompt
PAD = 0


def fake_output(rows: int, round_index: int, prompt_width: int, completion_width: int) -> dict:
    ids = torch.arange(rows).unsqueeze(1) + 100 * round_index
    return {
        "prompt_ids": ids.repeat(1, prompt_width),
        "prompt_mask": torch.ones(rows, prompt_width, dtype=torch.long),
        "completion_ids": ids.repeat(1, completion_width),
        "completion_mask": torch.ones(rows, completion_width, dtype=torch.long),
        "advantages": torch.zeros(rows),
        "num_items_in_batch": torch.tensor(rows * completion_width),
    }


def dapo_recipe(metric="sum", max_rounds=5, **fields):
    return Recipe(name="dapo-test", method="dapo", dynamic_sampling=DynamicSampling(metric, max_rounds), **fields)


def run(constant_by_round, process_index, num_processes=2, local_groups=2, max_rounds=5):
    """constant_by_round[r][g] (global group g): is that group's metric constant in round r."""
    calls = []

    def generate_round(inputs):
        r = len(calls)
        calls.append(inputs)
        rewards = torch.tensor(
            [[1.0, 1.0] if constant_by_round[r][g] else [0.0, 1.0] for g in range(num_processes * local_groups)]
        ).reshape(-1, 1)
        output = fake_output(local_groups * G, r, prompt_width=2 + r, completion_width=3 + r)
        return RoundResult(output=output, rewards=rewards, lengths=torch.full((rewards.shape[0],), 3.0 + r))

    output, rewards, stats = sample_with_refill(
        generate_round, ["prompt"] * (local_groups * G), lambda r: [f"round{r}"] * (local_groups * G),
        recipe=dapo_recipe(max_rounds=max_rounds), group_size=G, reward_names=["acc"],
        process_index=process_index, num_processes=num_processes, pad_token_id=PAD,
    )
    return output, rewards, stats, len(calls)


def test_keep_mask_drops_groups_with_a_constant_metric():
    rewards = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.5], [1.0, 0.5]])
    lengths = torch.tensor([3.0, 3.0, 3.0, 3.0])
    names = ["a", "b"]
    assert keep_mask(dapo_recipe("sum"), rewards, lengths, 2, names).tolist() == [False, True]  # totals tie in group 0
    assert keep_mask(dapo_recipe("a"), rewards, lengths, 2, names).tolist() == [True, True]
    assert keep_mask(dapo_recipe("b"), rewards, lengths, 2, names).tolist() == [True, False]
    weighted = dapo_recipe("sum", reward_weights=(2.0, 1.0))
    assert keep_mask(weighted, rewards, lengths, 2, names).tolist() == [True, True]


def test_refill_and_recipe_agree_when_the_overlong_term_changes_the_sum():
    # Overlong(max_length=4, buffer=2): penalty min(−(L − 2) / 2, 0), so L = 4 gives −1 and L = 2 gives 0.
    # Group 0: rewards 1, 0 at lengths 4, 2 → totals 0, 0 (constant: drop although the reward varies).
    # Group 1: rewards 1, 1 at lengths 4, 2 → totals 0, 1 (varies: keep although the reward ties).
    recipe = dapo_recipe("sum", overlong=Overlong(max_length=4, buffer=2))
    rewards = torch.tensor([[1.0], [0.0], [1.0], [1.0]])
    lengths = torch.tensor([4.0, 2.0, 4.0, 2.0])
    refill = keep_mask(recipe, rewards, lengths, 2, ["acc"])
    result = recipe.compute_advantages(rewards, torch.tensor([0, 0, 1, 1]), mask_from_lengths(lengths), ["acc"])
    assert refill.tolist() == [False, True]
    assert result.keep.view(-1, 2).any(dim=1).tolist() == refill.tolist()
    assert torch.all(result.sequence_advantages[:2] == 0)


def test_no_refill_when_the_first_round_suffices():
    _, _, stats, calls = run([[False, False, False, False]], process_index=0)
    assert calls == 1 and stats.rounds == 1
    assert stats.kept_groups == 4 and stats.dropped_groups == 0 and stats.shortfall_groups == 0


def test_refills_until_every_process_has_its_share_and_all_processes_agree():
    # process 0 owns groups 0-1, process 1 groups 2-3; process 1 is short until round 3
    rounds = [[True, False, True, True], [False, True, True, True], [True, True, False, False]]
    results = [run(rounds, process_index=p) for p in (0, 1)]
    assert {calls for *_, calls in results} == {3}  # same number of generation calls everywhere
    for output, rewards, stats, _ in results:
        assert stats.rounds == 3 and stats.shortfall_groups == 0 and stats.kept_groups == 4
        assert output["completion_ids"].shape[0] == 2 * G and rewards.shape == (2 * G, 1)
        assert torch.all(rewards.view(-1, G).std(dim=1) > 0)  # only kept (non-constant) groups
    # process 0 took group 1 of round 0 and group 0 of round 1
    first = results[0][0]["completion_ids"][:, -1] // 100
    assert first.tolist() == [0, 0, 1, 1]


def test_cap_on_rounds_pads_the_shortfall_with_dropped_groups():
    rounds = [[True] * 4] * 3
    output, rewards, stats, calls = run(rounds, process_index=1, max_rounds=3)
    assert calls == 3 and stats.rounds == 3
    assert stats.kept_groups == 0 and stats.shortfall_groups == 4 and stats.dropped_groups == 12
    assert output["completion_ids"].shape[0] == 2 * G
    assert torch.all(rewards.view(-1, G).std(dim=1) == 0)  # padding: zero advantage under DAPO


def test_merge_repads_prompts_left_and_completions_right():
    a, b = fake_output(2, 0, 2, 3), fake_output(2, 1, 4, 1)
    merged, _ = merge_groups([(a, torch.zeros(2, 1), torch.tensor([0])), (b, torch.ones(2, 1), torch.tensor([0]))], 2, PAD)
    assert merged["prompt_ids"].shape == (4, 4) and merged["completion_ids"].shape == (4, 3)
    assert merged["prompt_mask"][:2].tolist() == [[0, 0, 1, 1]] * 2  # left padding
    assert merged["completion_mask"][2:].tolist() == [[1, 0, 0]] * 2  # right padding
    assert merged["completion_ids"][2:, 1:].eq(PAD).all()
    assert "num_items_in_batch" not in merged
