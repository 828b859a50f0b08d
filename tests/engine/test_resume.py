"""SIGKILL mid-run, rerun the same command: training resumes from the last checkpoint and
metrics.jsonl ends with every step exactly once."""

import json
import signal
import subprocess
import sys
import time

import pytest
from engine_helpers import REPO, SMOKE, read_metrics

from gd2po.engine.callbacks import truncate_metrics


def test_truncate_metrics_keeps_steps_up_to_the_checkpoint_and_drops_a_torn_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": s, "loss": 0.1}) + "\n" for s in (1, 2, 3)) + '{"step": 4, "lo')
    truncate_metrics(path, 2)
    assert [row["step"] for row in map(json.loads, path.read_text().splitlines())] == [1, 2]


@pytest.mark.slow
def test_killed_run_resumes_without_duplicated_or_lost_steps(tiny_model, tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "gd2po", "train", "--config", str(SMOKE), "--out", str(out),
        "--set", f"model.path={tiny_model}", "--set", "optimization.max_steps=8", "--set", "logging.save_steps=2",
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = out / "metrics.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 3:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "summary.json").exists(), "the run finished before it could be killed"
    checkpoints = sorted(int(p.name.split("-")[1]) for p in (out / "checkpoints").glob("checkpoint-*"))
    assert checkpoints, "no checkpoint was written before the kill"
    before = {row["step"]: row for row in read_metrics(out)}

    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_metrics(out)
    assert [row["step"] for row in rows] == list(range(1, 9))
    summary = json.loads((out / "summary.json").read_text())
    resumed = summary["resumed_from_step"]
    assert resumed in checkpoints and resumed >= 2 and summary["steps"] == 8
    for row in rows[:resumed]:  # history up to the checkpoint is kept, not recomputed
        assert row == before[row["step"]]
