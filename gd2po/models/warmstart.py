"""Warm start: a short supervised fine-tune on a task's conversations, so RL starts from a policy
that is sometimes right; and a probe that measures how often it is."""

from __future__ import annotations

import math
import statistics
import tempfile


def _bar_without_log_lines():
    from transformers.trainer_callback import ProgressCallback

    class BarWithoutLogLines(ProgressCallback):
        """A progress bar; the loss dicts stay in ``log_history`` instead of the terminal."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            return None

    return BarWithoutLogLines


def supervised_warmstart(model, tokenizer, conversations: list[list[dict]], steps: int, seed: int) -> float:
    """Fine-tune ``model`` in place for ``steps`` optimizer steps with TRL's ``SFTTrainer``.

    The loss covers assistant tokens only (content and the closing ``<|im_end|>``, which the chat
    template marks with ``{% generation %}``). Returns the mean training loss of the last 10% of steps.
    """
    import datasets
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from trl import SFTConfig, SFTTrainer

    datasets.disable_progress_bars()

    with tempfile.TemporaryDirectory(prefix="gd2po-sft-") as scratch:
        args = SFTConfig(
            output_dir=scratch,
            max_steps=steps,
            per_device_train_batch_size=16,
            learning_rate=3e-3,  # a randomly initialised model of ~1M parameters needs a large step
            lr_scheduler_type="cosine",
            warmup_steps=max(1, steps // 20),
            weight_decay=0.0,
            assistant_only_loss=True,
            max_length=model.config.max_position_embeddings,
            use_cpu=True,
            bf16=False,
            gradient_checkpointing=False,
            report_to="none",
            save_strategy="no",
            logging_steps=max(1, steps // 10),
            seed=seed,
            data_seed=seed,
        )
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=datasets.Dataset.from_dict({"messages": conversations}),
            processing_class=tokenizer,
        )
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(_bar_without_log_lines())
        trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    tail = losses[-max(1, len(losses) // 10) :]
    return float(statistics.fmean(tail)) if tail else math.nan


def probe_rewards(model, tokenizer, dataset, reward_functions, max_new_tokens: int, seed: int) -> dict[str, float]:
    """Sample one completion per prompt at temperature 1 and return the mean of each reward."""
    import torch

    torch.manual_seed(seed)
    prompts = list(dataset["prompt"])
    texts = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    model.eval()
    with torch.no_grad():
        output = model.generate(
            **batch,
            max_new_tokens=max_new_tokens,
            do_sample=True,
            temperature=1.0,
            top_p=1.0,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    completion_ids = output[:, batch["input_ids"].shape[1] :]
    completions = [
        [{"role": "assistant", "content": text}]
        for text in tokenizer.batch_decode(completion_ids, skip_special_tokens=True)
    ]
    columns = {name: list(dataset[name]) for name in dataset.column_names if name != "prompt"}
    means = {}
    for fn in reward_functions:
        scores = [s for s in fn(prompts=prompts, completions=completions, **columns) if s is not None]
        finite = [float(s) for s in scores if math.isfinite(float(s))]
        means[fn.__name__] = float(statistics.fmean(finite)) if finite else math.nan
    return means
