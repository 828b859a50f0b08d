"""Download the RLLA-4K training split (not shipped) and verify its git blob id.

    python -m gd2po.tasks.tool_calling.download --out dataset/rlla_4k/train.parquet

The file is written through a temporary file and moved into place only after its git blob id
matched, so a failed or tampered download never leaves a partial ``train.parquet``. Offline, the
error says what to download and where to put it.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from gd2po.errors import UserError
from gd2po.files import atomic_file

TRAIN_URL = "https://raw.githubusercontent.com/qiancheng0/ToolRL/main/dataset/rlla_4k/train.parquet"
TRAIN_BLOB_ID = "0ddc730c556e4d26449dbdb55a1b28be824a8bfe"
TRAIN_PATH = Path("dataset/rlla_4k/train.parquet")
DOWNLOAD_COMMAND = "python -m gd2po.tasks.tool_calling.download"


def git_blob_id(path: Path) -> str:
    """``git hash-object PATH``: sha1 over ``b"blob <size>\\0"`` followed by the file bytes."""
    digest = hashlib.sha1(f"blob {Path(path).stat().st_size}\0".encode())
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _manual_instructions(url: str, out: Path, blob_id: str) -> str:
    return (
        f"download {url} on a machine with internet access (e.g. `curl -L -o train.parquet {url}`), "
        f"put it at {out} and check that `git hash-object {out}` prints {blob_id}"
    )


def download_verified(
    out: Path = TRAIN_PATH,
    url: str = TRAIN_URL,
    blob_id: str = TRAIN_BLOB_ID,
    *,
    timeout_s: float = 60.0,
    opener: Callable = urllib.request.urlopen,
) -> Path:
    """Fetch ``url`` to ``out`` unless ``out`` already has ``blob_id``; raise UserError on any failure."""
    out = Path(out)
    if out.is_file() and git_blob_id(out) == blob_id:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as handle:
        try:
            with opener(url, timeout=timeout_s) as response:
                shutil.copyfileobj(response, handle)
        except (urllib.error.URLError, OSError) as error:
            raise UserError(f"could not download {url} ({error}); {_manual_instructions(url, out, blob_id)}") from None
        handle.flush()
        got = git_blob_id(Path(handle.name))
        if got != blob_id:
            raise UserError(
                f"{url}: git blob id {got} does not match the expected {blob_id}; the file was not written. "
                f"The upstream file changed or the download was corrupted: {_manual_instructions(url, out, blob_id)}"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gd2po.tasks.tool_calling.download", description="Download and verify RLLA-4K train.parquet."
    )
    parser.add_argument("--out", type=Path, default=TRAIN_PATH, help=f"destination (default: {TRAIN_PATH})")
    parser.add_argument("--url", default=TRAIN_URL, help="source URL (default: the ToolRL repository)")
    parser.add_argument("--timeout", type=float, default=60.0, help="network timeout in seconds")
    args = parser.parse_args(argv)
    try:
        path = download_verified(args.out, args.url, timeout_s=args.timeout)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{path}: ok (git blob {TRAIN_BLOB_ID})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
