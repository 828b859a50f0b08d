"""Writes that a crash (SIGKILL, a full disk) never leaves half done: build aside, then rename into place."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, BinaryIO, Iterator


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` so that readers see the old file or the whole new one, never a torn one."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a torn one."""
    with atomic_file(path) as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[BinaryIO]:
    """A binary handle on a scratch file next to ``path``, renamed over ``path`` when the block ends
    normally and removed when it raises (a check inside the block can still refuse the file).

    The scratch file has a fresh exclusive name (same folder, so the rename is atomic; concurrent
    writers never share it) and the usual permissions, 0666 less the umask; mkstemp's 0600 would
    survive the rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(scratch, "xb") as handle:
            yield handle
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)


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
