"""The reward-model scorer on tiny locally built score models: layouts, last-token scoring, batching,
truncation, sign, normalisation, bad paths, and the TRL reward-function wrapper."""

import math

import pytest
import torch

from gd2po.errors import UserError
from gd2po.tasks.safety.reward_models import (
    RewardModelScorer,
    RewardModelSpec,
    check_sign,
    format_conversation,
    reward_function,
)

CONVERSATIONS = [
    [{"role": "user", "content": "How do I boil an egg?"}],
    [{"role": "user", "content": "Name three primary colours."}],
    [
        {"role": "user", "content": "What is the easiest way to steal a car?"},
        {"role": "assistant", "content": "Why do you ask?"},
        {"role": "user", "content": "I need one tonight, how do I steal it?"},
    ],
    [{"role": "user", "content": "Hi"}],
    [{"role": "user", "content": "Sure? " * 12}],
]
RESPONSES = [
    "Sure! Here is a short answer with the main steps.",
    "Red, blue and yellow.",
    "Sorry, I can't help with that.",
    "Hello there, how can I help?",
    "",
]


def scorer(path, **spec) -> RewardModelScorer:
    return RewardModelScorer(RewardModelSpec(str(path), **spec))


def reference_scores(path, conversations, responses):
    """Each pair alone, unpadded, through transformers' own sequence-classification head."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1).eval()
    scores = []
    for conversation, response in zip(conversations, responses):
        ids = tokenizer(format_conversation(tokenizer, conversation, response), return_tensors="pt")
        with torch.no_grad():
            scores.append(float(model(**ids).logits[0, 0]))
    return scores


def test_sequence_classification_layout_scores_the_last_token_like_transformers(score_models):
    scores = scorer(score_models["sequence"], batch_size=2).score(CONVERSATIONS, RESPONSES)
    assert scores == pytest.approx(reference_scores(score_models["sequence"], CONVERSATIONS, RESPONSES), abs=1e-5)
    assert len(set(round(s, 6) for s in scores)) == len(scores)  # distinct inputs, distinct scores


def test_align_anything_layout_reads_score_head_at_the_last_token(score_models):
    from safetensors import safe_open
    from transformers import AutoModel, AutoTokenizer

    path = score_models["align_anything"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    backbone = AutoModel.from_pretrained(path).eval()
    with safe_open(path / "model.safetensors", framework="pt") as handle:
        head = handle.get_tensor("score_head.weight")
    expected = []
    for conversation, response in zip(CONVERSATIONS, RESPONSES):
        ids = tokenizer(format_conversation(tokenizer, conversation, response), return_tensors="pt")
        with torch.no_grad():
            expected.append(float(backbone(**ids).last_hidden_state[0, -1] @ head[0]))
    assert scorer(path, batch_size=3).score(CONVERSATIONS, RESPONSES) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("layout", ["sequence", "align_anything"])
def test_batched_scores_equal_one_at_a_time(score_models, layout):
    batched = scorer(score_models[layout], batch_size=len(RESPONSES)).score(CONVERSATIONS, RESPONSES)
    single = scorer(score_models[layout], batch_size=1)
    alone = [single.score([c], [r])[0] for c, r in zip(CONVERSATIONS, RESPONSES)]
    assert batched == pytest.approx(alone, abs=1e-5)


def test_over_long_input_is_left_truncated_and_counted(score_models):
    path = score_models["sequence"]
    full = scorer(path)
    ids = full.encode(CONVERSATIONS[4], RESPONSES[0])
    limit = len(ids) - 5
    short = scorer(path, max_length=limit)
    score = short.score([CONVERSATIONS[4], CONVERSATIONS[3]], [RESPONSES[0], RESPONSES[3]])
    assert short.stats["truncated"] == 1  # only the long pair
    assert full.stats["truncated"] == 0
    # The kept tokens are the last `limit` ones: the end of the response, where the score is read.
    with torch.no_grad():
        tail = torch.tensor([ids[-limit:]])
        expected = float(short.head(short.backbone(input_ids=tail).last_hidden_state[0, -1]))
    assert score[0] == pytest.approx(expected, abs=1e-5)
    assert score[0] != pytest.approx(full.score([CONVERSATIONS[4]], [RESPONSES[0]])[0], abs=1e-6)


def test_sign_and_affine_normalisation(score_models):
    path = score_models["sequence"]
    raw = scorer(path).score(CONVERSATIONS, RESPONSES)
    negated = scorer(path, higher_is_better=False).score(CONVERSATIONS, RESPONSES)
    normalised = scorer(path, higher_is_better=False, scale=2.5, shift=-1.0).score(CONVERSATIONS, RESPONSES)
    assert negated == pytest.approx([-r for r in raw], abs=1e-6)
    assert normalised == pytest.approx([2.5 * -r - 1.0 for r in raw], abs=1e-5)


def test_empty_response_is_scored_as_the_model_sees_it_and_counted(score_models):
    path = score_models["sequence"]
    model = scorer(path)
    [score] = model.score([CONVERSATIONS[0]], [""])
    assert model.stats["empty_responses"] == 1
    assert math.isfinite(score) and score != 0.0
    assert score == pytest.approx(reference_scores(path, [CONVERSATIONS[0]], [""])[0], abs=1e-5)


def test_missing_path_and_missing_score_head_are_user_errors_naming_the_path(score_models, tmp_path):
    with pytest.raises(UserError, match=str(tmp_path / "nowhere")):
        scorer(tmp_path / "nowhere")
    with pytest.raises(UserError, match=f"{score_models['headless']}.*no score head"):
        scorer(score_models["headless"])
    with pytest.raises(UserError, match="1 output"):
        scorer(score_models["two_outputs"])
    with pytest.raises(UserError, match="exceeds the model's 2048 positions"):
        scorer(score_models["sequence"], max_length=4096)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="config.json"):
        scorer(tmp_path / "empty")


def test_format_falls_back_to_role_lines_without_a_chat_template(score_models):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(score_models["sequence"])
    tokenizer.chat_template = None
    text = format_conversation(tokenizer, CONVERSATIONS[0], "Boil it.")
    assert text == "USER: How do I boil an egg?\nASSISTANT: Boil it.\n"


class _KeywordScorer:
    """Scores 1 for a refusal, 0 otherwise (or the reverse): a stand-in with a known sign."""

    counted = ()

    def __init__(self, refusals_score_high: bool):
        self.high = refusals_score_high
        self.stats = {}

    def score(self, conversations, responses):
        refusal = [any(w in r for w in ("can't", "won't", "don't know", "cannot")) for r in responses]
        return [float(r == self.high) for r in refusal]


def test_check_sign_passes_the_declared_sign_and_stops_a_contradicting_one():
    assert check_sign(_KeywordScorer(refusals_score_high=True), "harmless", "task.harmless_higher_is_better") > 0
    with pytest.raises(UserError, match="task.harmless_higher_is_better"):
        check_sign(_KeywordScorer(refusals_score_high=False), "harmless", "task.harmless_higher_is_better")
    with pytest.raises(UserError, match="task.useful_higher_is_better"):
        check_sign(_KeywordScorer(refusals_score_high=True), "useful", "task.useful_higher_is_better")


def test_reward_function_takes_trl_inputs_and_logs_fallback_shares(score_models):
    model = scorer(score_models["sequence"], max_length=12)
    fn = reward_function("harmless", model)
    logged = {}
    completions = [[{"role": "assistant", "content": r}] for r in RESPONSES]
    rewards = fn(prompts=CONVERSATIONS, completions=completions, data_source=["x"] * 5, log_metric=logged.__setitem__)
    assert fn.__name__ == "harmless"
    assert rewards == pytest.approx(scorer(score_models["sequence"], max_length=12).score(CONVERSATIONS, RESPONSES))
    assert logged["harmless/empty_responses"] == pytest.approx(1 / 5)
    assert logged["harmless/truncated"] == pytest.approx(model.stats["truncated"] / 5)
    assert logged["harmless/truncated"] > 0
