"""BFCL through the eval venv: generate -> evaluate against a fake server, and scoring committed results.

Skipped (with the command that fixes it) when ``.venv-eval`` does not exist; CI creates it.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from gd2po.evaluate.bfcl import InferenceFailed, evaluate_bfcl, generate_bfcl, score_bfcl
from gd2po.evaluate.bfcl.rlla_format import AFTER_TOOL_RESULT, MULTI_TURN_INSTRUCTION, SINGLE_TURN_INSTRUCTION, system_prompt
from gd2po.evaluate.bfcl.runner import MODEL_DIR_NAME

from bfcl_fakes import FakeCompletionServer

FAKE_RESULTS = Path(__file__).parents[2] / "data" / "bfcl" / "results"
NO_CALL = "<think>No tool fits.</think>\n<response>I cannot do that with these tools.</response>"
DONE = "<think>Finished.</think>\n<response>Done.</response>"


def tool_call(*calls: tuple[str, dict]) -> str:
    lines = "\n".join(json.dumps({"name": name, "parameters": parameters}) for name, parameters in calls)
    return f"<think>Use the tools.</think>\n<tool_call>\n{lines}\n</tool_call>"


RUN_IDS = {
    "simple": ["simple_0", "simple_1", "simple_2"],
    "irrelevance": ["irrelevance_0", "irrelevance_1"],
    "multi_turn_base": ["multi_turn_base_1"],
}
# A substring of the latest user turn -> the model's answer.
CANNED = {
    "triangle with a base of 10 units": tool_call(("calculate_triangle_area", {"base": 10, "height": 5})),
    "factorial of 5": tool_call(("math.factorial", {"number": 6})),  # wrong value
    "hypotenuse of a right triangle": tool_call(("math.hypot", {"x": 4, "y": 5})),
    "quadratic equation with coefficients": tool_call(("math.sum", {"numbers": [1, 2, 3]})),  # no tool fits
    "list all the visible and hidden": tool_call(("ls", {"a": True})),
    "move one of the 'log.txt' files": tool_call(
        ("cd", {"folder": "workspace"}), ("mv", {"source": "log.txt", "destination": "archive"})
    ),
    "occurrence of the keyword 'Error'": tool_call(
        ("cd", {"folder": "archive"}), ("grep", {"file_name": "log.txt", "pattern": "Error"})
    ),
    "show the last 20 lines": tool_call(("tail", {"file_name": "log.txt", "lines": 20})),
}


def canned_reply(prompt: str) -> str:
    latest_user_turn = prompt.rsplit("<user> ", 1)[-1]
    if latest_user_turn.startswith(AFTER_TOOL_RESULT):
        return DONE
    return next((answer for key, answer in CANNED.items() if key in latest_user_turn), NO_CALL)


SIMPLE_0_FUNCTION = {  # bfcl's doc for simple_0, after its Python hint
    "name": "calculate_triangle_area",
    "description": "Calculate the area of a triangle given its base and height. Note that the provided function is in Python 3 syntax.",
    "parameters": {
        "type": "dict",
        "properties": {
            "base": {"type": "integer", "description": "The base of the triangle."},
            "height": {"type": "integer", "description": "The height of the triangle."},
            "unit": {"type": "string", "description": "The unit of measure (defaults to 'units' if not specified)"},
        },
        "required": ["base", "height"],
    },
}


def test_generate_evaluate_loop_against_fake_server(eval_python, toy_checkpoint, tmp_path):
    with FakeCompletionServer(str(toy_checkpoint), canned_reply) as server:
        metrics = evaluate_bfcl(
            toy_checkpoint, tmp_path / "bfcl", server=server.url, launch_server=False, timeout_s=10,
            eval_python=eval_python, run_ids=RUN_IDS,
        )

    # 2 of 3 simple calls right, 1 of 2 irrelevance refusals, the 4-turn multi-turn case solved.
    assert metrics["bfcl/category/simple"] == pytest.approx(200 / 3)
    assert metrics["bfcl/category/irrelevance"] == pytest.approx(50.0)
    assert metrics["bfcl/category/multi_turn_base"] == pytest.approx(100.0)
    assert metrics["bfcl/irrelevance"] == pytest.approx(25.0)  # mean(irrelevance, live_irrelevance 0)
    assert metrics["bfcl/non_live"] == pytest.approx((200 / 9 + 50) / 5)
    assert metrics["bfcl/multi_turn"] == pytest.approx(25.0)
    assert metrics["bfcl/overall"] == pytest.approx(((200 / 9 + 50) / 5 + 0 + 25) / 3)
    assert metrics["bfcl/complete"] is False

    simple_0 = next(p for p in server.prompts if "triangle with a base of 10 units" in p)
    assert simple_0 == (
        f"[[SYSTEM]]\n{system_prompt([SIMPLE_0_FUNCTION])}\n[[END]]\n"
        "[[USER]]\n**Dialogue Records History**\n<user> Find the area of a triangle with a base of 10 units and "
        f"height of 5 units.\n{SINGLE_TURN_INSTRUCTION} </user>\n[[END]]\n[[ASSISTANT]]\n"
    )
    # 5 single-turn prompts + 4 turns x (tool call, then "done" after the tool result)
    assert len(server.prompts) == 5 + 8
    last = server.prompts[-1]
    assert MULTI_TURN_INSTRUCTION in last and SINGLE_TURN_INSTRUCTION not in last
    assert "<obs> You have made the tool call tail(file_name='log.txt', lines=20). Execution returns:" in last
    assert last.endswith(f"<user> {AFTER_TOOL_RESULT} </user>\n[[END]]\n[[ASSISTANT]]\n")

    summary = json.loads((tmp_path / "bfcl" / "summary.json").read_text())
    assert summary["bfcl_eval_version"] == "2025.8.6.2"
    assert "live_simple" in summary["incomplete_categories"] and "simple" in summary["incomplete_categories"]


def test_inference_error_fails_generation_and_a_rerun_retries_only_the_failed_entry(eval_python, toy_checkpoint, tmp_path):
    work_dir, run_ids = tmp_path / "bfcl", {"irrelevance": ["irrelevance_0", "irrelevance_1"]}
    options = dict(launch_server=False, timeout_s=10, eval_python=eval_python, run_ids=run_ids)

    def too_long(prompt):
        return (400, "This model's maximum context length is 8192 tokens") if "quadratic" in prompt else "x"

    with FakeCompletionServer(str(toy_checkpoint), too_long) as server:
        with pytest.raises(InferenceFailed, match=r"1 BFCL entries hold 'Error during inference'.*irrelevance_1"):
            generate_bfcl(toy_checkpoint, work_dir, server=server.url, **options)

    with FakeCompletionServer(str(toy_checkpoint), lambda prompt: NO_CALL) as server:
        generate_bfcl(toy_checkpoint, work_dir, server=server.url, **options)
    assert len(server.prompts) == 1 and "quadratic" in server.prompts[0]
    result_file = work_dir / "result" / MODEL_DIR_NAME / "BFCL_v3_irrelevance_result.json"
    results = [json.loads(line) for line in result_file.read_text().splitlines()]
    assert [r["id"] for r in results] == ["irrelevance_0", "irrelevance_1"]
    assert [r["result"] for r in results] == ["x", NO_CALL]


FAKE_CATEGORIES = ["simple", "javascript", "irrelevance", "live_parallel", "live_relevance", "multi_turn_base"]


def read_csv_row(path: Path) -> dict[str, str]:
    with path.open() as file:
        (row,) = csv.DictReader(file)
    return row


def percent(cell: str) -> float:
    return float(cell.rstrip("%"))


def test_committed_fake_results_score_frozen_and_match_bfcl_tables(eval_python, tmp_path):
    shutil.copytree(FAKE_RESULTS, tmp_path / "result" / MODEL_DIR_NAME)
    metrics = score_bfcl(tmp_path, categories=FAKE_CATEGORIES, eval_python=eval_python)

    assert {k: round(v, 4) for k, v in metrics.items() if k.startswith("bfcl/category/")} == {
        "bfcl/category/simple": 67.25,
        "bfcl/category/javascript": 60.0,
        "bfcl/category/irrelevance": 75.0,
        "bfcl/category/live_parallel": 68.75,
        "bfcl/category/live_relevance": 66.6667,
        "bfcl/category/multi_turn_base": 80.5,
    }
    simple_ast = (67.25 + 0 + 60.0) / 3
    non_live = (simple_ast + 75.0) / 5
    live = (68.75 * 16 + 200 / 3 * 18) / 2251
    assert metrics["bfcl/non_live"] == pytest.approx(non_live)
    assert metrics["bfcl/live"] == pytest.approx(live)
    assert metrics["bfcl/multi_turn"] == pytest.approx(80.5 / 4)
    assert metrics["bfcl/overall"] == pytest.approx((non_live + live + 80.5 / 4) / 3)
    assert metrics["bfcl/relevance"] == pytest.approx(200 / 3)
    assert metrics["bfcl/irrelevance"] == pytest.approx(75.0 / 2)
    assert metrics["bfcl/complete"] is False

    score_dir = tmp_path / "score"
    overall = read_csv_row(score_dir / "data_overall.csv")
    assert metrics["bfcl/overall"] == pytest.approx(percent(overall["Overall Acc"]), abs=0.006)
    assert metrics["bfcl/live"] == pytest.approx(percent(overall["Live Acc"]), abs=0.006)
    assert metrics["bfcl/multi_turn"] == pytest.approx(percent(overall["Multi Turn Acc"]), abs=0.006)
    assert metrics["bfcl/relevance"] == pytest.approx(percent(overall["Relevance Detection"]), abs=0.006)
    non_live_row = read_csv_row(score_dir / "data_non_live.csv")
    assert metrics["bfcl/non_live"] == pytest.approx(percent(non_live_row["Non_Live Overall Acc"]), abs=0.006)
