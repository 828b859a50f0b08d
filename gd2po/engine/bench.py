"""Benchmark (not a test): step time of the GD²PO adapter vs TRL's own GDPO, measured in one run.

Run it as `python -m gd2po bench engine` (options: `python -m gd2po bench engine --help`).

The reference is TRL 1.16's `GRPOTrainer` with ``multi_objective_aggregation="normalize_then_sum"``
(GDPO, huggingface/trl#4785) and the same clip settings; the candidate is `SuiteGRPOTrainer` with a
GD²PO recipe (guarded rewards, core advantages on the gathered batch, core loss). Both train the
same model on the same prompts with learning rate 0 and the same seed, so step i of every run
generates exactly the same completions and the difference is the adapter's own cost. Runs
alternate between the two; the first step of each run is dropped.

The headline ratio is the median wall-clock step time of the adapter over the reference's. Two
secondary figures help on a shared machine: the ratio of the best (minimum over repeats) time of
each identical step, and the ratio of median process CPU times. Goal: <= 1.05.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", default="gd2po_snr", help="recipe the adapter runs (default gd2po_snr)")
    parser.add_argument("--size", default="tiny", help="model size preset (tiny on CPU; qwen2.5-0.5b-shape on GPU)")
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per variant, alternating")
    parser.add_argument("--batch", type=int, default=8, help="completions per step (per_device_train_batch_size)")
    parser.add_argument("--num-generations", type=int, default=4)
    parser.add_argument("--max-completion-length", type=int, default=16)
    parser.add_argument(
        "--threads", type=int, default=1,
        help="torch CPU threads (default 1: on a shared CPU, idle OpenMP threads spin and swamp the timing)",
    )
    parser.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")


def _build_model(directory: Path, size: str) -> None:
    from gd2po.models.builder import build_model, preset
    from gd2po.models.tokenizer import train_tokenizer
    from gd2po.tasks.toy import ToyTask

    task = ToyTask()
    tokenizer = train_tokenizer(task.tokenizer_corpus(task.Options(), 0), min(preset(size)["vocab_size"], 1024))
    model = build_model(tokenizer, size, seed=0)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def _step_times(trainer) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each optimizer step (generation included), first step dropped."""
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback

    class StepClock(TrainerCallback):
        def __init__(self):
            self.wall, self.cpu = [], []

        def on_step_begin(self, args, state, control, **kwargs):
            self.started = (time.perf_counter(), time.process_time())

        def on_step_end(self, args, state, control, **kwargs):
            self.wall.append(time.perf_counter() - self.started[0])
            self.cpu.append(time.process_time() - self.started[1])

    clock = StepClock()
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(clock)
    trainer.train()
    return clock.wall[1:], clock.cpu[1:]


def run(args: argparse.Namespace) -> int:
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging
    from trl import GRPOTrainer

    from gd2po.config import from_mapping, recipe_for
    from gd2po.engine.run import build_grpo_config
    from gd2po.engine.trainer import SuiteGRPOTrainer
    from gd2po.tasks.toy import ToyTask

    torch.set_num_threads(args.threads)
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    gpu = torch.cuda.is_available()
    task = ToyTask()
    options = task.Options()
    dataset = task.train_dataset(options, 0)
    with tempfile.TemporaryDirectory(prefix="gd2po-bench-") as scratch:
        model_dir = Path(scratch) / "model"
        _build_model(model_dir, args.size)
        config = from_mapping(
            {
                "method": args.method,
                "task": {"name": "toy"},
                "model": {"path": str(model_dir), "dtype": "bfloat16" if gpu else "float32"},
                "generation": {"num_generations": args.num_generations, "max_completion_length": args.max_completion_length},
                "optimization": {
                    "learning_rate": 0.0, "max_steps": args.steps, "per_device_train_batch_size": args.batch,
                    "bf16": gpu, "use_cpu": not gpu,
                },
                "logging": {"logging_steps": 1, "save_steps": 10**9},
            },
            "bench",
        )
        recipe = recipe_for(config.method, config.algorithm, "bench")
        tokenizer = AutoTokenizer.from_pretrained(model_dir)

        def grpo_args(output: str, **overrides):
            grpo = build_grpo_config(config, Path(scratch) / output, recipe)
            grpo.save_strategy = "no"
            for key, value in overrides.items():
                setattr(grpo, key, value)
            return grpo

        def adapter():
            return SuiteGRPOTrainer(
                model=str(model_dir), reward_funcs=task.reward_functions(options), args=grpo_args("adapter"),
                train_dataset=dataset, processing_class=tokenizer, recipe=recipe,
            )

        def reference():
            return GRPOTrainer(
                model=str(model_dir), reward_funcs=task.reward_functions(options),
                args=grpo_args("trl", multi_objective_aggregation="normalize_then_sum"),
                train_dataset=dataset, processing_class=tokenizer,
            )

        names = ("adapter", "trl_normalize_then_sum")
        wall: dict[str, list[list[float]]] = {name: [] for name in names}  # [repeat][step]
        cpu: dict[str, list[list[float]]] = {name: [] for name in names}
        started = time.time()
        for repeat in range(args.repeats):
            order = [("adapter", adapter), ("trl_normalize_then_sum", reference)]
            for name, make in order if repeat % 2 == 0 else order[::-1]:
                run_wall, run_cpu = _step_times(make())
                wall[name].append(run_wall)
                cpu[name].append(run_cpu)

    def best_total(runs: list[list[float]]) -> float:
        return sum(min(step) for step in zip(*runs))

    def median(runs: list[list[float]]) -> float:
        return statistics.median(t for run in runs for t in run)

    ratio = median(wall["adapter"]) / median(wall["trl_normalize_then_sum"])
    report = {
        "device": torch.cuda.get_device_name(0) if gpu else "cpu",
        "method": args.method,
        "size": args.size,
        "steps_per_run": args.steps,
        "repeats": args.repeats,
        "torch_threads": args.threads,
        "best_step_wall_s": {name: best_total(runs) / len(runs[0]) for name, runs in wall.items()},
        "median_step_wall_s": {name: median(runs) for name, runs in wall.items()},
        "median_step_cpu_s": {name: median(runs) for name, runs in cpu.items()},
        "ratio_adapter_over_trl": ratio,
        "ratio_best_wall": best_total(wall["adapter"]) / best_total(wall["trl_normalize_then_sum"]),
        "ratio_median_cpu": median(cpu["adapter"]) / median(cpu["trl_normalize_then_sum"]),
        "goal": 1.05,
        "wall_s": round(time.time() - started, 1),
    }
    medians = report["median_step_wall_s"]
    print(
        f"engine bench on {report['device']} ({args.size}, {args.method}): median step adapter "
        f"{medians['adapter']:.4f} s, TRL normalize_then_sum {medians['trl_normalize_then_sum']:.4f} s, "
        f"ratio {ratio:.3f} (goal <= 1.05; best-of-{args.repeats} ratio {report['ratio_best_wall']:.3f}, "
        f"CPU-time ratio {report['ratio_median_cpu']:.3f})"
    )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n")
    return 0
