"""The sbatch line of a training job, captured with fake `sbatch`, `sacctmgr` and `scontrol` on PATH."""

from __future__ import annotations

import os
import shlex

import pytest

from workflow_helpers import CONFIGS, eight_gpu_tool_calling, output_of, snakemake

TARGET = "results/tool_calling/qwen2.5-1.5b_clf/gd2po_snr/seed0/summary.json"


def fake_slurm(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "sbatch.log"
    scripts = {
        "sbatch": f'#!/bin/sh\necho "$@" >> {shlex.quote(str(log))}\nexit 1\n',  # log the call, submit nothing
        "sacctmgr": "#!/bin/sh\necho my_account\n",  # the account the profile names exists
        "scontrol": "#!/bin/sh\nexit 0\n",
    }
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    env = os.environ.copy()
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return env, log


def submit_training_job(tmp_path, workdir, *extra, config=CONFIGS["paper_tool_calling"]):
    env, log = fake_slurm(tmp_path)
    train_split = workdir / "dataset" / "rlla_4k" / "train.parquet"
    train_split.parent.mkdir(parents=True)
    train_split.touch()  # present, so the job submitted is the training job itself
    result = snakemake(
        "--profile", "slurm", *extra, "--retries", "0",
        "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "1",
        "--configfile", config, "--directory", workdir, TARGET,
        env=env, timeout=120,
    )
    assert log.exists(), output_of(result)
    return log.read_text().splitlines(), result


def test_a_training_job_asks_for_one_gpu_eight_cpus_and_the_gpu_partition(tmp_path, workdir):
    lines, result = submit_training_job(tmp_path, workdir)
    assert result.returncode != 0  # the fake sbatch refuses every job
    assert len(lines) == 1, lines
    args = lines[0].split()
    assert "--gpus=1" in args
    assert "--cpus-per-task=8" in args
    assert "-p gpu" in lines[0] and "-A my_account" in lines[0]
    assert "--mem 64000" in lines[0] and "-t 720" in lines[0]
    assert "--requeue" in args
    assert "--ntasks=1" not in args  # GPU jobs get no --ntasks
    assert "logs/slurm/rule_train/" in lines[0]  # the dedicated SLURM log folder
    assert "--target-jobs" in lines[0] and "train:" in lines[0]


def test_the_multi_gpu_profile_asks_for_a_whole_node(tmp_path, workdir):
    config = eight_gpu_tool_calling(tmp_path / "eight.yaml")
    lines, _ = submit_training_job(tmp_path, workdir, "--profile", "slurm/multi_gpu", config=config)
    args = lines[0].split()
    assert "--gpus=8" in args and "--cpus-per-task=64" in args
    assert "--mem 480000" in lines[0] and "-t 1440" in lines[0]
