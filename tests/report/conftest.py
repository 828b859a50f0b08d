"""Fake run dirs shaped like `python -m gd2po train` + `evaluate` output, with known numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

# Final held-out accuracy per variant and seed: chosen so that means, CIs and the best row are known.
ACCURACY = {
    "base": [0.30, 0.30, 0.30],
    "grpo": [0.50, 0.52, 0.54],
    "gdpo": [0.55, 0.57, 0.59],
    "gd2po_snr": [0.60, 0.61, 0.65],
}
TAUS = {"gd2po_snr": 0.8}


def reward_curve(variant: str, seed: int, step: int, steps: int) -> float:
    """Rises towards a variant-specific ceiling; faster variants reach it sooner."""
    speed = {"base": 0.0, "grpo": 0.5, "gdpo": 1.0, "gd2po_snr": 2.0}.get(variant, 1.0)
    return 1.0 - math.exp(-speed * 4 * step / steps) + 0.01 * seed


def write_run(run_dir: Path, variant: str, seed: int, accuracy: float, steps: int = 20, tau: float | None = None) -> None:
    run_dir.mkdir(parents=True)
    config = {"method": variant if variant != "base" else "grpo", "seed": seed, "algorithm": {}}
    if tau is not None:
        config["algorithm"]["tau"] = tau
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    with open(run_dir / "metrics.jsonl", "w") as handle:
        for step in range(1, steps + 1):
            correctness = reward_curve(variant, seed, step, steps)
            record = {
                "step": step,
                "loss": 0.1,
                "reward/correctness/mean": correctness,
                "reward/correctness/std": 0.1,
                "reward/length/mean": 0.5 - 0.2 * correctness,
                "reward/length/std": 0.1,
                "adv/conflict_rate": 0.4 - 0.01 * step,
                "adv/keep_ratio": 1.0 if variant in ("grpo", "gdpo") else 0.7,
                "adv/cancellation": 0.2,
                "adv/abs_mean": 0.8,
                "time/step_s": 0.5,
            }
            handle.write(json.dumps(record) + "\n")
    (run_dir / "summary.json").write_text(json.dumps({"steps": steps}))
    (run_dir / "eval.json").write_text(
        json.dumps(
            {
                "suite": "tool_calling",
                "benchmarks": ["mini"],
                "metrics": {"mini/accuracy": accuracy, "mini/format": 0.9, "mini/complete": True},
                "meta": {},
            }
        )
    )


@pytest.fixture
def setting_dir(tmp_path: Path) -> Path:
    """results/tool_calling/3rewards with base, grpo, gdpo and gd2po_snr on seeds 0-2."""
    root = tmp_path / "results" / "tool_calling" / "3rewards"
    for variant, accuracies in ACCURACY.items():
        for seed, accuracy in enumerate(accuracies):
            write_run(root / variant / f"seed{seed}", variant, seed, accuracy, tau=TAUS.get(variant))
    return root
