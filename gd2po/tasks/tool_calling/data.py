"""Loaders for the shipped tool-calling data: RLLA-4K parquet splits and the RLLA SFT file.

Every loader returns :class:`Loaded`: rows of ``{"prompt": [system, user], "ground_truth": str}``
(plus ``completion`` for SFT rows) and the number of malformed rows it skipped. A skipped row (no
ground truth, an unparsable tool-call line, a call without a ``name`` string or ``parameters``
object, a prompt that is not a message list) is reported in one warning with the reasons and
counts; nothing is dropped silently. Provenance of the files: ``resources/tool_calling/PROVENANCE.md``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from gd2po.errors import UserError
from gd2po.tasks.base import as_messages
from gd2po.tasks.tool_calling.rewards import parse_tool_block

logger = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[3] / "resources" / "tool_calling"
RLLA_TEST = RESOURCES / "rlla_4k" / "test.parquet"
RLLA_SFT = RESOURCES / "rlla_4k" / "rlla_sft.json"


@dataclasses.dataclass
class Loaded:
    rows: list[dict[str, Any]]
    skipped: int
    source: Path


def ground_truth_problem(ground_truth: Any) -> str | None:
    """Why ``ground_truth`` cannot be scored, or None when it can."""
    if not isinstance(ground_truth, str) or not ground_truth.strip():
        return "missing ground truth"
    if "<tool_call>" not in ground_truth:
        return None
    try:
        calls = parse_tool_block(ground_truth)
    except ValueError:
        return "unparsable tool-call JSON in the ground truth"
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            return "a ground-truth call without a name"
        if not isinstance(call.get("parameters"), dict):
            return "a ground-truth call without a parameters object"
    return None


def _messages(prompt: Any) -> list[dict[str, str]] | None:
    """``prompt`` as a plain list of ``{"role", "content"}`` dicts, or None if it is not one."""
    try:
        return as_messages(prompt) or None
    except ValueError:
        return None


def _collect(candidates: Iterable[tuple[dict | None, str | None]], source: Path) -> Loaded:
    rows, reasons = [], Counter()
    for row, problem in candidates:
        if problem is None:
            rows.append(row)
        else:
            reasons[problem] += 1
    skipped = sum(reasons.values())
    if skipped:
        detail = "; ".join(f"{count}× {reason}" for reason, count in sorted(reasons.items()))
        logger.warning("%s: skipped %d of %d malformed rows (%s)", source, skipped, skipped + len(rows), detail)
    return Loaded(rows=rows, skipped=skipped, source=source)


def _require(path: Path, hint: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: data file not found; {hint}")
    return path


def load_rlla_parquet(
    path: Path = RLLA_TEST, missing_hint: str = "the RLLA-4K test split ships in resources/tool_calling/rlla_4k/"
) -> Loaded:
    """An RLLA-4K split (verl schema): ``prompt`` = [system, user], ``reward_model.ground_truth``.

    A missing file is a UserError naming the path and ``missing_hint`` (how to get it)."""
    import pyarrow.parquet as pq

    path = _require(path, missing_hint)
    table = pq.read_table(path, columns=["prompt", "reward_model"]).to_pylist()

    def candidates():
        for record in table:
            messages = _messages(record.get("prompt"))
            if messages is None:
                yield None, "a prompt that is not a list of {role, content} messages"
                continue
            ground_truth = (record.get("reward_model") or {}).get("ground_truth")
            problem = ground_truth_problem(ground_truth)
            yield {"prompt": messages, "ground_truth": ground_truth}, problem

    return _collect(candidates(), path)


def load_rlla_sft(path: Path = RLLA_SFT) -> Loaded:
    """The RLLA SFT file: ``{instruction, input, output}`` with real R1-distilled think text.

    ``completion`` is the full ``output`` (the SFT target). Some thoughts quote ``<tool_call>``
    literally, so ``ground_truth`` (what the rewards compare against) is the part of ``output``
    after the first ``</think>``: the rewards never look at the ground truth's think text.
    """
    path = _require(path, "rlla_sft.json ships in resources/tool_calling/rlla_4k/")
    with open(path, encoding="utf-8") as handle:
        records = json.load(handle)

    def candidates():
        for record in records:
            output = record.get("output") if isinstance(record, dict) else None
            if not isinstance(output, str) or "</think>" not in output:
                yield None, "an output without a </think>-closed think block"
                continue
            prompt = [
                {"role": "system", "content": record.get("instruction")},
                {"role": "user", "content": record.get("input")},
            ]
            if not all(isinstance(m["content"], str) for m in prompt):
                yield None, "a missing instruction or input"
                continue
            ground_truth = output.split("</think>", 1)[1].strip()
            row = {"prompt": prompt, "ground_truth": ground_truth, "completion": output}
            yield row, ground_truth_problem(ground_truth)

    return _collect(candidates(), path)
