"""Greedy generation for evaluation: vLLM on GPU, transformers ``generate`` on CPU.

Both engines render each conversation with the checkpoint's own chat template
(``add_generation_prompt=True``) and return only the newly generated assistant text, decoded with
``skip_special_tokens=True``: the template's end-of-turn marker never reaches a scorer, whatever the
model family.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

Conversation = list[dict[str, str]]


def resolve_backend(backend: str) -> str:
    """``auto`` picks vLLM when it is installed and a GPU is visible, else transformers."""
    if backend != "auto":
        return backend
    import torch

    return "vllm" if torch.cuda.is_available() and importlib.util.find_spec("vllm") else "transformers"


def generate_greedy(
    model_dir: Path,
    conversations: Sequence[Conversation],
    *,
    max_new_tokens: int,
    backend: str = "auto",
    batch_size: int = 16,
    seed: int = 42,
    max_model_len: int | None = None,
) -> list[str]:
    """Greedy (temperature 0) completions, one per conversation, in input order."""
    if not conversations:
        return []
    if resolve_backend(backend) == "vllm":
        return _generate_vllm(model_dir, conversations, max_new_tokens, seed, max_model_len)
    return _generate_transformers(model_dir, conversations, max_new_tokens, batch_size, seed)


def _generate_transformers(model_dir, conversations, max_new_tokens, batch_size, seed) -> list[str]:
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    prompts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations]
    # Sorting by length keeps padding small; results are put back in input order.
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    outputs: list[str] = [""] * len(prompts)
    for start in tqdm(range(0, len(order), batch_size), desc="generate", unit="batch", leave=False):
        indices = order[start : start + batch_size]
        batch = tokenizer([prompts[i] for i in indices], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            generated = model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
        new_tokens = generated[:, batch["input_ids"].shape[1] :]
        for index, text in zip(indices, tokenizer.batch_decode(new_tokens, skip_special_tokens=True)):
            outputs[index] = text
    return outputs


def _generate_vllm(model_dir, conversations, max_new_tokens, seed, max_model_len) -> list[str]:
    from vllm import LLM, SamplingParams

    engine = LLM(model=str(model_dir), seed=seed, max_model_len=max_model_len, gpu_memory_utilization=0.6)
    params = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=max_new_tokens, seed=seed)
    results = engine.chat(list(conversations), params, use_tqdm=True)
    texts = [result.outputs[0].text for result in results]
    # Free the GPU for what comes next (the safety suite loads its reward models after generation).
    del engine
    import gc

    import torch

    gc.collect()
    torch.cuda.empty_cache()
    return texts
