"""Writes that a crash (SIGKILL, a full disk) never leaves half done: build aside, then rename into place."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one, never a torn one.

    The text goes to a scratch file next to ``path`` (same file system, named by process id so that
    concurrent writers do not share it) and is renamed over ``path``.
    """
    path = Path(path)
    scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text)
    os.replace(scratch, path)


def replace_dir(scratch: str | Path, target: str | Path) -> None:
    """Move the finished directory ``scratch`` to ``target``, replacing any directory already there.

    ``target`` is never half written: a crash leaves the old directory, no directory (between the
    delete and the rename) or the complete new one. ``scratch`` must be on the same file system.
    """
    target = Path(target)
    if target.exists():
        shutil.rmtree(target)
    os.replace(scratch, target)
