import os
from pathlib import Path

import pytest
import torch

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_name] = "1"
# One torch thread per process (subprocesses inherit it): the tiny models gain nothing from more,
# and on a shared 2-core machine idle OpenMP threads spin and slow every test down severalfold.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny Qwen2 warm-started on the toy task (built once per session, a few seconds)."""
    from gd2po.models.prepare import prepare_model

    out = tmp_path_factory.mktemp("models") / "toy-tiny"
    prepare_model("toy", out, seed=0, size="tiny", warmstart_steps=150)
    return out
