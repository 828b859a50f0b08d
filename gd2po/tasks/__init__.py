"""Task registry: ``get_task(name)`` returns a :class:`gd2po.tasks.base.Task` instance."""

from __future__ import annotations

import importlib

from gd2po.errors import UserError

# name -> "module:attribute"; modules are imported on first use so the CLI starts fast.
TASKS = {
    "tool_calling": "gd2po.tasks.tool_calling.task:RllaTask",
    "tool_calling_mini": "gd2po.tasks.tool_calling.mini:MiniToolCallingTask",
    "safety": "gd2po.tasks.safety.task:SafetyTask",
    "safety_mini": "gd2po.tasks.safety.mini:MiniSafetyTask",
    "toy": "gd2po.tasks.toy:ToyTask",
}


def get_task(name: str):
    if name not in TASKS:
        raise UserError(f"unknown task {name!r}; allowed: {', '.join(sorted(TASKS))}")
    module_name, attribute = TASKS[name].split(":")
    return getattr(importlib.import_module(module_name), attribute)()
