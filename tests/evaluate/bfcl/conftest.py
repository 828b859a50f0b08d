"""BFCL test fixtures: the eval venv (or a skip with the fix) and a toy checkpoint dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bfcl_fakes import write_toy_checkpoint

from gd2po.evaluate.bfcl.runner import BFCL_VERSION, DEFAULT_EVAL_PYTHON, EVAL_PYTHON_ENV, SETUP_SCRIPT


@pytest.fixture(scope="session")
def eval_python() -> Path:
    path = Path(os.environ.get(EVAL_PYTHON_ENV) or DEFAULT_EVAL_PYTHON)
    if not path.is_file():
        pytest.skip(f"BFCL eval venv not found at {path}: create it with `bash {SETUP_SCRIPT}` (bfcl-eval=={BFCL_VERSION})")
    return path


@pytest.fixture(scope="session")
def toy_checkpoint(tmp_path_factory) -> Path:
    return write_toy_checkpoint(tmp_path_factory.mktemp("bfcl") / "toy-model")
