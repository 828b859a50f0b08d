"""Evaluate one checkpoint on BFCL v3: serve it, generate, score, aggregate.

bfcl-eval 2025.8.6.2 lives in its own venv (``.venv-eval``: it pins numpy 1.26) and talks to the model
over HTTP only, so this module drives it by subprocess through ``wrapper.py``, next to a
``vllm serve`` of the checkpoint from the training environment. All bfcl files live under
``work_dir`` (``BFCL_PROJECT_ROOT``): ``result/``, ``score/``, ``logs/`` and ``summary.json``.
A rerun resumes: finished entries are kept, failed ones are generated again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from gd2po.errors import UserError
from gd2po.evaluate.bfcl.scores import (
    CATEGORIES,
    CATEGORY_SIZES,
    VERSION_PREFIX,
    incomplete_categories,
    read_scores,
    score_file,
    v3_aggregates,
)
from gd2po.evaluate.bfcl.wrapper import MODEL_NAME
from gd2po.evaluate.context import check_checkpoint
from gd2po.files import write_json_atomic, write_text_atomic

logger = logging.getLogger(__name__)

BFCL_VERSION = "2025.8.6.2"
WRAPPER = Path(__file__).with_name("wrapper.py")
SETUP_SCRIPT = Path(__file__).with_name("setup_env.sh")
DEFAULT_EVAL_PYTHON = Path(__file__).resolve().parents[3] / ".venv-eval" / "bin" / "python"
EVAL_PYTHON_ENV = "GD2PO_EVAL_PYTHON"
MODEL_DIR_NAME = MODEL_NAME.replace("/", "_")  # bfcl's result/score folder for the model
INFERENCE_ERROR = "Error during inference"


class BfclError(RuntimeError):
    """BFCL generation or scoring failed; the message names the log to read."""


class ServerNotReady(BfclError):
    """The model server did not answer ``/v1/models`` in time, or exited."""


class InferenceFailed(BfclError):
    """Some BFCL entries hold "Error during inference" instead of a model output."""


def evaluate_bfcl(
    model_dir: Path,
    work_dir: Path,
    *,
    categories: list[str] | None = None,
    server: str | None = None,
    launch_server: bool = True,
    port: int = 8011,
    timeout_s: float = 600,
    eval_python: Path | None = None,
    run_ids: dict[str, list[str]] | None = None,
) -> dict[str, float | bool]:
    """BFCL v3 accuracies of the checkpoint in ``model_dir``, in percent, keyed ``bfcl/<name>``.

    ``categories``: v3 category names (default: all 17 offline ones). ``server``: URL
    (``http://host:port``) of a running OpenAI-compatible server that serves ``model_dir`` under its
    absolute path; without it, ``vllm serve`` is started on ``port`` when ``launch_server``, else
    ``http://127.0.0.1:{port}`` must already serve. ``timeout_s`` bounds the wait for the server.
    ``eval_python``: the eval venv's Python (default: ``$GD2PO_EVAL_PYTHON`` or ``.venv-eval``).
    ``run_ids``: ``{category: [test ids]}``, a smoke subset scored on those ids only (its keys
    replace ``categories``).

    Returns per-category accuracies, the v3 aggregates (see :func:`scores.v3_aggregates`) and
    ``bfcl/complete``, False unless all 17 categories were scored in full.
    """
    generate_bfcl(
        model_dir, work_dir, categories=categories, server=server, launch_server=launch_server,
        port=port, timeout_s=timeout_s, eval_python=eval_python, run_ids=run_ids,
    )
    categories = list(run_ids) if run_ids else categories
    return score_bfcl(work_dir, categories=categories, eval_python=eval_python, partial=bool(run_ids))


def generate_bfcl(
    model_dir: Path,
    work_dir: Path,
    *,
    categories: list[str] | None = None,
    server: str | None = None,
    launch_server: bool = True,
    port: int = 8011,
    timeout_s: float = 600,
    eval_python: Path | None = None,
    run_ids: dict[str, list[str]] | None = None,
) -> None:
    """Write ``work_dir/result/``: the model's outputs on BFCL (arguments as :func:`evaluate_bfcl`).

    Raises :class:`InferenceFailed` if any entry failed at inference, instead of letting it score 0.
    """
    model_dir = check_checkpoint(Path(model_dir))
    if run_ids is not None and not all(run_ids.values()):
        raise UserError(f"run_ids {run_ids}: every listed category needs at least one test id")
    categories = check_categories(list(run_ids) if run_ids else categories)
    eval_python, _ = find_eval_python(eval_python)
    work_dir = prepare_work_dir(Path(work_dir), model_dir, run_ids)
    result_dir, log_dir = work_dir / "result" / MODEL_DIR_NAME, work_dir / "logs"
    dropped = drop_failed_results(result_dir)
    if dropped:
        logger.info("bfcl: %d entries that failed at inference in an earlier run will be generated again", dropped)
    with serving(model_dir, server, launch_server, port, timeout_s, log_dir / "vllm.log") as (url, server_process):
        args = ["generate", "--model", MODEL_NAME, "--test-category", ",".join(categories), "--backend", "vllm"]
        args += ["--skip-server-setup", "--local-model-path", str(model_dir)] + (["--run-ids"] if run_ids else [])
        logger.info("bfcl generate: %s against %s (log: %s)", ",".join(categories), url, log_dir / "generate.log")
        run_wrapper(eval_python, args, bfcl_env(work_dir, url), log_dir / "generate.log", server_process)
    expected = {c: len(set(run_ids[c])) for c in categories} if run_ids else {c: CATEGORY_SIZES[c] for c in categories}
    check_results(result_dir, categories, expected)


def score_bfcl(
    work_dir: Path, *, categories: list[str] | None = None, eval_python: Path | None = None, partial: bool = False
) -> dict[str, float | bool]:
    """Score ``work_dir/result/`` with bfcl, then read its per-category scores and aggregate them.

    Writes ``work_dir/score/`` (bfcl's files) and ``work_dir/summary.json`` (metrics, score headers,
    incomplete categories, bfcl-eval version). ``partial``: score only the entries present (smoke runs).
    """
    categories = check_categories(categories)
    eval_python, version = find_eval_python(eval_python)
    work_dir = Path(work_dir).resolve()
    result_dir, score_dir = work_dir / "result" / MODEL_DIR_NAME, work_dir / "score" / MODEL_DIR_NAME
    check_results(result_dir, categories, None if partial else {c: CATEGORY_SIZES[c] for c in categories})
    for category in categories:  # a stale score must not stand in for one this run fails to write
        score_file(score_dir, category).unlink(missing_ok=True)
    args = ["evaluate", "--model", MODEL_NAME, "--test-category", ",".join(categories)]
    args += ["--partial-eval"] if partial else []
    log_path = work_dir / "logs" / "evaluate.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    run_wrapper(eval_python, args, bfcl_env(work_dir), log_path)
    try:
        scores = read_scores(score_dir, categories)
    except FileNotFoundError as error:
        raise BfclError(f"bfcl evaluate wrote no score file {error.filename}; see {log_path}") from None

    metrics = v3_aggregates(scores)
    missing = incomplete_categories(scores)
    marker = work_dir / "checkpoint.txt"
    summary = {"metrics": metrics, "scores": scores, "incomplete_categories": missing, "bfcl_eval_version": version}
    summary |= {"handler": MODEL_NAME, "model_dir": marker.read_text().strip() if marker.is_file() else None}
    write_json_atomic(work_dir / "summary.json", summary)
    logger.info(
        "bfcl v3: overall %.2f (non-live %.2f, live %.2f, multi-turn %.2f)",
        metrics["bfcl/overall"], metrics["bfcl/non_live"], metrics["bfcl/live"], metrics["bfcl/multi_turn"],
    )
    if missing:
        logger.warning("bfcl v3 aggregates are incomplete (counted as 0): %s", ", ".join(missing))
    return metrics


def check_categories(categories: list[str] | None) -> list[str]:
    if categories is None:
        return list(CATEGORIES)
    unknown = [c for c in categories if c not in CATEGORY_SIZES]
    if unknown or not categories:
        raise UserError(
            f"BFCL categories {unknown or '[]'}: unknown or none; allowed (v3 names): {', '.join(CATEGORIES)}"
        )
    return list(dict.fromkeys(categories))


def find_eval_python(eval_python: Path | None) -> tuple[Path, str]:
    """The eval venv's Python and its bfcl-eval version; a clear error unless it is the pinned one."""
    path = Path(eval_python or os.environ.get(EVAL_PYTHON_ENV) or DEFAULT_EVAL_PYTHON)
    fix = f"create the eval env with `bash {SETUP_SCRIPT}` (or pass eval_python / set {EVAL_PYTHON_ENV})"
    if not path.is_file():
        raise UserError(f"{path}: BFCL evaluation Python not found; {fix}")
    probe = subprocess.run(
        [str(path), "-c", "import importlib.metadata as m; print(m.version('bfcl-eval'))"],
        capture_output=True, text=True, env=clean_env(),
    )
    version = probe.stdout.strip()
    if probe.returncode != 0 or version != BFCL_VERSION:
        found = f"bfcl-eval {version}" if probe.returncode == 0 else "no bfcl-eval"
        raise UserError(f"{path}: has {found}, needs bfcl-eval=={BFCL_VERSION} (BFCL v3); {fix}")
    return path, version


def prepare_work_dir(work_dir: Path, model_dir: Path, run_ids: dict[str, list[str]] | None) -> Path:
    work_dir = work_dir.resolve()
    (work_dir / "logs").mkdir(parents=True, exist_ok=True)
    if (work_dir / ".env").exists():
        raise UserError(f"{work_dir / '.env'}: bfcl loads this file over the environment (override=True); remove it")
    marker = work_dir / "checkpoint.txt"
    if marker.is_file() and marker.read_text().strip() != str(model_dir):
        raise UserError(
            f"{work_dir}: holds BFCL results of {marker.read_text().strip()}, not {model_dir}; "
            "use one work dir per checkpoint, or delete this one"
        )
    marker.write_text(f"{model_dir}\n")
    ids_file = work_dir / "test_case_ids_to_generate.json"
    if run_ids:
        ids_file.write_text(json.dumps({c: run_ids.get(c, []) for c in CATEGORIES}, indent=1) + "\n")
    return work_dir


def result_file(result_dir: Path, category: str) -> Path:
    return result_dir / f"{VERSION_PREFIX}_{category}_result.json"


def is_failed(entry: dict) -> bool:
    return isinstance(entry.get("result"), str) and entry["result"].startswith(INFERENCE_ERROR)


def drop_failed_results(result_dir: Path) -> int:
    """Remove failed entries from earlier result files, so that bfcl's resume generates them again."""
    dropped = 0
    for path in sorted(result_dir.glob(f"{VERSION_PREFIX}_*_result.json")):
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        kept = [line for line in lines if not is_failed(json.loads(line))]
        if len(kept) < len(lines):
            dropped += len(lines) - len(kept)
            write_text_atomic(path, "".join(line + "\n" for line in kept))
    return dropped


def check_results(result_dir: Path, categories: list[str], expected: dict[str, int] | None) -> None:
    """No entry failed at inference (bfcl would silently score it 0); with ``expected``, no entry is missing."""
    failed, short = [], []
    for category in categories:
        path = result_file(result_dir, category)
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
        failed += [(path, entry) for entry in entries if is_failed(entry)]
        if expected is not None and len(entries) != expected[category]:
            short.append(f"{category} ({len(entries)} of {expected[category]})")
    if failed:
        path, first = failed[0]
        raise InferenceFailed(
            f"{len(failed)} BFCL entries hold '{INFERENCE_ERROR}' instead of a model output (first: {first['id']} "
            f"in {path}: {first['result'][:300]!r}); bfcl would score them 0. Fix the server (see the logs in "
            f"{result_dir.parents[1] / 'logs'}), then rerun: failed entries are generated again, the rest are kept"
        )
    if short:
        raise BfclError(f"incomplete BFCL result files in {result_dir}: {', '.join(short)}; rerun generation")


@contextlib.contextmanager
def serving(model_dir: Path, server: str | None, launch_server: bool, port: int, timeout_s: float, log_path: Path):
    """Yield ``(url, process)`` once the model answers at ``url``; ``process`` is the vLLM server we started."""
    if server is not None or not launch_server:
        url = normalize_url(server or f"http://127.0.0.1:{port}")
        wait_for_server(url, str(model_dir), timeout_s)
        yield url, None
        return
    url = f"http://127.0.0.1:{port}"
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise UserError(
                f"port {port} is already in use, so vllm serve cannot listen on {url}; stop what listens there, "
                f"pick another port (port=...), or pass server={url} if it already serves {model_dir}"
            )
    process = launch_vllm(model_dir, port, log_path)
    try:
        wait_for_server(url, str(model_dir), timeout_s, process, log_path)
        yield url, process
    finally:
        stop_process_group(process)


def normalize_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.rstrip("/").removesuffix("/v1"))
    if parts.scheme != "http" or not parts.hostname or parts.path:
        raise UserError(f"server={url!r}: expected http://HOST:PORT of an OpenAI-compatible server")
    return f"http://{parts.hostname}:{parts.port or 80}"


def wait_for_server(
    url: str, model_name: str | None, timeout_s: float, process=None, log_path: Path | None = None
) -> None:
    """Poll ``{url}/v1/models`` until it answers 200 (and lists ``model_name``), at most ``timeout_s`` seconds."""
    models_url = f"{url}/v1/models"
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while True:
        if process is not None and process.poll() is not None:
            raise ServerNotReady(
                f"vllm serve exited with code {process.returncode} before {models_url} answered; "
                f"see {log_path}:\n{log_tail(log_path)}"
            )
        try:
            request_timeout = max(0.1, min(5.0, deadline - time.monotonic()))
            with urllib.request.urlopen(models_url, timeout=request_timeout) as response:
                served = [model.get("id") for model in json.load(response).get("data", [])]
        except (OSError, ValueError) as error:  # refused, timed out, HTTP error status, not JSON
            last = str(error)
        else:
            if model_name is not None and model_name not in served:
                raise UserError(
                    f"{url} serves {served}, not {model_name}: bfcl requests the model by its path, so serve it "
                    f"as `vllm serve {model_name}`, or stop that server and pass another port"
                )
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            server_log = f" and {log_path}" if log_path else ""
            raise ServerNotReady(
                f"model server at {models_url} did not become healthy within {timeout_s:g} s (last: {last}). "
                f"Fix: check that the server is running and loads {model_name}{server_log}, or raise timeout_s"
            )
        time.sleep(min(1.0, remaining))


def launch_vllm(model_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    search_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    vllm = shutil.which("vllm", path=search_path)
    if vllm is None:
        raise UserError(
            f"`vllm` not found next to {sys.executable} or on PATH; install the GPU extra (pip install -e '.[gpu]') "
            f"or pass server=URL of a running OpenAI-compatible server that serves {model_dir}"
        )
    # The path string is the served model name, which bfcl sends with every request. Sampling comes
    # from bfcl's requests alone, not from the checkpoint's generation_config.json.
    command = [vllm, "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--dtype", "bfloat16", "--generation-config", "vllm"]
    logger.info("starting %s (log: %s)", " ".join(command), log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_process_group(process: subprocess.Popen, grace_s: float = 15) -> None:
    """Stop a process started with ``start_new_session`` and its children (vLLM's workers)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def clean_env() -> dict[str, str]:
    """This environment minus what would leak the training venv into the eval venv's Python."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def bfcl_env(work_dir: Path, url: str | None = None) -> dict[str, str]:
    env = clean_env() | {"BFCL_PROJECT_ROOT": str(work_dir), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if url is not None:
        parts = urllib.parse.urlsplit(url)
        env |= {"VLLM_ENDPOINT": parts.hostname, "VLLM_PORT": str(parts.port)}  # v3 names; v4: LOCAL_SERVER_*
    return env


def run_wrapper(eval_python: Path, args: list[str], env: dict[str, str], log_path: Path, server_process=None) -> None:
    """Run ``bfcl ARGS`` through the wrapper, output to ``log_path``; stop early if our server dies."""
    with log_path.open("w") as log:
        command = [str(eval_python), str(WRAPPER), *args]
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        while True:
            try:
                process.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                # bfcl retries a vanished server forever, so watch the one we started.
                if server_process is not None and server_process.poll() is not None:
                    process.kill()
                    process.wait()
                    raise BfclError(
                        f"the vLLM server exited (code {server_process.returncode}) during `bfcl {args[0]}`; "
                        f"see {log_path.with_name('vllm.log')}"
                    ) from None
    if process.returncode != 0:
        raise BfclError(
            f"`bfcl {args[0]}` failed (exit code {process.returncode}); see {log_path}:\n{log_tail(log_path)}"
        )


def log_tail(path: Path | None, lines: int = 15) -> str:
    if path is None or not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
