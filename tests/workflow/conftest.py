"""Fixtures of the workflow tests (helpers: workflow_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch `--directory` so that no test writes into the repository."""
    directory = tmp_path / "work"
    directory.mkdir()
    return directory
