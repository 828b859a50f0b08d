"""Running Snakemake on this repository's workflow from tests: CPU only, no SLURM."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {
    "default": REPO / "config" / "config.yaml",
    "test": REPO / "config" / "test" / "config.yaml",
    "paper_tool_calling": REPO / "config" / "paper" / "tool_calling.yaml",
    "paper_safety": REPO / "config" / "paper" / "safety.yaml",
}


def snakemake(*args, cwd: Path = REPO, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m snakemake ARGS` from the repository root (where `--profile slurm` is found)."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *map(str, args)],
        cwd=cwd,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def job_counts(text: str) -> dict[str, int]:
    """The first `Job stats` table of a dry run: {rule: count}."""
    block = text.split("Job stats:", 1)[1]
    counts = {}
    for line in block.splitlines()[3:]:
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not match:
            break
        counts[match.group(1)] = int(match.group(2))
    counts.pop("total", None)
    return counts


def write_config(path: Path, base: str = "test", edit=None, **changes) -> Path:
    """A copy of one of the repository's configs with top-level keys replaced and/or `edit(config)` applied."""
    config = yaml.safe_load(CONFIGS[base].read_text())
    config.update(changes)
    if edit is not None:
        edit(config)
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


def eight_gpu_tool_calling(path: Path) -> Path:
    """The paper tool-calling config with 8 GPUs per run (as a 7B model would need)."""
    return write_config(path, "paper_tool_calling", edit=lambda c: c["suites"]["tool_calling"].update(gpus=8))
