"""Trainer callbacks: `metrics.jsonl` (one JSON object per logging step) and a terminal progress bar."""

from __future__ import annotations

import json
import math
from pathlib import Path

from transformers import TrainerCallback

from gd2po.files import write_text_atomic

# TRL's name -> the suite's
RENAMED = {"step_time": "time/step_s"}
FIRST_KEYS = ("step", "loss")


def _plain(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; a metric with no valid value is null
    return value


class MetricsFile(TrainerCallback):
    """Appends ``{"step": N, "loss": ..., ...}`` to ``path`` at every logging step (main process only).

    The end-of-training summary that `Trainer` logs (``train_runtime`` ...) is kept in ``final``
    instead of being written as a step.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.final: dict = {}

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        if "train_runtime" in logs:
            self.final = dict(logs)
            return
        row = {"step": state.global_step}
        row.update({RENAMED.get(key, key): _plain(value) for key, value in logs.items()})
        ordered = {key: row[key] for key in FIRST_KEYS if key in row}
        ordered.update({key: row[key] for key in sorted(row) if key not in ordered})
        with self.path.open("a") as stream:
            stream.write(json.dumps(ordered) + "\n")


def truncate_metrics(path: Path, last_step: int) -> None:
    """Keep the rows of steps <= ``last_step`` (the checkpoint a resumed run restarts from).

    Rows after it are re-logged by the resumed run; a half-written last line (SIGKILL) is dropped.
    """
    path = Path(path)
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int) and row["step"] <= last_step:
            kept.append(line)
    write_text_atomic(path, "".join(line + "\n" for line in kept))


class ProgressBar(TrainerCallback):
    """A tqdm bar over optimizer steps and one summary line per logged step."""

    SUMMARY = (("loss", "loss {:.4f}"), ("reward", "reward {:.3f}"), ("adv/keep_ratio", "keep {:.2f}"),
               ("adv/conflict_rate", "conflict {:.2f}"), ("dapo/rounds", "rounds {:.0f}"), ("step_time", "{:.2f}s"))

    def __init__(self):
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="train", unit="step", dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is None or not logs or "train_runtime" in logs:
            return
        parts = [fmt.format(logs[key]) for key, fmt in self.SUMMARY if isinstance(logs.get(key), (int, float))]
        self.bar.write(f"step {state.global_step}/{state.max_steps}: " + ", ".join(parts))

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
