"""Small Qwen2-architecture models built from a config, in a few size presets."""

from __future__ import annotations

from gd2po.errors import UserError

# head_dim is 32 or 64 in every preset so that vLLM's attention kernels accept the model.
PRESETS: dict[str, dict] = {
    # ~0.1M parameters: engine tests
    "tiny": dict(
        vocab_size=384, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
    ),
    # ~1M parameters: the mini tasks on CPU
    "mini": dict(
        vocab_size=1024, hidden_size=128, intermediate_size=512, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
    ),
    # ~3.5M parameters: mini tasks that the mini model cannot learn
    "small": dict(
        vocab_size=1024, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
    ),
    # Qwen2.5-0.5B's shape with random weights: GPU speed benchmarks only
    "qwen2.5-0.5b-shape": dict(
        vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
        num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=4096,
    ),
}


def preset(size: str) -> dict:
    if size not in PRESETS:
        raise UserError(f"unknown model size {size!r}; allowed: {', '.join(PRESETS)}")
    return dict(PRESETS[size])


def build_model(tokenizer, size: str, seed: int):
    """A randomly initialised ``Qwen2ForCausalLM`` of preset ``size`` whose special ids match ``tokenizer``.

    The embedding matrix has ``max(preset vocab, len(tokenizer))`` rows (a larger matrix than the
    tokenizer, as Qwen ships, is fine).
    """
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    shape = preset(size)
    shape["vocab_size"] = max(shape["vocab_size"], len(tokenizer))
    config = Qwen2Config(
        **shape,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        dtype="float32",
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=True
    )
    return model
