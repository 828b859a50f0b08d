"""Writes that a crash (SIGKILL, a full disk) never leaves half done: build aside, then rename into place."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` so that readers see the old file or the whole new one, never a torn one."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a torn one.

    The data go to a fresh scratch file in the same folder (same file system; a unique name, so
    concurrent writers do not share it), which is renamed over ``path``; on any error it is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, scratch = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | Path, payload: Any) -> None:
    """``payload`` as indented JSON with sorted keys, written by :func:`write_text_atomic`."""
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def replace_dir(scratch: str | Path, target: str | Path) -> None:
    """Move the finished directory ``scratch`` to ``target``, replacing any directory already there.

    ``target`` is never half written: a crash leaves the old directory, no directory (between the
    delete and the rename) or the complete new one. ``scratch`` must be on the same file system.
    """
    target = Path(target)
    if target.exists():
        shutil.rmtree(target)
    os.replace(scratch, target)
