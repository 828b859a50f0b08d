"""Two processes on CPU (torchrun, gloo): advantages on the gathered batch, DAPO agreement, one writer."""

import json
import subprocess
import sys

import pytest
from engine_helpers import REPO, SMOKE, read_metrics


def torchrun(tiny_model, out, *sets):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "gd2po", "train",
        "--config", str(SMOKE), "--out", str(out), "--set", f"model.path={tiny_model}",
        "--set", "optimization.per_device_train_batch_size=4", "--set", "logging.save_steps=1000",
    ]
    for item in sets:
        command += ["--set", item]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_two_processes_share_one_global_batch(tiny_model, tmp_path):
    sets = ["method=dapo", "algorithm.dynamic_sampling={metric: correctness, max_rounds: 3}"]
    result = torchrun(tiny_model, tmp_path / "run", *sets)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_metrics(tmp_path / "run")
    assert [row["step"] for row in rows] == [1, 2]  # written once, by rank 0
    for row in rows:
        # 2 processes x 4 completions = 8 rollouts in 2 groups of 4: the reward statistics are over
        # all 8 (a 0/1 reward with k ones has unbiased std sqrt(k (8 - k) / 56)), not one process's 4
        ones = round(row["reward/correctness/mean"] * 8)
        assert row["reward/correctness/std"] == pytest.approx((ones * (8 - ones) / 56) ** 0.5, abs=1e-6)
        assert row["dapo/kept_groups"] + row["dapo/shortfall_groups"] == 2
        assert 1 <= row["dapo/rounds"] <= 3
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["steps"] == 2
    assert len(list((tmp_path / "run" / "tb").iterdir())) == 1
