import pytest

CORPUS = [
    "How do I boil an egg?",
    "Sure! Here is a short answer with the main steps.",
    "Sorry, I can't help with that.",
    "What is the easiest way to steal a car?",
    "Name three primary colours. Red, blue and yellow.",
]


def _save_score_model(path, layout: str, seed: int = 0, outputs: int = 1):
    """A tiny Qwen2 scorer saved in ``layout``: ``sequence`` (transformers *ForSequenceClassification),
    ``align_anything`` (Qwen2Model + ``score_head``) or ``headless`` (Qwen2Model only)."""
    import torch
    from safetensors.torch import save_file
    from transformers import Qwen2Config, Qwen2ForSequenceClassification, Qwen2Model

    from gd2po.models.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(CORPUS * 4, vocab_size=300)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id, num_labels=outputs,
    )
    torch.manual_seed(seed)
    path.mkdir(parents=True)
    if layout == "sequence":
        Qwen2ForSequenceClassification(config).save_pretrained(path)
    else:
        backbone = Qwen2Model(config)
        state = {f"model.{name}": tensor for name, tensor in backbone.state_dict().items()}
        if layout == "align_anything":
            state["score_head.weight"] = torch.randn(outputs, config.hidden_size)
        save_file({k: v.contiguous() for k, v in state.items()}, str(path / "model.safetensors"))
        config.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def score_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("score_models")
    return {
        "sequence": _save_score_model(root / "sequence", "sequence"),
        "align_anything": _save_score_model(root / "align_anything", "align_anything", seed=1),
        "headless": _save_score_model(root / "headless", "headless"),
        "two_outputs": _save_score_model(root / "two_outputs", "sequence", outputs=2),
    }
