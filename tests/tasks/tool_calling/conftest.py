import os

import pytest

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_name] = "1"
# One torch thread: the tiny models gain nothing from more, and idle OpenMP threads spin on a shared machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def briefly_warmed_mini_model(tmp_path_factory):
    """A mini-size model after a short warm start on the mini task: the format and tool names, not yet the copy."""
    import torch

    from gd2po.models.prepare import prepare_model

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    out = tmp_path_factory.mktemp("models") / "tool-calling-mini"
    prepare_model("tool_calling_mini", out, seed=0, size="mini", warmstart_steps=150,
                  task_overrides={"warmstart_examples": 600, "num_train": 64}, probe_tokens=8)
    return out
