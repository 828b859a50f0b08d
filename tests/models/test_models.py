"""The tiny local tokenizer, model builder and `prepare` command."""

import json
import subprocess
import sys

import pytest
import torch

from gd2po.models.builder import PRESETS, build_model
from gd2po.models.tokenizer import train_tokenizer
from gd2po.tasks.toy import ToyTask

TEXTS = [
    "<|im_start|>user\nWhat is 12 plus 3? héllo  world<|im_end|>\n",
    "The answer is 7.<|im_end|><pad>",
    "日本 \t\n\n x {\"name\": 1}",
]


def test_tokenizer_round_trips_any_text_and_keeps_special_tokens_whole(toy_tokenizer):
    for text in TEXTS:
        assert toy_tokenizer.decode(toy_tokenizer(text).input_ids) == text
    ids = toy_tokenizer("<|im_start|><|im_end|><pad>").input_ids
    assert ids == [toy_tokenizer.convert_tokens_to_ids(t) for t in ("<|im_start|>", "<|im_end|>", "<pad>")]
    assert toy_tokenizer.eos_token == "<|im_end|>" and toy_tokenizer.pad_token == "<pad>"


def test_tokenizer_training_is_deterministic(toy_tokenizer):
    task = ToyTask()
    again = train_tokenizer(task.tokenizer_corpus(task.Options(), seed=0), vocab_size=384)
    assert again.get_vocab() == toy_tokenizer.get_vocab()


def test_chat_template_renders_chatml_and_generation_prompt(toy_tokenizer):
    conversation = [{"role": "user", "content": "What is 1 plus 2?"}, {"role": "assistant", "content": "3"}]
    rendered = toy_tokenizer.apply_chat_template(conversation, tokenize=False)
    assert rendered == "<|im_start|>user\nWhat is 1 plus 2?<|im_end|>\n<|im_start|>assistant\n3<|im_end|>\n"
    prompt = toy_tokenizer.apply_chat_template(conversation[:1], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")
    out = toy_tokenizer.apply_chat_template(conversation, return_dict=True, return_assistant_tokens_mask=True)
    learned = [i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert toy_tokenizer.decode(learned) == "3<|im_end|>"  # the model learns to stop


def test_saved_dir_loads_with_auto_classes_and_tokenizes_identically(toy_tokenizer, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = build_model(toy_tokenizer, "tiny", seed=0)
    model.save_pretrained(tmp_path)
    toy_tokenizer.save_pretrained(tmp_path)
    loaded_tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    for text in TEXTS:
        assert loaded_tokenizer(text).input_ids == toy_tokenizer(text).input_ids
    assert loaded_tokenizer.chat_template == toy_tokenizer.chat_template
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert loaded.config.model_type == "qwen2"
    assert loaded.config.eos_token_id == toy_tokenizer.eos_token_id
    assert loaded.config.pad_token_id == toy_tokenizer.pad_token_id
    ids = torch.tensor([toy_tokenizer("What is 1 plus 2?").input_ids])
    assert torch.equal(loaded(ids).logits, model(ids).logits)


@pytest.mark.parametrize("size", ["tiny", "mini"])
def test_presets_have_vllm_friendly_head_dims(size):
    shape = PRESETS[size]
    assert shape["hidden_size"] // shape["num_attention_heads"] in (32, 64)
    assert shape["num_attention_heads"] % shape["num_key_value_heads"] == 0


def _prepare(*args):
    return subprocess.run([sys.executable, "-m", "gd2po", "prepare", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_prepare_writes_a_loadable_warm_started_model(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "model"
    result = _prepare("--task", "toy", "--out", str(out), "--size", "tiny", "--warmstart-steps", "200")
    assert result.returncode == 0, result.stderr[-2000:]
    assert not (tmp_path / "model.tmp").exists()
    metadata = json.loads((out / "gd2po_model.json").read_text())
    assert metadata["task"] == "toy" and metadata["size"] == "tiny" and metadata["warmstart_steps"] == 200
    # An untrained model almost never writes the right sum; the warm-started one sometimes does.
    assert metadata["probe_reward_means"]["correctness"] >= 0.05
    assert metadata["warmstart_final_loss"] < 1.5
    AutoTokenizer.from_pretrained(out)
    AutoModelForCausalLM.from_pretrained(out)


def test_prepare_runs_the_tasks_own_warm_start_steps_by_default(tmp_path, monkeypatch):
    from gd2po.models.prepare import prepare_model
    from gd2po.tasks import get_task

    assert get_task("tool_calling_mini").warmstart_steps == 1000  # the copy skill needs 600-900 steps
    monkeypatch.setattr(type(get_task("toy")), "warmstart_steps", 3)
    metadata = prepare_model("toy", tmp_path / "model", size="tiny", probe_tokens=2)
    assert metadata["warmstart_steps"] == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--task", "nope"], "unknown task 'nope'"),
        (["--task", "toy", "--set", "task.num_promts=3"], "task.num_promts: unknown key; allowed: num_prompts"),
        (["--task", "toy", "--set", "task.num_prompts=many"], "task.num_prompts: expected int"),
        (["--task", "toy", "--set", "model.x=1"], "prepare accepts task.KEY=VALUE only"),
    ],
)
def test_prepare_bad_input_is_one_line_exit_2_nothing_written(tmp_path, args, message):
    out = tmp_path / "model"
    result = _prepare(*args, "--out", str(out), "--size", "tiny")
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "model.tmp").exists()
