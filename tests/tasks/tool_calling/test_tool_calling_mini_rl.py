"""A short RL run on the mini task moves the policy toward its rewards (engine + task rewards wired right)."""

from __future__ import annotations

import json
import statistics

from gd2po.config import from_mapping
from gd2po.engine.run import train


def test_a_few_rl_steps_raise_the_length_reward(briefly_warmed_mini_model, tmp_path):
    config = from_mapping(
        {
            "method": "grpo",
            "seed": 0,
            "task": {"name": "tool_calling_mini", "rewards": "correctness,length", "num_train": 64},
            "model": {"path": str(briefly_warmed_mini_model)},
            "generation": {"num_generations": 4, "max_completion_length": 48},
            "optimization": {"learning_rate": 1.0e-3, "max_steps": 8, "per_device_train_batch_size": 32, "use_cpu": True},
            "logging": {"save_steps": 1000},
        },
        "test",
    )
    train(config, tmp_path / "run")
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 8
    length = [row["reward/length/mean"] for row in rows]
    assert statistics.fmean(length[-3:]) > statistics.fmean(length[:3]) + 0.1, length
    assert all(row["reward/correctness/failures"] == 0 for row in rows)
    assert all(-3.0 <= row["reward/correctness/mean"] <= 3.0 for row in rows)
