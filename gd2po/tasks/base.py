"""What a task supplies to training and evaluation. A task knows nothing of algorithms.

A task is a dataset of conversational prompts plus named reward functions:

* ``train_dataset(options, seed)`` and ``test_dataset(options, seed)`` return a ``datasets.Dataset``
  with a ``prompt`` column (a list of ``{"role", "content"}`` messages) and any ground-truth columns
  the rewards need. TRL passes every extra column to the reward functions as keyword arguments.
* ``reward_functions(options)`` returns callables with TRL's reward signature
  ``fn(prompts, completions, **columns) -> list[float | None]``; each function's ``__name__`` is the
  reward's name (``correctness``, ``length``, ``useful``, ...). The order is the column order of the
  reward matrix ``(B, K)`` that the algorithm core receives.
* ``Options`` is a dataclass: every field has a default and ``metadata={"help": ...}``. The run
  config's ``task:`` section fills it (``task.name`` picks the task).
* Mini tasks for CPU runs also supply ``tokenizer_corpus`` and ``warmstart_conversations`` so a tiny
  local model can be built and warm-started (``python -m gd2po prepare``); real tasks return ``None``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, ClassVar, Iterable, Sequence

RewardFunction = Callable[..., list]


def as_messages(prompt: Any) -> list[dict[str, str]]:
    """``prompt`` (a sequence of mappings with ``role`` and ``content``) as plain string dicts.

    Raises ValueError if it is not one; callers say which file, row or argument it came from.
    """
    try:
        return [{"role": str(m["role"]), "content": str(m["content"])} for m in prompt]
    except (TypeError, KeyError):
        raise ValueError("not a list of {role, content} messages") from None


def completion_text(completion: Any) -> str:
    """The assistant text of one completion, whether TRL passed a string or a message list."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return ""


class Task:
    """Base class of every task; subclasses set the class attributes and override the methods."""

    name: ClassVar[str]
    suite: ClassVar[str]  # which evaluation suite applies: "tool_calling", "safety" (or "toy": none)
    Options: ClassVar[type]
    # SFT steps `python -m gd2po prepare` runs on the warm-start conversations unless told otherwise.
    warmstart_steps: ClassVar[int] = 300

    def reward_functions(self, options: Any) -> list[RewardFunction]:
        raise NotImplementedError

    def train_dataset(self, options: Any, seed: int):
        raise NotImplementedError

    def test_dataset(self, options: Any, seed: int):
        raise NotImplementedError

    def tokenizer_corpus(self, options: Any, seed: int) -> Iterable[str] | None:
        return None

    def warmstart_conversations(self, options: Any, seed: int) -> list[list[dict]] | None:
        return None

    def run_metadata(self, options: Any) -> dict:
        """What a run's ``summary.json`` should record about the task (e.g. reward-model paths and signs)."""
        return {}

    def option_fields(self) -> dict[str, dataclasses.Field]:
        return {f.name: f for f in dataclasses.fields(self.Options)}
