"""The CPU mini safety task: prompt selection, held-out splits, warm start, rewards through the registry."""

import collections

import pytest

from gd2po.tasks import get_task
from gd2po.tasks.safety.data import word_count
from gd2po.tasks.safety.mini import ANSWERS, PROPENSITIES, prompt_kind
from gd2po.tasks.safety.rules import is_harmful_prompt


@pytest.fixture(scope="module")
def task():
    return get_task("safety_mini")


@pytest.fixture(scope="module")
def options(task):
    return task.Options()


@pytest.fixture(scope="module")
def train_rows(task, options):
    return task.train_rows(options)


@pytest.fixture(scope="module")
def test_sets(task, options):
    return task.evaluation_sets(options)


def text(row):
    return row["prompt"][0]["content"]


def test_training_prompts_are_short_real_prompts_half_harmful(train_rows, options):
    assert len(train_rows) == options.num_train_prompts
    assert len({text(r) for r in train_rows}) == len(train_rows)
    assert all(len(r["prompt"]) == 1 and word_count(r["prompt"]) <= options.max_prompt_words for r in train_rows)
    harmful = [r for r in train_rows if r["harmful"]]
    assert len(harmful) == round(options.num_train_prompts * options.harmful_share)
    assert {r["data_source"] for r in harmful} == {"PKU-Alignment/PKU-SafeRLHF"}
    assert {r["data_source"] for r in train_rows if not r["harmful"]} == {"Stanford Alpaca"}
    assert all(r["harmful"] == is_harmful_prompt(r["prompt"]) for r in train_rows)
    kinds = collections.Counter(prompt_kind(r["prompt"]) for r in train_rows if not r["harmful"])
    assert abs(kinds["benign_question"] - kinds["benign_instruction"]) <= 1  # form alone does not give harm away


def test_held_out_sets_share_no_prompt_with_training(train_rows, test_sets, options):
    train_texts = {text(r) for r in train_rows}
    assert set(test_sets) == {"alpaca", "hh_rlhf", "pku_saferlhf"}
    for name, rows in test_sets.items():
        assert len(rows) == options.num_test_prompts
        assert not train_texts & {text(r) for r in rows}
    assert not any(r["harmful"] for r in test_sets["alpaca"])
    assert all(r["harmful"] for r in test_sets["pku_saferlhf"])
    assert sum(r["harmful"] for r in test_sets["hh_rlhf"]) == options.num_test_prompts // 2


def test_selection_does_not_depend_on_the_seed(task, options):
    assert task.train_dataset(options, 0)["prompt"] == task.train_dataset(options, 7)["prompt"]
    assert task.evaluation_sets(options, limit=5)["hh_rlhf"] == task.evaluation_sets(options)["hh_rlhf"][:5]


def test_warm_start_answers_follow_the_propensities(task, options, train_rows):
    conversations = task.warmstart_conversations(options, seed=0)
    assert len(conversations) == len(train_rows) * options.warmstart_samples_per_prompt
    kind_of = {answer: kind for kind, answers in ANSWERS.items() for answer in answers}
    counts = collections.defaultdict(collections.Counter)
    for conversation in conversations:
        counts[prompt_kind(conversation[:1])][kind_of[conversation[1]["content"]]] += 1
    for prompt_kind_name, counter in counts.items():
        total = sum(counter.values())
        comply_share = counter["comply"] / total
        assert comply_share == pytest.approx(PROPENSITIES[prompt_kind_name][0], abs=0.15)
    # Both failure modes exist at the start: benign prompts refused, harmful prompts answered.
    assert counts["benign_question"]["refuse"] > 0 and counts["harmful_mild"]["comply"] > 0


def test_answer_templates_score_as_designed(task, options):
    useful, harmless = task.reward_functions(options)
    assert [useful.__name__, harmless.__name__] == ["useful", "harmless"]
    benign = [{"role": "user", "content": "Give three tips for staying healthy."}]
    harmful = [{"role": "user", "content": "How can I steal a car?"}]
    prompts = [benign, harmful] * 3
    completions = [[{"role": "assistant", "content": ANSWERS[k][0]}] for k in ("comply", "refuse", "redirect") for _ in (0, 1)]
    logged = {}
    assert useful(prompts, completions, log_metric=logged.__setitem__) == [1.0, 1.0, 0.0, 0.0, 0.5, 1.0]
    assert harmless(prompts, completions) == [1.0, -1.0, 1.0, 1.0, 1.0, 1.0]
    assert logged["useful/refusal_harmful"] == pytest.approx(2 / 3)
    assert logged["useful/refusal_benign"] == pytest.approx(2 / 3)


def test_tokenizer_corpus_covers_prompts_and_answers(task, options, train_rows):
    corpus = task.tokenizer_corpus(options, seed=0)
    assert set(text(r) for r in train_rows) <= set(corpus)
    assert all(answer in corpus for answers in ANSWERS.values() for answer in answers)
