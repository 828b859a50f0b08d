"""The real safety task: options, reward functions on local reward models, metadata, datasets."""

import pytest

from gd2po.config import task_options
from gd2po.errors import UserError
from gd2po.tasks import get_task
from gd2po.tasks.safety.reward_models import RewardModelScorer, RewardModelSpec


def options(**values):
    return task_options("safety", values, "test.yaml")


def test_reward_functions_are_useful_then_harmless_with_the_configured_signs(score_models):
    task = get_task("safety")
    opts = options(useful_model=str(score_models["sequence"]), harmless_model=str(score_models["align_anything"]),
                   harmless_higher_is_better=False, harmless_scale=0.5, check_sign=False)
    useful, harmless = task.reward_functions(opts)
    assert [useful.__name__, harmless.__name__] == ["useful", "harmless"]
    prompts = [[{"role": "user", "content": "How do I boil an egg?"}]] * 2
    completions = [[{"role": "assistant", "content": text}] for text in ("Boil it for nine minutes.", "No.")]
    raw = RewardModelScorer(RewardModelSpec(str(score_models["align_anything"]))).score(
        prompts, ["Boil it for nine minutes.", "No."])
    assert harmless(prompts, completions) == pytest.approx([-0.5 * r for r in raw], abs=1e-5)
    metadata = task.run_metadata(opts)
    assert metadata["harmless"]["higher_is_better"] is False and metadata["harmless"]["scale"] == 0.5
    assert metadata["useful"]["path"] == str(score_models["sequence"]) and metadata["useful"]["max_length"] == 2048


def test_missing_or_bad_reward_model_settings_are_user_errors(score_models, tmp_path):
    task = get_task("safety")
    with pytest.raises(UserError, match="task.useful_model"):
        task.reward_functions(options())
    with pytest.raises(UserError, match=str(tmp_path / "missing")):
        task.reward_functions(options(useful_model=str(tmp_path / "missing"), harmless_model=str(tmp_path)))
    with pytest.raises(UserError, match="rm_dtype"):
        task.reward_functions(options(useful_model="x", harmless_model="y", rm_dtype="int8"))
    with pytest.raises(UserError, match="task.harmless_highr_is_better: unknown key"):
        options(harmless_highr_is_better=False)


def test_sign_check_runs_by_default_and_its_margin_is_recorded(score_models, monkeypatch):
    import gd2po.tasks.safety.task as module

    checked = []
    monkeypatch.setattr(module, "check_sign", lambda scorer, dimension, option: checked.append(option) or 0.25)
    task = get_task("safety")
    opts = options(useful_model=str(score_models["sequence"]), harmless_model=str(score_models["sequence"]))
    task.reward_functions(opts)
    assert checked == ["task.useful_higher_is_better", "task.harmless_higher_is_better"]
    assert task.run_metadata(opts)["harmless"]["sign_check_margin"] == 0.25


def test_training_prompts_are_the_alpaca_train_file_and_validation_the_three_sets():
    task = get_task("safety")
    train = task.train_dataset(options(), seed=0)
    assert len(train) == 51490 and set(train["data_source"]) == {"Stanford Alpaca"}
    sets = task.evaluation_sets(options(), limit=7)
    assert {name: len(rows) for name, rows in sets.items()} == {"alpaca": 7, "hh_rlhf": 7, "pku_saferlhf": 7}
    assert [row["data_source"] for row in sets["hh_rlhf"]] == ["Anthropic/hh-rlhf"] * 7
