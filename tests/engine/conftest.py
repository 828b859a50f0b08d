from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny Qwen2 warm-started on the toy task (built once per session, a few seconds)."""
    from gd2po.models.prepare import prepare_model

    out = tmp_path_factory.mktemp("models") / "toy-tiny"
    prepare_model("toy", out, seed=0, size="tiny", warmstart_steps=150)
    return out
