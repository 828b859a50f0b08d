"""Helpers shared by the engine tests (a module of its own: two `conftest` modules clash on import)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "config" / "runs" / "smoke.yaml"
TIMING_KEYS = ("time/step_s",)


def smoke_config(model: Path, *sets: str):
    from gd2po import config

    return config.load(SMOKE, [f"model.path={model}", "logging.save_steps=1000", *sets])


def read_metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def without_timing(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in rows]


def gd2po(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """`python -m gd2po ARGS` in a subprocess, from the repository root."""
    return subprocess.run([sys.executable, "-m", "gd2po", *args], capture_output=True, text=True, cwd=REPO, **kwargs)


def make_trainer(model: Path, tmp_path: Path, recipe, reward_funcs=None, *sets: str):
    """A SuiteGRPOTrainer on the toy task with ``recipe``, built as `train` builds it."""
    from transformers import AutoTokenizer

    from gd2po.engine.run import build_grpo_config
    from gd2po.engine.trainer import SuiteGRPOTrainer
    from gd2po.tasks.toy import ToyTask

    config = smoke_config(model, *sets)
    task = ToyTask()
    options = task.Options()
    trainer = SuiteGRPOTrainer(
        model=str(model),
        reward_funcs=reward_funcs or task.reward_functions(options),
        args=build_grpo_config(config, tmp_path, recipe),
        train_dataset=task.train_dataset(options, 0),
        processing_class=AutoTokenizer.from_pretrained(model),
        recipe=recipe,
    )
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer's loop; we call the loss directly
    trainer.model.train()
    return trainer


def generation_batch(trainer, prompts=(0, 1)) -> list[dict]:
    """The local generation batch TRL's sampler would give: each prompt repeated G times."""
    rows = [dict(trainer.train_dataset[i]) for i in prompts]
    return [row for row in rows for _ in range(trainer.num_generations)]
