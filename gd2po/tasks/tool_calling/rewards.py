"""ToolRL / GD²PO tool-calling rewards: format, correctness and length.

A re-implementation of ``tool-calling/verl/utils/reward_score/rlla.py`` (Qwen-Applications/GD2PO
@ f1ad765, the same rules as ToolRL's) with every environment flag turned into a field of
:class:`RewardOptions`. ``docs/setups.md`` §1.3 of the shared docs lists the rules; the comments
below name the corner cases the official code pins down.

Inputs are the assistant's text only. The official scorer cuts the assistant turn out of the
decoded chat by matching ``<|im_start|>assistant`` (Qwen) or ``<|start_header_id|>`` (Llama);
here that job is done by the tokenizer itself: TRL and :mod:`gd2po.evaluate.generation` decode
only the completion tokens with ``skip_special_tokens=True``, so no template marker reaches a
scorer whatever the model family. Both then strip surrounding whitespace, as the official code does.

Ranges: format ∈ {0, 1}; correctness ∈ [−correctness_max, +correctness_max] (0 when the ground
truth has no tool call); length ∈ [0, 1].
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from typing import Any, Callable

from gd2po.errors import UserError
from gd2po.tasks.base import completion_text

REWARD_NAMES = ("correctness", "length", "format")
GRANULARITIES = ("default", "refined", "intermediate", "coarse")

_FORMAT_TOOL = re.compile(r"^<think>.*?</think>\n<tool_call>\n.*?\n</tool_call>$", re.DOTALL)
_FORMAT_RESPONSE = re.compile(r"^<think>.*?</think>\n<response>.*?</response>$", re.DOTALL)
_FORMAT_BOTH = re.compile(
    r"^<think>.*?</think>\n<tool_call>\n.*?\n</tool_call>\n<response>.*?</response>$", re.DOTALL
)
_FORMAT_THINK = re.compile(r"^<think>.*?</think>$", re.DOTALL)


@dataclasses.dataclass
class RewardOptions:
    """The reward flags of rlla.py as config fields; the defaults are those of the paper's runs (the
    2-reward setting, correctness ±3, length target 512 words), not rlla.py's unset-flag fallbacks."""

    rewards: str = dataclasses.field(
        default="correctness,length",
        metadata={
            "help": "comma-separated rewards, in reward-matrix column order, from correctness, length, format; "
            "the paper's settings are 'correctness,length' and 'correctness,length,format'"
        },
    )
    correctness_max: float = dataclasses.field(
        default=3.0,
        metadata={"help": "correctness lies in [-correctness_max, +correctness_max]: 3 (official) or 1 (ToolRL CORRECTMAX1)"},
    )
    correctness_granularity: str = dataclasses.field(
        default="default",
        metadata={
            "help": "ToolRL granularity ablation: default (fine-grained), refined (REFINEDREWARD: name/key lists must "
            "match exactly), intermediate (INTERMEDIATEREWARD: a call scores only when exactly right), "
            "coarse (COARSEREWARD: all or nothing)"
        },
    )
    length_target_words: float = dataclasses.field(
        default=512.0, metadata={"help": "think words at which the length reward reaches 1 (without a schedule)"}
    )
    length_schedule: bool = dataclasses.field(
        default=False,
        metadata={"help": "ToolRL SCHEDULELENGTH: the target grows linearly with the training step (and keeps growing)"},
    )
    length_schedule_start_words: float = dataclasses.field(
        default=384.0, metadata={"help": "length target at step 0 when length_schedule is on"}
    )
    length_schedule_end_words: float = dataclasses.field(
        default=640.0, metadata={"help": "length target at step length_schedule_steps when length_schedule is on"}
    )
    length_schedule_steps: int = dataclasses.field(
        default=105, metadata={"help": "steps over which the scheduled target goes from start to end words"}
    )

    def reward_list(self) -> list[str]:
        names = [name.strip() for name in str(self.rewards).split(",") if name.strip()]
        unknown = [name for name in names if name not in REWARD_NAMES]
        if unknown or not names or len(set(names)) != len(names):
            raise UserError(
                f"task.rewards={self.rewards!r}: expected distinct names from {', '.join(REWARD_NAMES)}, "
                "e.g. 'correctness,length' or 'correctness,length,format'"
            )
        return names

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise UserError naming the bad field."""
        self.reward_list()
        if self.correctness_granularity not in GRANULARITIES:
            raise UserError(
                f"task.correctness_granularity={self.correctness_granularity!r}: allowed: {', '.join(GRANULARITIES)}"
            )
        if not self.correctness_max > 0:
            raise UserError(f"task.correctness_max={self.correctness_max}: expected a positive number")
        for name in ("length_target_words", "length_schedule_start_words", "length_schedule_end_words"):
            if not getattr(self, name) > 0:
                raise UserError(f"task.{name}={getattr(self, name)}: expected a positive number of words")
        if self.length_schedule_steps < 1:
            raise UserError(f"task.length_schedule_steps={self.length_schedule_steps}: expected a positive integer")

    def length_target(self, step: int) -> float:
        """The official schedule: ``(end - start) * step / steps + start``, not capped after ``steps``."""
        if not self.length_schedule:
            return float(self.length_target_words)
        span = self.length_schedule_end_words - self.length_schedule_start_words
        return span * step / self.length_schedule_steps + self.length_schedule_start_words


def format_reward(response: str, ground_truth: str) -> float:
    """1 if ``response`` has the layout the ground truth's shape asks for, else 0.

    The shape is which of ``<tool_call>`` / ``<response>`` the ground truth contains. The pattern is
    matched whole (``^…$``, DOTALL, no MULTILINE); the counted tags must occur exactly once. The
    think-only shape checks no counts, so two think blocks still match.
    """
    wants_tool, wants_response = "<tool_call>" in ground_truth, "<response>" in ground_truth
    tool_once = response.count("<tool_call>") == 1 and response.count("</tool_call>") == 1
    response_once = response.count("<response>") == 1 and response.count("</response>") == 1
    # The counts are checked before the regex (the official code checks after): same result, and
    # the lazy patterns never run on texts that would fail anyway.
    if wants_response and not wants_tool:
        ok = response_once and _FORMAT_RESPONSE.search(response) is not None
    elif wants_tool and not wants_response:
        ok = tool_once and _FORMAT_TOOL.search(response) is not None
    elif wants_tool and wants_response:
        ok = tool_once and response_once and _FORMAT_BOTH.search(response) is not None
    else:
        ok = _FORMAT_THINK.search(response) is not None
    return 1.0 if ok else 0.0


def think_text(response: str) -> str | None:
    """The text after the last ``<think>`` up to the first ``</think>`` after it, stripped; None without both tags."""
    if "<think>" not in response or "</think>" not in response:
        return None
    return response.split("<think>")[-1].split("</think>")[0].strip()


def length_reward(response: str, target_words: float) -> float:
    """``min(1, round(words / target_words, 2))`` over the think text; 0 without a think block."""
    text = think_text(response)
    if text is None:
        return 0.0
    return min(1.0, round(len(text.split()) / target_words, 2))


def parse_tool_block(text: str) -> list:
    """The JSON value of every line of the first ``<tool_call>`` block of ``text``.

    Raises ValueError when the block is missing or any line fails to parse (the official rule).
    """
    if "<tool_call>" not in text or "</tool_call>" not in text:
        raise ValueError("no <tool_call>…</tool_call> block")
    block = text.split("<tool_call>")[1].split("</tool_call>")[0].strip()
    return [json.loads(line) for line in block.split("\n")]


def match_score(first: list, second: list, strict: bool = False) -> float:
    """Multiset Jaccard |a∩b| / (|a| + |b| − |a∩b|); 1 for equal lists. ``strict``: 1 if equal else 0."""
    if first == second:
        return 1.0
    if strict or not first or not second:
        return 0.0
    count1, count2 = Counter(first), Counter(second)
    intersection = sum(min(count1[key], count2[key]) for key in count1.keys() & count2.keys())
    return intersection / (len(first) + len(second) - intersection)


def tool_call_score(gt_calls: list[dict], pd_calls: list, granularity: str = "default") -> tuple[float, float]:
    """``(score, S_max)`` of rlla.py's ``compute_tool_call_reward``; ``(1, 1)`` for an exact match.

    score = J(GT names, predicted names) + Σ_j best[J(keys G_j, keys P) + #equal values], greedy over
    GT calls in order, P among unused same-name predictions (strictly best; ties: earliest; a
    candidate scoring 0 is never taken). S_max = 1 + Σ_j (1 + |keys G_j|). Malformed predictions
    (not a dict, no name, same-name call without dict parameters) raise, as they do officially.
    """
    if gt_calls == pd_calls:
        return 1.0, 1.0
    if granularity == "coarse":
        return 0.0, 1.0
    strict = granularity == "refined"
    intermediate = granularity == "intermediate"
    score = match_score([call["name"] for call in gt_calls], [call["name"] for call in pd_calls], strict)
    score_max = 1.0
    used: set[int] = set()
    for gt_call in gt_calls:
        gt_params = gt_call["parameters"]
        score_max += 1.0 if intermediate else 1.0 + len(gt_params)
        best_score, best_index = 0.0, -1
        for index, pd_call in enumerate(pd_calls):
            if index in used or pd_call["name"] != gt_call["name"]:
                continue
            if intermediate:
                if gt_call == pd_call:
                    best_score, best_index = 1.0, index
                    break
                continue
            pd_params = pd_call["parameters"]
            candidate = match_score(list(gt_params.keys()), list(pd_params.keys()), strict)
            candidate += sum(1.0 for key, value in gt_params.items() if key in pd_params and pd_params[key] == value)
            if candidate > best_score:
                best_score, best_index = candidate, index
        if best_index >= 0:
            used.add(best_index)
            score += best_score
    return score, score_max


def correctness_reward(
    response: str, ground_truth: str, correctness_max: float = 3.0, granularity: str = "default"
) -> float:
    """``2·max·score/S_max − max`` for the first tool block; −max when unparsable; 0 if the GT has no call."""
    if "<tool_call>" not in ground_truth:
        return 0.0
    gt_calls = parse_tool_block(ground_truth)  # a bad ground truth is a data error: loaders skip those rows
    try:
        score, score_max = tool_call_score(gt_calls, parse_tool_block(response), granularity)
    except Exception:  # noqa: BLE001 - the official scorer maps *any* failure (incl. RecursionError) to the minimum
        return -correctness_max
    # The official operation order, so results agree to the last bit: (max - min) * score / S_max + min.
    return 2.0 * correctness_max * score / score_max - correctness_max


def score_response(response: str, ground_truth: str) -> dict[str, float]:
    """The three official rewards with the default flags (correctness ±3, length target 512 words)."""
    return score_all(response, ground_truth, RewardOptions())


def score_all(response: str, ground_truth: str, options: RewardOptions, step: int = 0) -> dict[str, float]:
    """All three rewards under ``options`` at training step ``step`` (for evaluation and logging)."""
    text = response.strip()
    return {
        "format": format_reward(text, ground_truth),
        "correctness": correctness_reward(text, ground_truth, options.correctness_max, options.correctness_granularity),
        "length": length_reward(text, options.length_target(step)),
    }


def reward_functions(options: RewardOptions) -> list[Callable[..., list[float]]]:
    """TRL reward functions, one per enabled reward in ``options.rewards`` order.

    Each takes the dataset's ``ground_truth`` column; the length schedule reads the step from TRL's
    ``trainer_state`` keyword.
    """
    def step_of(trainer_state: Any) -> int:
        return int(getattr(trainer_state, "global_step", 0) or 0)

    def correctness(prompts, completions, ground_truth, **_) -> list[float]:
        return [
            correctness_reward(
                completion_text(c).strip(), gt, options.correctness_max, options.correctness_granularity
            )
            for c, gt in zip(completions, ground_truth)
        ]

    def length(prompts, completions, ground_truth, trainer_state=None, **_) -> list[float]:
        target = options.length_target(step_of(trainer_state))
        return [length_reward(completion_text(c).strip(), target) for c in completions]

    def format(prompts, completions, ground_truth, **_) -> list[float]:  # noqa: A001 - the reward's name
        return [format_reward(completion_text(c).strip(), gt) for c, gt in zip(completions, ground_truth)]

    available = {"correctness": correctness, "length": length, "format": format}
    return [available[name] for name in options.reward_list()]
