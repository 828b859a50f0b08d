"""The RLLA-4K train download: verified against its git blob id, against a local stand-in server."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
import urllib.error

import pytest

from gd2po.errors import UserError
from gd2po.tasks.tool_calling import download
from gd2po.tasks.tool_calling.download import TRAIN_URL, download_verified, git_blob_id

PAYLOAD = b"PAR1 stand-in for train.parquet\n"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture()
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "train.parquet").write_bytes(PAYLOAD)
    handler = functools.partial(QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/train.parquet"
    httpd.shutdown()


def blob_of(data: bytes, tmp_path) -> str:
    probe = tmp_path / "probe"
    probe.write_bytes(data)
    return git_blob_id(probe)


def test_git_blob_id_matches_git(tmp_path):
    probe = tmp_path / "f"
    probe.write_bytes(PAYLOAD)
    expected = subprocess.run(["git", "hash-object", str(probe)], capture_output=True, text=True, check=True).stdout
    assert git_blob_id(probe) == expected.strip()


def test_download_writes_verified_file(server, tmp_path):
    out = tmp_path / "dataset" / "rlla_4k" / "train.parquet"
    assert download_verified(out, server, blob_of(PAYLOAD, tmp_path)) == out
    assert out.read_bytes() == PAYLOAD
    assert [p.name for p in out.parent.iterdir()] == ["train.parquet"]


def test_checksum_mismatch_fails_and_leaves_nothing(server, tmp_path):
    out = tmp_path / "train.parquet"
    with pytest.raises(UserError, match="does not match the expected") as error:
        download_verified(out, server, download.TRAIN_BLOB_ID)
    assert download.TRAIN_BLOB_ID in str(error.value)
    assert list(tmp_path.iterdir()) == [tmp_path / "served"]


def test_verified_file_is_not_fetched_again(tmp_path):
    out = tmp_path / "train.parquet"
    out.write_bytes(PAYLOAD)

    def no_network(*args, **kwargs):
        raise AssertionError("fetched although the file was already verified")

    download_verified(out, "http://unused", blob_of(PAYLOAD, tmp_path), opener=no_network)


def test_offline_message_says_what_to_download_and_where(tmp_path):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    out = tmp_path / "dataset" / "train.parquet"
    with pytest.raises(UserError) as error:
        download_verified(out, opener=offline)
    message = str(error.value)
    assert TRAIN_URL in message and str(out) in message and download.TRAIN_BLOB_ID in message
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_cli_exits_2_with_one_line_error(server, tmp_path):
    out = tmp_path / "train.parquet"
    result = subprocess.run(
        [sys.executable, "-m", "gd2po.tasks.tool_calling.download", "--out", str(out), "--url", server],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert not out.exists()
