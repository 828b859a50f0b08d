"""One training run: a validated RunConfig in, a run directory out.

RUN_DIR layout::

    config.yaml        the resolved config (written first; a rerun with another config is refused)
    metrics.jsonl      one JSON object per logged optimizer step
    tb/                TensorBoard events
    checkpoints/       checkpoint-N/ (the resume points; not a Snakemake output, so kept on failure)
    model/             the final policy in Hugging Face format, tokenizer included
    summary.json       written last, atomically: final metrics, steps, wall time, seeds, method, τ

Running the same command again resumes from the newest complete checkpoint; ``metrics.jsonl`` is
cut back to that checkpoint's step first, so no step is duplicated or lost.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import yaml

from gd2po.config import RunConfig, recipe_for, task_options, to_mapping
from gd2po.errors import UserError
from gd2po.files import replace_dir, write_text_atomic

CHECKPOINTS = "checkpoints"
METRICS = "metrics.jsonl"
SUMMARY = "summary.json"


def build_grpo_config(config: RunConfig, run_dir: Path, recipe, source: str = "config"):
    """The ``GRPOConfig`` for ``config``: official defaults where TRL's differ (docs/trl.md §2)."""
    from trl import GRPOConfig

    g, o, log = config.generation, config.optimization, config.logging
    max_model_length = None if g.max_prompt_length is None else g.max_prompt_length + g.max_completion_length
    try:
        return GRPOConfig(
            output_dir=str(Path(run_dir) / CHECKPOINTS),
            seed=config.seed,
            data_seed=config.data_seed,
            # optimisation: constant LR, weight decay 0.01, no KL (no reference model)
            learning_rate=o.learning_rate,
            lr_scheduler_type=o.lr_scheduler_type,
            warmup_steps=o.warmup_steps,
            weight_decay=o.weight_decay,
            max_grad_norm=o.max_grad_norm,
            max_steps=o.max_steps,
            per_device_train_batch_size=o.per_device_train_batch_size,
            gradient_accumulation_steps=o.gradient_accumulation_steps,
            steps_per_generation=o.steps_per_generation,
            num_iterations=o.num_iterations,
            beta=0.0,
            bf16=o.bf16,
            use_cpu=o.use_cpu,
            gradient_checkpointing=config.model.gradient_checkpointing,
            model_init_kwargs=_model_init_kwargs(config),
            # rollouts
            num_generations=g.num_generations,
            max_completion_length=g.max_completion_length,
            temperature=g.temperature,
            top_p=g.top_p,
            mask_truncated_completions=g.mask_truncated_completions,
            use_vllm=g.use_vllm,
            vllm_mode=g.vllm_mode,
            vllm_gpu_memory_utilization=g.vllm_gpu_memory_utilization,
            vllm_enable_sleep_mode=g.vllm_enable_sleep_mode,
            vllm_tensor_parallel_size=g.vllm_tensor_parallel_size,
            vllm_server_base_url=g.vllm_server_base_url,
            vllm_max_model_length=max_model_length,
            vllm_importance_sampling_correction=False,  # the official verl runs have no such term
            # the loss is the core's (SuiteGRPOTrainer._compute_loss); these mirror the recipe so
            # TRL-side checks and logs agree with it
            epsilon=recipe.epsilon_low,
            epsilon_high=recipe.epsilon_high,
            delta=recipe.dual_clip,
            loss_type="dapo",
            # logging and checkpoints
            logging_steps=log.logging_steps,
            save_strategy="steps",
            save_steps=log.save_steps,
            save_total_limit=log.save_total_limit,
            log_completions=log.log_completions,
            report_to="none",  # TensorBoard is attached by hand, writing to RUN_DIR/tb
            ddp_find_unused_parameters=False,  # every parameter of a causal LM gets a gradient
            disable_tqdm=True,  # our own bar and one summary line per step
        )
    except ValueError as error:
        raise UserError(f"{source}: {str(error).splitlines()[0]}") from None


def _model_init_kwargs(config: RunConfig) -> dict:
    kwargs = {"dtype": config.model.dtype}
    if config.model.attn_implementation is not None:
        kwargs["attn_implementation"] = config.model.attn_implementation
    return kwargs


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest checkpoint that was written completely (trainer_state.json is saved last)."""
    folder = Path(run_dir) / CHECKPOINTS
    if not folder.is_dir():
        return None
    complete = [
        path for path in folder.glob("checkpoint-*")
        if path.name.split("-")[-1].isdigit() and (path / "trainer_state.json").exists()
    ]
    return max(complete, key=lambda path: int(path.name.split("-")[-1]), default=None)


def _check_model_path(config: RunConfig, source: str) -> None:
    path = config.model.path
    looks_local = path.startswith((".", "/", "~")) or path.count("/") != 1  # hub ids are "org/name"
    if not Path(path).exists() and (looks_local or os.environ.get("HF_HUB_OFFLINE") == "1"):
        raise UserError(f"{source}: model.path: {path} does not exist; build a model with `python -m gd2po prepare`")
    if Path(path).is_dir() and not (Path(path) / "config.json").exists():
        raise UserError(
            f"{source}: model.path: {path} holds no model (no config.json); "
            "build one there with `python -m gd2po prepare --task NAME --out DIR`"
        )


def _load_tokenizer(config: RunConfig, source: str):
    """The model's tokenizer; a path that holds none (or a hub id that cannot be fetched) is a user error."""
    from transformers import AutoTokenizer

    path = config.model.path
    try:
        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(
            f"{source}: model.path: cannot load a tokenizer from {path} ({reason}); "
            "point it at a model dir built with `python -m gd2po prepare --task NAME --out DIR`"
        ) from None


def _claim_run_dir(run_dir: Path, resolved: dict) -> bool:
    """Create RUN_DIR with its config, or check that an existing one holds this same run.

    Returns True when the run is already complete (summary.json exists).
    """
    config_file = run_dir / "config.yaml"
    if config_file.exists():
        stored = yaml.safe_load(config_file.read_text())
        if stored != resolved:
            changed = sorted(_differences(stored, resolved))
            raise UserError(
                f"{run_dir}: holds a run with a different config ({', '.join(changed[:3])} differ); "
                "use another --out or delete that directory"
            )
        return (run_dir / SUMMARY).exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(config_file, yaml.safe_dump(resolved, sort_keys=False))
    return False


def _differences(a, b, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = set(a) | set(b)
        return [d for key in keys for d in _differences(a.get(key), b.get(key), f"{prefix}{key}.")]
    return [] if a == b else [prefix.rstrip(".")]


def train(config: RunConfig, run_dir: str | Path, source: str = "config") -> dict:
    """Train one run into ``run_dir`` (resuming if it holds a checkpoint); return the summary."""
    run_dir = Path(run_dir)
    resolved = to_mapping(config)
    recipe = recipe_for(config.method, config.algorithm, source)
    from gd2po.tasks import get_task

    task = get_task(config.task.name)
    options = task_options(config.task.name, config.task.options, source)
    _check_model_path(config, source)
    grpo_config = build_grpo_config(config, run_dir, recipe, source)
    tokenizer = _load_tokenizer(config, source)  # before RUN_DIR exists: a bad model.path writes nothing
    main_process = grpo_config.process_index == 0  # under torchrun/accelerate, rank 0 owns the files
    if main_process:
        complete = _claim_run_dir(run_dir, resolved)
    else:
        complete = (run_dir / SUMMARY).exists()
    if complete:
        summary = json.loads((run_dir / SUMMARY).read_text())
        print(f"{run_dir}: already complete ({summary['steps']} steps); nothing to do")
        return summary

    started = time.time()
    from transformers.utils import logging as hf_logging

    from gd2po.engine.callbacks import MetricsFile, truncate_metrics
    from gd2po.engine.seeding import deterministic_vllm_environment, effective_seeds

    hf_logging.disable_progress_bar()  # weight loading/saving bars; the run has its own bar

    if config.generation.use_vllm:
        deterministic_vllm_environment()
    checkpoint = latest_checkpoint(run_dir)
    resumed_from = int(checkpoint.name.split("-")[-1]) if checkpoint else None
    if main_process:
        truncate_metrics(run_dir / METRICS, resumed_from or 0)

    trainer = _build_trainer(config, grpo_config, recipe, task, options, tokenizer, run_dir, source)
    metrics = next(cb for cb in trainer.callback_handler.callbacks if isinstance(cb, MetricsFile))
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    _save_final_model(trainer, run_dir / "model")

    seeds = effective_seeds(
        config.seed, config.data_seed, grpo_config.process_index,
        grpo_config.vllm_tensor_parallel_size, config.generation.use_vllm,
    )
    summary = {
        "method": config.method,
        "tau": recipe.tau,
        "recipe": recipe.as_dict(),
        "task": config.task.name,
        "task_metadata": task.run_metadata(options),
        "steps": trainer.state.global_step,
        "resumed_from_step": resumed_from,
        "wall_s": round(time.time() - started, 3),
        "train_runtime_s": metrics.final.get("train_runtime"),
        "final_metrics": _last_row(run_dir / METRICS),
        "seeds": seeds,
        "versions": _versions(),
    }
    if trainer.accelerator.is_main_process:
        write_text_atomic(run_dir / SUMMARY, json.dumps(summary, indent=2) + "\n")
    return summary


def _build_trainer(config: RunConfig, grpo_config, recipe, task, options, tokenizer, run_dir: Path, source: str):
    from torch.utils.tensorboard import SummaryWriter
    from transformers.integrations import TensorBoardCallback
    from transformers.trainer_callback import PrinterCallback

    from gd2po.engine.callbacks import MetricsFile, ProgressBar
    from gd2po.engine.trainer import SuiteGRPOTrainer

    dataset = task.train_dataset(options, config.seed)
    dataset = _drop_long_prompts(dataset, tokenizer, config.generation.max_prompt_length, source)
    callbacks = [MetricsFile(run_dir / METRICS), ProgressBar()]
    if grpo_config.process_index == 0:
        callbacks.append(TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(run_dir / "tb"))))
    try:
        trainer = SuiteGRPOTrainer(
            model=config.model.path,
            reward_funcs=task.reward_functions(options),
            args=grpo_config,
            train_dataset=dataset,
            processing_class=tokenizer,
            callbacks=callbacks,
            recipe=recipe,
            failure_value=config.rewards.failure_value,
        )
    except ValueError as error:
        raise UserError(f"{source}: {str(error).splitlines()[0]}") from None
    except OSError as error:  # a model dir without weights
        raise UserError(
            f"{source}: model.path: {str(error).splitlines()[0]}; "
            "build a model there with `python -m gd2po prepare --task NAME --out DIR`"
        ) from None
    trainer.remove_callback(PrinterCallback)
    return trainer


def _drop_long_prompts(dataset, tokenizer, max_prompt_length: int | None, source: str):
    if max_prompt_length is None:
        return dataset

    def fits(row) -> bool:
        ids = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=True)
        ids = ids["input_ids"] if isinstance(ids, dict) else ids
        return len(ids) <= max_prompt_length

    kept = dataset.filter(fits)
    if len(kept) == 0:
        raise UserError(f"{source}: generation.max_prompt_length: {max_prompt_length} drops every training prompt")
    if len(kept) < len(dataset):
        print(f"dropped {len(dataset) - len(kept)} of {len(dataset)} prompts longer than {max_prompt_length} tokens")
    return kept


def _last_row(path: Path) -> dict:
    lines = path.read_text().splitlines() if path.exists() else []
    return json.loads(lines[-1]) if lines else {}


def _save_final_model(trainer, target: Path) -> None:
    scratch = target.with_name(target.name + ".tmp")
    if trainer.accelerator.is_main_process and scratch.exists():
        shutil.rmtree(scratch)
    trainer.save_model(str(scratch))  # weights and tokenizer; collective under ZeRO-3/FSDP
    if trainer.accelerator.is_main_process:
        replace_dir(scratch, target)


def _versions() -> dict:
    import torch
    import transformers
    import trl

    return {"torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__}
