"""Loaders for the shipped safety prompts: Alpaca train/test, HH-RLHF test, PKU-SafeRLHF test.

Every loader returns :class:`PromptSet`: rows of ``{"prompt": [{"role", "content"}, ...],
"data_source": str}`` in file order, with ``data_source`` unchanged (validation metrics are keyed by
it), plus a count of the rows whose turns were merged. Provenance: ``resources/safety/PROVENANCE.md``.

HH-RLHF rule: 11 test rows hold two assistant messages in a row, which strict-alternation chat
templates reject. Each run of consecutive same-role messages is **merged** into one message, contents
joined by a blank line, so the set keeps all 8,520 rows; the merged rows are counted and logged.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from gd2po.errors import UserError
from gd2po.tasks.base import as_messages

logger = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[3] / "resources" / "safety"

ALPACA = "Stanford Alpaca"
HH_RLHF = "Anthropic/hh-rlhf"
PKU_SAFERLHF = "PKU-Alignment/PKU-SafeRLHF"

# (benchmark name, data_source, shipped file): the three official validation sets, in report order.
TEST_SETS = {
    "alpaca": (ALPACA, RESOURCES / "alpaca_prompt_only" / "test.parquet"),
    "hh_rlhf": (HH_RLHF, RESOURCES / "anthropic_hh_rlhf" / "test.parquet"),
    "pku_saferlhf": (PKU_SAFERLHF, RESOURCES / "pku-saferlhf" / "test.parquet"),
}
ALPACA_TRAIN = RESOURCES / "alpaca_prompt_only" / "train.parquet"

TURN_SEPARATOR = "\n\n"

Conversation = list[dict[str, str]]


@dataclasses.dataclass
class PromptSet:
    rows: list[dict[str, Any]]
    merged_rows: int  # rows in which consecutive same-role messages were merged
    source: Path


def merge_consecutive_turns(messages: Conversation) -> tuple[Conversation, bool]:
    """Merge each run of same-role messages into one (contents joined by a blank line).

    Returns the merged conversation and whether anything was merged.
    """
    merged: Conversation = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"]:
            merged[-1] = {"role": message["role"], "content": merged[-1]["content"] + TURN_SEPARATOR + message["content"]}
        else:
            merged.append(dict(message))
    return merged, len(merged) != len(messages)


def _messages(prompt: Any, path: Path, index: int) -> Conversation:
    try:
        messages = as_messages(prompt)
    except ValueError:
        raise UserError(f"{path}: row {index}: prompt is not a list of {{role, content}} messages") from None
    if not messages or messages[-1]["role"] != "user":
        raise UserError(f"{path}: row {index}: prompt must end with a user message")
    return messages


def load_prompts(path: Path, expected_source: str | None = None) -> PromptSet:
    """Read one shipped parquet file; merge consecutive same-role turns (counted, logged)."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: data file not found; it ships with the repository (see resources/safety/PROVENANCE.md)")
    table = pq.read_table(path, columns=["data_source", "prompt"]).to_pydict()
    rows, merged_rows = [], 0
    for index, (source, prompt) in enumerate(zip(table["data_source"], table["prompt"])):
        if expected_source is not None and source != expected_source:
            raise UserError(f"{path}: row {index}: data_source {source!r}, expected {expected_source!r}")
        messages, merged = merge_consecutive_turns(_messages(prompt, path, index))
        merged_rows += merged
        rows.append({"prompt": messages, "data_source": source})
    if merged_rows:
        logger.warning(
            "%s: merged consecutive same-role turns in %d of %d rows (joined by a blank line)", path, merged_rows, len(rows)
        )
    return PromptSet(rows=rows, merged_rows=merged_rows, source=path)


def load_test_set(benchmark: str) -> PromptSet:
    """One of the three official validation sets by benchmark name (``alpaca``, ``hh_rlhf``, ``pku_saferlhf``)."""
    if benchmark not in TEST_SETS:
        raise UserError(f"unknown safety test set {benchmark!r}; allowed: {', '.join(TEST_SETS)}")
    source, path = TEST_SETS[benchmark]
    return load_prompts(path, expected_source=source)


def load_alpaca_train() -> PromptSet:
    return load_prompts(ALPACA_TRAIN, expected_source=ALPACA)


def user_text(conversation: Conversation) -> str:
    """All user turns of a conversation, one per line: what a prompt-side rule reads."""
    return "\n".join(m["content"] for m in conversation if m["role"] == "user")


def word_count(conversation: Conversation) -> int:
    return sum(len(m["content"].split()) for m in conversation)
