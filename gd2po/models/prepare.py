"""Build a tiny local model for a mini task: tokenizer, random Qwen2 model, warm start, probe, save.

The output directory is a plain Hugging Face model dir (``from_pretrained(DIR)`` works for the model
and the tokenizer, and vLLM loads it by path) plus ``gd2po_model.json`` describing how it was built.
It is written to ``DIR.tmp`` and renamed into place, so a crash never leaves a half-written ``DIR``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

from gd2po.errors import UserError
from gd2po.files import replace_dir

METADATA_FILE = "gd2po_model.json"
PROBE_PROMPTS = 32


def prepare_model(
    task_name: str,
    out: str | Path,
    *,
    seed: int = 0,
    size: str = "mini",
    warmstart_steps: int | None = None,
    task_overrides: dict | None = None,
    probe_tokens: int = 48,
) -> dict:
    """Build, warm-start and save a model for ``task_name`` into ``out``; return its metadata.

    ``warmstart_steps=None`` runs the task's own number of SFT steps (``Task.warmstart_steps``).
    """
    from gd2po.config import task_options
    from gd2po.models.builder import build_model, preset
    from gd2po.tasks import get_task

    started = time.time()
    task = get_task(task_name)
    if warmstart_steps is None:
        warmstart_steps = task.warmstart_steps
    options = task_options(task_name, task_overrides or {}, "--set")
    shape = preset(size)
    corpus = task.tokenizer_corpus(options, seed)
    if corpus is None:
        raise UserError(f"task {task_name!r} has no tokenizer corpus; `prepare` builds models for mini tasks only")
    conversations = task.warmstart_conversations(options, seed) if warmstart_steps > 0 else []
    if warmstart_steps > 0 and not conversations:
        raise UserError(f"task {task_name!r} has no warm-start conversations; use --warmstart-steps 0")

    from transformers import set_seed

    from gd2po.models.tokenizer import train_tokenizer
    from gd2po.models.warmstart import probe_rewards, supervised_warmstart

    set_seed(seed)
    tokenizer = train_tokenizer(corpus, shape["vocab_size"])
    model = build_model(tokenizer, size, seed)
    sft_loss = supervised_warmstart(model, tokenizer, conversations, warmstart_steps, seed) if warmstart_steps else None

    probe_set = task.train_dataset(options, seed)
    probe_set = probe_set.select(range(min(PROBE_PROMPTS, len(probe_set))))
    probe = probe_rewards(model, tokenizer, probe_set, task.reward_functions(options), probe_tokens, seed)

    metadata = {
        "task": task_name,
        "task_options": dataclasses.asdict(options),
        "seed": seed,
        "size": size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": len(tokenizer),
        "warmstart_steps": warmstart_steps,
        "warmstart_conversations": len(conversations),
        "warmstart_final_loss": sft_loss,
        "probe_reward_means": probe,
        "probe_prompts": len(probe_set),
        "wall_s": round(time.time() - started, 2),
    }
    _save_atomically(Path(out), model, tokenizer, metadata)
    return metadata


def _save_atomically(out: Path, model, tokenizer, metadata: dict) -> None:
    scratch = out.with_name(out.name + ".tmp")
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    model.save_pretrained(scratch)
    tokenizer.save_pretrained(scratch)
    (scratch / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    replace_dir(scratch, out)
