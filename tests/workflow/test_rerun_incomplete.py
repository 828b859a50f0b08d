"""A training job killed mid-run (a preempted node, an OOM kill) keeps its checkpoints, and after
`snakemake --unlock` the next `snakemake` resumes it from the last one instead of starting over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from workflow_helpers import REPO, output_of, snakemake, write_config

pytestmark = pytest.mark.slow

RUN = "results/tool_calling/3rewards/grpo/seed0"


def test_a_killed_training_job_resumes_from_its_checkpoint(tmp_path):
    def six_steps_with_checkpoints(config):
        config["suites"]["tool_calling"]["set"] = {"optimization.max_steps": 6, "logging.save_steps": 2}

    configfile = write_config(tmp_path / "config.yaml", edit=six_steps_with_checkpoints)
    workdir = tmp_path / "work"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    target = f"{RUN}/summary.json"
    arguments = ["--cores", "1", "--configfile", configfile, "--directory", workdir, target]
    process = subprocess.Popen(
        [sys.executable, "-m", "snakemake", *map(str, arguments)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    run = workdir / RUN
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if (run / "checkpoints" / "checkpoint-2").is_dir() and len(_steps(run)) >= 3:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # snakemake and its job, as a scheduler would
    process.wait()
    assert not (run / "summary.json").exists(), "the job finished before it could be killed"
    assert (run / "checkpoints" / "checkpoint-2").is_dir()

    # A killed snakemake leaves its lock behind; `--unlock` is the documented first step.
    assert snakemake("--unlock", *arguments, env=env).returncode == 0
    # summary.json, the only declared output, is written last, so the job is simply not done: a plain
    # rerun (or --rerun-incomplete) starts it again, and the engine resumes from the checkpoint.
    result = snakemake(*arguments, env=env, timeout=600)
    assert result.returncode == 0, output_of(result)[-4000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["resumed_from_step"] >= 2
    assert _steps(run) == list(range(1, 7))


def _steps(run) -> list[int]:
    path = run / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["step"] for line in path.read_text().splitlines() if line.strip().endswith("}")]
