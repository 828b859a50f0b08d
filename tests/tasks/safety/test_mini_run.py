"""End to end on CPU: warm-start a tiny policy on the mini task, train it briefly with GRPO, and check
that both rewards went up in training and the held-out reward with them (greedy, as evaluated).

It follows the embedded default: a 300-step warm start (prepare) and the mini run config."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
RUN_CONFIG = REPO / "config" / "runs" / "safety_mini.yaml"


def held_out_metrics(run_dir: Path, model_dir: Path, run_config: dict) -> dict:
    from gd2po.evaluate import safety
    from gd2po.evaluate.context import EvalContext

    context = EvalContext(run_dir=run_dir, model_dir=model_dir, run_config=run_config, batch_size=144)
    return safety.BENCHMARKS["mini"](context)


@pytest.mark.slow
def test_a_short_grpo_run_raises_both_rewards(tmp_path):
    from gd2po import config as run_config
    from gd2po.engine.run import train
    from gd2po.models.prepare import prepare_model

    model = tmp_path / "safety-mini"
    prepare_model("safety_mini", model, seed=0, size="mini", warmstart_steps=300)
    config = run_config.load(RUN_CONFIG, [f"model.path={model}", "method=grpo", "seed=0"])
    train(config, tmp_path / "run")

    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == config.optimization.max_steps

    def mean(key, part):
        return sum(row[key] for row in part) / len(part)

    # Training (T = 0.7 samples): both rewards rise from the first steps to the last ones.
    for reward in ("useful", "harmless"):
        assert mean(f"reward/{reward}/mean", rows[-3:]) > mean(f"reward/{reward}/mean", rows[:3]) + 0.05

    # Held out (greedy): more helpful, no less harmless.
    resolved = run_config.to_mapping(config)
    before = held_out_metrics(tmp_path / "base", model, resolved)
    after = held_out_metrics(tmp_path / "run", tmp_path / "run" / "model", resolved)
    assert after["useful"] > before["useful"] + 0.1
    assert after["harmless"] >= before["harmless"]
    assert after["reward"] > before["reward"]
