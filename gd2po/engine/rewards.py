"""Reward functions that cannot kill a run.

A task's reward function may raise, or return ``None``/NaN/inf for a completion it cannot score.
:func:`guarded` wraps it so that such a completion gets the run's fallback value
(``rewards.failure_value``, 0.0 by default) and the event is counted; the trainer logs the counts
as ``reward/<name>/failures``. When a call raises, the batch is re-scored one completion at a time,
so only the completions that fail get the fallback.
"""

from __future__ import annotations

import functools
import logging
import math
from collections import Counter
from typing import Callable

logger = logging.getLogger(__name__)


def _score_or_none(value) -> float | None:
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    return score if math.isfinite(score) else None


def guarded(fn: Callable, fallback: float, failures: Counter) -> Callable:
    """``fn`` with TRL's reward signature, never raising and never returning a non-finite score."""
    name = fn.__name__

    def score_batch(prompts, completions, **columns) -> list:
        scores = fn(prompts=prompts, completions=completions, **columns)
        if len(scores) != len(completions):
            raise ValueError(f"reward {name!r} returned {len(scores)} scores for {len(completions)} completions")
        return list(scores)

    @functools.wraps(fn)
    def wrapper(prompts, completions, **kwargs) -> list[float]:
        per_row = {k: v for k, v in kwargs.items() if isinstance(v, list) and len(v) == len(completions)}
        shared = {k: v for k, v in kwargs.items() if k not in per_row}
        try:
            raw = score_batch(prompts, completions, **per_row, **shared)
        except Exception as error:  # a reward bug must not end a multi-hour run; it is counted instead
            logger.warning("reward %r raised %s: %s; scoring completions one by one", name, type(error).__name__, error)
            raw = []
            for i in range(len(completions)):
                row = {k: v[i : i + 1] for k, v in per_row.items()}
                try:
                    raw.extend(score_batch(prompts[i : i + 1], completions[i : i + 1], **row, **shared))
                except Exception:
                    raw.append(None)
        scores = []
        for value in raw:
            score = _score_or_none(value)
            if score is None:
                failures[name] += 1
                score = fallback
            scores.append(score)
        return scores

    return wrapper
