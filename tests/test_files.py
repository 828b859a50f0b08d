"""Atomic writes: the target holds the old content or the whole new one, and no scratch file stays."""

from __future__ import annotations

import os
import stat

import pytest

from gd2po.files import write_bytes_atomic, write_json_atomic, write_text_atomic


def test_writes_create_folders_and_replace_the_old_file(tmp_path):
    path = tmp_path / "a" / "b" / "out.json"
    write_json_atomic(path, {"z": 1, "a": [1.5]})
    assert path.read_text() == '{\n  "a": [\n    1.5\n  ],\n  "z": 1\n}\n'
    write_text_atomic(path, "new ✓")
    assert path.read_text(encoding="utf-8") == "new ✓"
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]


def test_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "table.md", "| a |\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "table.md").stat().st_mode) == 0o644  # not mkstemp's 0600


def test_a_failed_write_keeps_the_old_file_and_leaves_no_scratch(tmp_path):
    path = tmp_path / "figure.png"
    write_bytes_atomic(path, b"old")
    with pytest.raises(TypeError):
        write_bytes_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"]
