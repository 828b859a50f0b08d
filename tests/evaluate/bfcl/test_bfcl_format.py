"""ToolRL's RLLA prompt and tool-call parsing, as the BFCL handler uses them (no bfcl needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gd2po.evaluate.bfcl.rlla_format import (
    AFTER_TOOL_RESULT,
    MULTI_TURN_INSTRUCTION,
    SINGLE_TURN_INSTRUCTION,
    decode_ast_calls,
    decode_execute_calls,
    dialogue_history,
    render_tools,
    system_prompt,
)

RLLA_TEST = Path(__file__).parents[3] / "resources" / "tool_calling" / "rlla_4k" / "test.parquet"
WEATHER = {
    "name": "get_weather",
    "description": "Current weather.",
    "parameters": {"type": "dict", "properties": {"city": {"type": "string", "description": "City name"}}},
}


def test_tools_render_as_numbered_name_description_parameter_blocks():
    no_parameters = {"name": "now", "description": "The time.", "parameters": {"type": "dict"}}
    assert render_tools([WEATHER, no_parameters]) == (
        '1. Name: get_weather\nDescription: Current weather.\nParameters: {"city": {"type": "string", "description": "City name"}}\n'
        "2. Name: now\nDescription: The time.\nParameters: {}"
    )


def test_system_prompt_is_the_rlla_training_system_prompt():
    """Every RLLA-4K system prompt is the same text around its tool list (here with a trailing newline, as ToolRL's)."""
    prompts = pd.read_parquet(RLLA_TEST)["prompt"]
    template = system_prompt([WEATHER])
    head, tail = template.split(render_tools([WEATHER]))
    assert tail.endswith("(if exists).\n")
    for messages in prompts:
        training_system = messages[0]["content"]
        assert training_system.startswith(head) and training_system.endswith(tail.rstrip("\n"))


def test_single_turn_history():
    messages = [{"role": "system", "content": "bfcl's own prompt"}, {"role": "user", "content": " What's the weather in Paris? "}]
    assert dialogue_history(messages, multi_turn=False) == (
        f"**Dialogue Records History**\n<user> What's the weather in Paris?\n{SINGLE_TURN_INSTRUCTION} </user>"
    )


def test_multi_turn_history_with_outputs_and_tool_results():
    messages = [
        {"role": "user", "content": "List files."},
        {"role": "assistant", "content": '<think>ls</think>\n<tool_call>\n{"name": "ls", "parameters": {}}\n</tool_call>'},
        {"role": "tool", "name": "ls()", "content": '{"current_directory_content": ["a.txt"]}'},
    ]
    assert dialogue_history(messages, multi_turn=True) == (
        f"**Dialogue Records History**\n<user> List files.\n{MULTI_TURN_INSTRUCTION} </user>\n\n"
        '<think>ls</think>\n<tool_call>\n{"name": "ls", "parameters": {}}\n</tool_call>\n'
        '<obs> You have made the tool call ls(). Execution returns: {"current_directory_content": ["a.txt"]} </obs>\n\n'
        f"<user> {AFTER_TOOL_RESULT} </user>"
    )
    # The closing request follows only the last message; later turns show the plain history.
    later = messages + [{"role": "assistant", "content": "<response>Done.</response>"}]
    assert AFTER_TOOL_RESULT not in dialogue_history(later, multi_turn=True)


OUTPUT = (
    '<think>first draft</think>\n<tool_call>\n{"name": "draft", "parameters": {}}\n</tool_call>\n'
    "<tool_call>\n"
    '{"name": "get_weather", "parameters": {"city": "Paris", "days": 2}}\n'
    "not json\n"
    '{"name": "None", "parameters": {}}\n'
    '{"name": null, "parameters": {}}\n'
    '{"parameters": {"city": "Rome"}}\n'
    '["a list"]\n'
    '{"name": "get_time", "parameters": {"zone": "UTC", "exact": true, "offsets": [1, 2]}}\n'
    "</tool_call>\n<response>Here you go.</response>"
)


def test_ast_decoding_reads_the_last_block_one_json_object_per_line():
    assert decode_ast_calls(OUTPUT) == [
        {"get_weather": {"city": "Paris", "days": 2}},
        {"get_time": {"zone": "UTC", "exact": True, "offsets": [1, 2]}},
    ]


def test_ast_decoding_without_a_block_is_no_call():
    assert decode_ast_calls("<think>none fits</think>\n<response>Sorry.</response>") == []
    assert decode_ast_calls('<tool_call>\n{"name": "none", "parameters": {}}\n</tool_call>') == []


def test_an_unclosed_block_runs_to_the_end():
    assert decode_ast_calls('<tool_call>\n{"name": "f", "parameters": {"x": 1}}') == [{"f": {"x": 1}}]


def test_execute_decoding_gives_python_calls():
    without_null_name = OUTPUT.replace('{"name": null, "parameters": {}}\n', "")
    assert decode_execute_calls(without_null_name) == [
        "get_weather(city='Paris', days=2)",
        "(city='Rome')",  # a missing name is "" in ToolRL's converter; bfcl's executor reports the bad call
        "get_time(zone='UTC', exact=True, offsets=[1, 2])",
    ]


def test_execute_decoding_rejects_calls_that_toolrl_cannot_convert():
    with pytest.raises(ValueError, match="string 'name'"):
        decode_execute_calls('<tool_call>\n{"name": null, "parameters": {}}\n</tool_call>')
    with pytest.raises(ValueError, match="'parameters' object"):
        decode_execute_calls('<tool_call>\n{"name": "f", "parameters": "x=1"}\n</tool_call>')


@given(st.text())
def test_decoders_never_fail_unexpectedly_on_arbitrary_text(text):
    for output in (text, f"<tool_call>\n{text}\n</tool_call>", f"<tool_call>{text}"):
        calls = decode_ast_calls(output)
        assert all(isinstance(call, dict) and len(call) == 1 for call in calls)
        try:
            assert all(isinstance(call, str) for call in decode_execute_calls(output))
        except ValueError:
            pass


@given(st.lists(st.tuples(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.dictionaries(
    st.from_regex(r"[a-z]{1,5}", fullmatch=True), st.one_of(st.integers(), st.text(max_size=5), st.booleans())
)), max_size=4))
def test_decoding_round_trips_generated_calls(calls):
    calls = [(name, parameters) for name, parameters in calls if name.strip().lower() != "none"]
    lines = "\n".join(json.dumps({"name": name, "parameters": parameters}) for name, parameters in calls)
    output = f"<think>t</think>\n<tool_call>\n{lines}\n</tool_call>"
    assert decode_ast_calls(output) == [{name: parameters} for name, parameters in calls]
    assert decode_execute_calls(output) == [
        f"{name}({', '.join(f'{key}={value!r}' for key, value in parameters.items())})" for name, parameters in calls
    ]
