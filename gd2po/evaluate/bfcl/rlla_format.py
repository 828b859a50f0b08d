"""ToolRL's RLLA prompt and its tool-call parsing, as ToolRL's BFCL handler uses them.

The prompt is two chat messages: a system message listing the tools and the output format, and one
user message holding the whole dialogue so far ("**Dialogue Records History**": user turns, the
model's earlier outputs, tool results as ``<obs>``). The model answers
``<think>...</think>\\n<tool_call>\\n{"name": ..., "parameters": {...}}\\n...</tool_call>`` and/or
``<response>...</response>``. Texts and parsing rules match ToolRL's handler
(qiancheng0/ToolRL ``benchmarks/BFCL/rlla_qwen.py``; docs/bfcl.md §5.2) to the character, typos
included, so scores stay comparable with ToolRL's BFCL table.

Standard library only: the training environment imports this module for tests, and the BFCL
wrapper imports it inside the eval venv (``.venv-eval``), where gd2po's other modules cannot load.
"""

from __future__ import annotations

import json

_SYSTEM_HEAD = """You are a helpful multi-turn dialogue assistant capable of leveraging tool calls to solve user tasks and provide structured chat responses.

**Available Tools**
In your response, you can use the following tools:
"""

_SYSTEM_TAIL = """

**Steps for Each Turn**
1. **Think:** Recall relevant context and analyze the current user goal.
2. **Decide on Tool Usage:** If a tool is needed, specify the tool and its parameters.
3. **Respond Appropriately:** If a response is needed, generate one while maintaining consistency across user queries.

**Output Format**
```plaintext
<think> Your thoughts and reasoning </think>
<tool_call>
{"name": "Tool name", "parameters": {"Parameter name": "Parameter content", "... ...": "... ..."}}
{"name": "... ...", "parameters": {"... ...": "... ...", "... ...": "... ..."}}
...
</tool_call>
<response> AI's final response </response>
```

**Important Notes**
1. You must always include the `<think>` field to outline your reasoning. Provide at least one of `<tool_call>` or `<response>`. Decide whether to use `<tool_call>` (possibly multiple times), `<response>`, or both.
2. You can invoke multiple tool calls simultaneously in the `<tool_call>` fields. Each tool call should be a JSON object with a "name" field and an "parameters" field containing a dictionary of parameters. If no parameters are needed, leave the "parameters" field an empty dictionary.
3. Refer to the previous dialogue records in the history, including the user's queries, previous `<tool_call>`, `<response>`, and any tool feedback noted as `<obs>` (if exists).
"""

HISTORY_HEADER = "**Dialogue Records History**\n"

SINGLE_TURN_INSTRUCTION = (
    "If there's no appropriate tools to apply or required parameters are missing, please directly inform me "
    "in your response without any tool call, or call the tool with the name as 'None'. Otherwise, you should use "
    "one or more necessary tool calls to complete the given task in this turn."
)

MULTI_TURN_INSTRUCTION = (
    "Use the one or more necessary tool calls to complete the task. You could perform tool calls for multiple "
    "rounds so you can try and error. Please make a comprehensive plan about how to achieve the goal step by step, "
    "and begin to call the tool step by step. If no tools apply or required parameters are missing, please also "
    "directly state this in your response without tool calls."
)

AFTER_TOOL_RESULT = (
    "If you think you have completed the current task, or the task cannot be finished, please respond directly "
    "without additional tool calls. If you encounter an error during tool execution or the task remains unfinished, "
    "retry with the one or more necessary tool calls according to your thought and plan until completion. Based on "
    "the tool execution feedback, reflect on if understanding or selectioin of tool is wrong, what tool calling step "
    "is missing, and how to achieve the task goal from now on."
)


def render_tools(functions: list[dict]) -> str:
    """BFCL function docs as numbered ``Name:`` / ``Description:`` / ``Parameters: <JSON of properties>`` blocks."""
    return "\n".join(
        f"{number}. Name: {function['name']}\n"
        f"Description: {function['description']}\n"
        f"Parameters: {json.dumps(function['parameters'].get('properties', {}))}"
        for number, function in enumerate(functions, start=1)
    )


def system_prompt(functions: list[dict]) -> str:
    """The RLLA system message with ``functions`` (BFCL function docs) listed as the available tools."""
    return _SYSTEM_HEAD + render_tools(functions) + _SYSTEM_TAIL


def dialogue_history(messages: list[dict], multi_turn: bool) -> str:
    """The user message: the conversation so far, with ToolRL's per-turn instructions.

    ``messages`` are BFCL chat messages: ``user``, ``assistant`` (the model's raw earlier outputs) and
    ``tool`` (``name`` = the executed call, ``content`` = its result); ``system`` messages are dropped,
    since the RLLA system message replaces BFCL's. After a final tool result, a user turn asks the model
    to finish or retry.
    """
    instruction = MULTI_TURN_INSTRUCTION if multi_turn else SINGLE_TURN_INSTRUCTION
    text = HISTORY_HEADER
    for index, message in enumerate(messages):
        role = message["role"]
        if role == "user":
            text += f"<user> {message['content'].strip()}\n{instruction} </user>\n"
        elif role == "tool":
            call, result = message["name"].strip(), message["content"].strip()
            text += f"<obs> You have made the tool call {call}. Execution returns: {result} </obs>\n"
            if index == len(messages) - 1:
                text += f"\n<user> {AFTER_TOOL_RESULT} </user>\n"
        elif role == "assistant":
            text += f"\n{message['content'].strip()}\n"
    return text.strip()


def _last_tool_call_lines(output: str) -> list[str] | None:
    """The lines inside the last ``<tool_call>`` block (to ``</tool_call>`` or the end); None without one."""
    if not isinstance(output, str) or "<tool_call>" not in output:
        return None
    return output.split("<tool_call>")[-1].split("</tool_call>")[0].strip().split("\n")


def _json_or_none(line: str):
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def decode_ast_calls(output: str) -> list[dict]:
    """Calls for BFCL's AST checker: ``[{name: parameters}, ...]`` from the last ``<tool_call>`` block.

    One JSON object per line; a line that is not an object with a string ``name`` and a ``parameters``
    key is skipped, and so is a call named ``None`` (the prompt's way to decline). No block: ``[]``,
    which BFCL reads as "no call" (what irrelevance tests want).
    """
    lines = _last_tool_call_lines(output)
    calls = []
    for line in lines or []:
        call = _json_or_none(line)
        if not isinstance(call, dict) or not isinstance(call.get("name"), str) or "parameters" not in call:
            continue
        if call["name"].strip().lower() == "none":
            continue
        calls.append({call["name"]: call["parameters"]})
    return calls


def decode_execute_calls(output: str) -> list[str]:
    """Calls for BFCL's multi-turn executor: ``["f(a=1, b='x')", ...]`` from the last ``<tool_call>`` block.

    Lines that are not JSON objects are skipped, as are calls named ``None``. A JSON object whose
    ``name`` is not a string or whose ``parameters`` is not an object raises ``ValueError``, as in
    ToolRL's handler; BFCL then treats the whole step as undecodable.
    """
    lines = _last_tool_call_lines(output)
    calls = []
    for line in lines or []:
        call = _json_or_none(line)
        if not isinstance(call, dict):
            continue
        name, parameters = call.get("name", ""), call.get("parameters", {})
        if not isinstance(name, str) or not isinstance(parameters, dict):
            raise ValueError(f"tool call {line!r}: expected a string 'name' and a 'parameters' object")
        if name.strip().lower() == "none":
            continue
        arguments = ", ".join(f"{key}={value!r}" for key, value in parameters.items())
        calls.append(f"{name}({arguments})")
    return calls
