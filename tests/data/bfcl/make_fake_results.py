"""Write the committed fake BFCL v3 result files in tests/data/bfcl/results/ (RLLA-format model outputs).

Whole categories, as v3 scoring needs: oracle answers built from bfcl's possible answers, with a fixed
pattern of deliberate mistakes (wrong values, missing calls, answers without a call) so the scores are
neither 0 nor 100. Run with the eval venv, which has bfcl-eval's data:

    .venv-eval/bin/python tests/data/bfcl/make_fake_results.py
"""

from __future__ import annotations

import ast
import json
import sys
from importlib.util import find_spec
from pathlib import Path

DATA = Path(find_spec("bfcl_eval").submodule_search_locations[0]) / "data"
OUT = Path(__file__).with_name("results")
CATEGORIES = ["simple", "javascript", "irrelevance", "live_parallel", "live_relevance", "multi_turn_base"]
FUNC_DOC_FILES = {
    "GorillaFileSystem": "gorilla_file_system.json",
    "MathAPI": "math_api.json",
    "MessageAPI": "message_api.json",
    "TwitterAPI": "posting_api.json",
    "TicketAPI": "ticket_api.json",
    "TradingBot": "trading_bot.json",
    "TravelAPI": "travel_booking.json",
    "VehicleControlAPI": "vehicle_control.json",
}
THINK = "<think>The user needs a tool.</think>\n"
NO_CALL = "<think>No tool fits this request.</think>\n<response>I cannot help with that using these tools.</response>"
DONE = "<think>The task is done.</think>\n<response>Done.</response>"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def tool_call(calls: list[dict]) -> str:
    lines = "\n".join(json.dumps({"name": name, "parameters": parameters}) for call in calls for name, parameters in call.items())
    return f"{THINK}<tool_call>\n{lines}\n</tool_call>"


def js_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def oracle_call(ground_truth: list[dict], javascript: bool) -> list[dict]:
    """The first allowed value of each parameter; "" (optional, omitted) when that comes first."""
    calls = []
    for call in ground_truth:
        for name, parameters in call.items():
            chosen = {key: allowed[0] for key, allowed in parameters.items() if allowed and allowed[0] != ""}
            calls.append({name: {k: js_literal(v) for k, v in chosen.items()} if javascript else chosen})
    return calls


def perturb(calls: list[dict]) -> list[dict]:
    """Change the first parameter value of the first call that has one."""
    for call in calls:
        for parameters in call.values():
            for key, value in parameters.items():
                if isinstance(value, bool):
                    parameters[key] = not value
                elif isinstance(value, (int, float)):
                    parameters[key] = value + 1
                elif isinstance(value, str):
                    parameters[key] = value + "_wrong"
                else:
                    parameters[key] = "wrong"
                return calls
    return calls


def ast_results(category: str) -> list[dict]:
    answers = load(DATA / "possible_answer" / f"BFCL_v3_{category}.json")
    results = []
    for index, answer in enumerate(answers):
        calls = oracle_call(answer["ground_truth"], javascript=category == "javascript")
        if index % 7 == 3:
            text = NO_CALL
        else:
            text = tool_call(perturb(calls) if index % 5 == 1 else calls)
        results.append({"id": answer["id"], "result": text})
    return results


def irrelevance_results(category: str) -> list[dict]:
    results = []
    for index, entry in enumerate(load(DATA / f"BFCL_v3_{category}.json")):
        first = entry["function"][0]["name"]
        if index % 4 == 0:
            text = tool_call([{first: {}}])
        elif index % 6 == 5:
            text = tool_call([{"None": {}}])
        else:
            text = NO_CALL
        results.append({"id": entry["id"], "result": text})
    return results


def relevance_results(category: str) -> list[dict]:
    entries = load(DATA / f"BFCL_v3_{category}.json")
    return [
        {"id": e["id"], "result": NO_CALL if i % 3 == 0 else tool_call([{e["function"][0]["name"]: {}}])}
        for i, e in enumerate(entries)
    ]


def parse_call(text: str, parameter_names: dict[str, list[str]]) -> dict:
    """ "f(1, b='x')" -> {"f": {"a": 1, "b": "x"}}, naming positional arguments from the function doc."""
    call = ast.parse(text, mode="eval").body
    name = ast.unparse(call.func)
    arguments = dict(zip(parameter_names[name], (ast.literal_eval(arg) for arg in call.args)))
    arguments |= {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    return {name: arguments}


def multi_turn_results(category: str) -> list[dict]:
    entries = {e["id"]: e for e in load(DATA / f"BFCL_v3_{category}.json")}
    results = []
    for index, answer in enumerate(load(DATA / "possible_answer" / f"BFCL_v3_{category}.json")):
        parameter_names = {}
        for class_name in entries[answer["id"]]["involved_classes"]:
            for doc in load(DATA / "multi_turn_func_doc" / FUNC_DOC_FILES[class_name]):
                parameter_names[doc["name"]] = list(doc["parameters"]["properties"])
        turns = [[parse_call(text, parameter_names) for text in turn] for turn in answer["ground_truth"]]
        if index % 5 == 2 and turns[-1]:
            turns[-1] = turns[-1][:-1]
        results.append({"id": answer["id"], "result": [[tool_call(calls), DONE] if calls else [DONE] for calls in turns]})
    return results


def main() -> None:
    OUT.mkdir(exist_ok=True)
    builders = {"irrelevance": irrelevance_results, "live_relevance": relevance_results, "multi_turn_base": multi_turn_results}
    for category in CATEGORIES:
        results = builders.get(category, ast_results)(category)
        path = OUT / f"BFCL_v3_{category}_result.json"
        path.write_text("".join(json.dumps(entry) + "\n" for entry in results))
        print(f"{path}: {len(results)} entries", file=sys.stderr)


if __name__ == "__main__":
    main()
