"""The main-environment side of BFCL: input checks, server wait and launch, result checks (no bfcl needed)."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest
from bfcl_fakes import FakeCompletionServer, write_toy_checkpoint

from gd2po.errors import UserError
from gd2po.evaluate.bfcl import BfclError, InferenceFailed, ServerNotReady, evaluate_bfcl
from gd2po.evaluate.bfcl.runner import (
    check_results,
    drop_failed_results,
    normalize_url,
    prepare_work_dir,
    serving,
    wait_for_server,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_checkpoint_without_tokenizer_files_is_a_user_error_naming_the_path(tmp_path):
    model_dir = tmp_path / "ckpt"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    with pytest.raises(UserError, match=rf"{model_dir}: missing tokenizer_config.json, tokenizer.json"):
        evaluate_bfcl(model_dir, tmp_path / "bfcl")
    assert not (tmp_path / "bfcl").exists()


def test_checkpoint_without_chat_template_is_a_user_error(tmp_path):
    model_dir = write_toy_checkpoint(tmp_path / "ckpt", chat_template=None)
    with pytest.raises(UserError, match=rf"{model_dir}: the tokenizer has no chat template"):
        evaluate_bfcl(model_dir, tmp_path / "bfcl")


def test_missing_checkpoint_and_unknown_category_are_user_errors(tmp_path, toy_checkpoint):
    with pytest.raises(UserError, match="checkpoint dir not found"):
        evaluate_bfcl(tmp_path / "nowhere", tmp_path / "bfcl")
    with pytest.raises(UserError, match=r"\['simple_python'\].*allowed \(v3 names\): simple, java"):
        evaluate_bfcl(toy_checkpoint, tmp_path / "bfcl", categories=["simple_python"])


def test_eval_python_must_exist_and_have_the_pinned_bfcl(tmp_path, toy_checkpoint):
    missing = tmp_path / "venv" / "bin" / "python"
    with pytest.raises(UserError, match=rf"{missing}: BFCL evaluation Python not found; create the eval env with `bash .*setup_env.sh`"):
        evaluate_bfcl(toy_checkpoint, tmp_path / "bfcl", eval_python=missing)
    with pytest.raises(UserError, match=r"has no bfcl-eval, needs bfcl-eval==2025.8.6.2"):
        evaluate_bfcl(toy_checkpoint, tmp_path / "bfcl", eval_python=Path(sys.executable))


def test_a_server_that_never_answers_fails_within_the_timeout_naming_the_url():
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(ServerNotReady, match=rf"{url}/v1/models did not become healthy within 1.5 s .*raise timeout_s"):
        wait_for_server(url, "/ckpt", timeout_s=1.5)
    assert time.monotonic() - started < 3.5


def test_a_server_that_stays_unhealthy_fails_with_its_last_status():
    with FakeCompletionServer("/ckpt", lambda prompt: "", models_status=503) as server:
        with pytest.raises(ServerNotReady, match=rf"{server.url}/v1/models did not become healthy .*503"):
            wait_for_server(server.url, "/ckpt", timeout_s=1)


def test_a_server_serving_another_model_is_rejected_at_once():
    with FakeCompletionServer("/other/ckpt", lambda prompt: "") as server:
        wait_for_server(server.url, "/other/ckpt", timeout_s=1)
        with pytest.raises(UserError, match=r"serves \['/other/ckpt'\], not /ckpt: .*vllm serve /ckpt"):
            wait_for_server(server.url, "/ckpt", timeout_s=30)


@pytest.fixture
def fake_vllm(tmp_path, monkeypatch):
    """Put a ``vllm`` script on PATH; returns a writer for its body. It records its arguments and PID."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python-without-vllm" / "python"))

    def write(body: str) -> Path:
        script = bin_dir / "vllm"
        script.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\necho $$ > {tmp_path}/pid\n{body}\n')
        script.chmod(0o755)
        return tmp_path

    return write


def test_a_launched_server_that_exits_is_reported_with_its_log(fake_vllm, tmp_path):
    record = fake_vllm('echo "CUDA out of memory"; exit 3')
    with pytest.raises(ServerNotReady, match=r"(?s)vllm serve exited with code 3 .*CUDA out of memory"):
        with serving(Path("/ckpt"), None, True, free_port(), 30, tmp_path / "logs" / "vllm.log"):
            pass
    args = (record / "args").read_text().split()
    assert args[:2] == ["serve", "/ckpt"] and args[args.index("--generation-config") + 1] == "vllm"


def test_a_launched_server_that_never_becomes_healthy_is_stopped(fake_vllm, tmp_path):
    record = fake_vllm("exec sleep 60")
    port = free_port()
    with pytest.raises(ServerNotReady, match=rf"http://127.0.0.1:{port}/v1/models did not become healthy within 1 s"):
        with serving(Path("/ckpt"), None, True, port, 1, tmp_path / "logs" / "vllm.log"):
            pass
    pid = int((record / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_launching_without_vllm_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(UserError, match=r"`vllm` not found .*pip install -e '.\[gpu\]'.*server=URL"):
        with serving(Path("/ckpt"), None, True, free_port(), 1, tmp_path / "vllm.log"):
            pass


def test_launching_on_a_busy_port_is_refused():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UserError, match=rf"port {port} is already in use, so vllm serve cannot listen on http://127.0.0.1:{port}; stop"):
            with serving(Path("/ckpt"), None, True, port, 1, Path("/nonexistent/vllm.log")):
                pass


def write_results(path: Path, entries: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))


def test_error_during_inference_fails_the_step(tmp_path):
    result_dir = tmp_path / "bfcl" / "result" / "gd2po_rlla-chat"
    write_results(result_dir / "BFCL_v3_live_relevance_result.json", [
        {"id": "live_relevance_0-0-0", "result": "<tool_call>\n{}\n</tool_call>"},
        {"id": "live_relevance_1-1-0", "result": "Error during inference: Error code: 400 - context too long", "traceback": "..."},
    ])
    with pytest.raises(InferenceFailed, match=r"1 BFCL entries .*live_relevance_1-1-0 .*context too long.*rerun"):
        check_results(result_dir, ["live_relevance"], None)
    with pytest.raises(BfclError, match=r"simple \(0 of 400\)"):
        check_results(result_dir, ["simple"], {"simple": 400})


def test_failed_entries_are_dropped_before_a_rerun(tmp_path):
    path = tmp_path / "BFCL_v3_irrelevance_result.json"
    good = {"id": "irrelevance_0", "result": "<response>No.</response>"}
    write_results(path, [good, {"id": "irrelevance_1", "result": "Error during inference: timeout"}])
    assert drop_failed_results(tmp_path) == 1
    assert [json.loads(line) for line in path.read_text().splitlines()] == [good]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # rewritten through a temporary file, none left


def test_work_dir_refuses_a_dotenv_and_results_of_another_checkpoint(tmp_path):
    work_dir = tmp_path / "bfcl"
    prepare_work_dir(work_dir, Path("/ckpt/a"), None)
    with pytest.raises(UserError, match=r"holds BFCL results of /ckpt/a, not /ckpt/b"):
        prepare_work_dir(work_dir, Path("/ckpt/b"), None)
    (work_dir / ".env").write_text("VLLM_PORT=1053\n")
    with pytest.raises(UserError, match=r"\.env: bfcl loads this file over the environment"):
        prepare_work_dir(work_dir, Path("/ckpt/a"), None)


def test_server_urls_are_normalized():
    assert normalize_url("http://localhost:8000/v1/") == "http://localhost:8000"
    assert normalize_url("http://10.0.0.2:9000") == "http://10.0.0.2:9000"
    with pytest.raises(UserError, match="expected http://HOST:PORT"):
        normalize_url("https://api.example.com/v2")
