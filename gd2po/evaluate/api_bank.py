"""API-Bank (levels 1–3, 597 cases) scored as GD²PO's ``tool-calling/API_Bank`` scripts do.

Generation (``generate_deterministic.py``): each case's ``[system, user]`` goes through the
checkpoint's chat template, greedy, seed 42, at most 4,096 new tokens, ``max_model_len`` 4,096;
the output is stripped.

Scoring (``evaluate_reward.py``), a pure function of the outputs (:func:`score_outputs`):

* tool calls are the lines of the **first** complete ``<tool_call>…</tool_call>`` block, each
  parsed as JSON; lines that fail to parse are skipped;
* gold is ``answer[0]`` when ``answer`` is a list (levels 1 and 3), else ``answer`` (level 2);
* a case is correct when **any** predicted call has ``name`` and ``parameters`` equal (``==``) to the
  gold ones; a predicted object without ``name`` or ``parameters`` stands for the gold tool's
  parameters; a predicted entry that breaks the check (not an object) ends the search (score 0);
* format is a structural check (balanced tags, each block at most once, think first, at least one
  of tool_call / response after it, response not before the tool call ends);
* length is the training rule over the text between the first ``<think>`` and the first ``</think>``.

Metrics, in percent like the official leaderboard: ``lv1_acc``, ``lv2_acc``, ``lv3_acc``,
``overall_acc`` (pooled over all cases, not the mean of levels), ``format_rate``; and the mean
length reward ``length_mean`` and ``think_words_mean``. The tool parameters in ``system`` are Python
reprs (single quotes); they are prompt text only and never parsed for scoring.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import statistics
from pathlib import Path
from typing import Any, Sequence

from gd2po.errors import UserError

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[2] / "resources" / "tool_calling" / "api_bank"
LEVELS = (1, 2, 3)
MAX_NEW_TOKENS = 4096
MAX_MODEL_LEN = 4096
SEED = 42
LENGTH_TARGET_WORDS = 512
TAGS = ("think", "tool_call", "response")


@dataclasses.dataclass(frozen=True)
class Case:
    level: int
    index: int
    system: str
    user: str
    answer: Any

    @property
    def key(self) -> str:
        return f"Level{self.level}_{self.index}"

    def conversation(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


def load_cases(data_dir: Path = DATA_DIR, limit: int | None = None) -> list[Case]:
    """The cases of every level, in file order; ``limit`` keeps the first ``limit`` of each level."""
    cases = []
    for level in LEVELS:
        path = Path(data_dir) / f"level-{level}-api_processed.json"
        if not path.is_file():
            raise UserError(f"{path}: API-Bank level {level} file not found; it ships in resources/tool_calling/api_bank/")
        with open(path, encoding="utf-8") as handle:
            records = json.load(handle)
        for index, record in enumerate(records[:limit]):
            cases.append(Case(level, index, record["system"], record["user"], record["answer"]))
    return cases


def parse_tool_calls(output: str) -> list:
    """JSON values of the non-empty lines of the first complete tool block; bad lines are skipped."""
    if "<tool_call>" not in output or "</tool_call>" not in output:
        return []
    block = output.split("<tool_call>", 1)[1].split("</tool_call>", 1)[0].strip()
    calls = []
    for line in block.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            calls.append(json.loads(line))
        except Exception:  # noqa: BLE001 - as officially (RecursionError on deep nesting included)
            continue
    return calls


def gold_call(answer: Any) -> dict | None:
    """``answer[0]`` for a list, else ``answer``; None unless it has a string name and dict parameters."""
    gold = answer[0] if isinstance(answer, list) and answer else answer
    if isinstance(gold, dict) and isinstance(gold.get("name"), str) and isinstance(gold.get("parameters"), dict):
        return gold
    return None


def is_correct(tool_calls: Sequence, answer: Any) -> bool | None:
    """Whether any predicted call matches the gold call exactly; None when the gold is unusable."""
    gold = gold_call(answer)
    if gold is None:
        return None
    try:
        for call in tool_calls:
            if isinstance(call, str):  # the official script decodes string entries once more
                call = json.loads(call)
            if "name" not in call or "parameters" not in call:
                name, parameters = gold["name"], call
            else:
                name, parameters = call["name"], call["parameters"]
            if name == gold["name"] and parameters == gold["parameters"]:
                return True
    except Exception:  # noqa: BLE001 - as officially: a malformed entry ends the search with 0
        return False
    return False


def format_errors(output: str) -> list[str]:
    """Structural problems of ``output`` (empty list: the format is valid)."""
    text = output.strip() if isinstance(output, str) else ""
    if not text:
        return ["empty_output"]
    errors = set()
    for tag in TAGS:
        opened, closed = text.count(f"<{tag}>"), text.count(f"</{tag}>")
        if opened != closed:
            errors.add(f"unbalanced_{tag}_tags")
        if opened > 1:
            errors.add(f"multiple_{tag}_blocks")
    if errors:
        return sorted(errors)
    think_start, think_end = text.find("<think>"), text.find("</think>")
    if think_start < 0 or think_end < 0:
        return ["missing_think"]
    if think_end <= think_start:
        return ["invalid_think_order"]
    think_closed = think_end + len("</think>")
    tool_start, tool_end = text.find("<tool_call>"), text.find("</tool_call>")
    response_start, response_end = text.find("<response>"), text.find("</response>")
    has_tool, has_response = tool_start >= 0, response_start >= 0
    if not has_tool and not has_response:
        return ["missing_tool_call_and_response"]
    if has_tool:
        if tool_end <= tool_start:
            errors.add("invalid_tool_call_order")
        if tool_start < think_closed:
            errors.add("tool_call_before_think_end")
    if has_response:
        if response_end <= response_start:
            errors.add("invalid_response_order")
        if response_start < think_closed:
            errors.add("response_before_think_end")
    if has_tool and has_response:
        if response_start < tool_end:
            errors.add("response_before_tool_call_end")
        if response_end < tool_start:
            errors.add("tool_call_after_response")
    return sorted(errors)


def think_words(output: str) -> int | None:
    """Words between the first ``<think>`` and the first ``</think>``; None without that order."""
    start, end = output.find("<think>"), output.find("</think>")
    if start < 0 or end < 0 or end <= start:
        return None
    return len(output[start + len("<think>") : end].split())


def length_score(output: str) -> float:
    words = think_words(output)
    return 0.0 if words is None else min(1.0, round(words / LENGTH_TARGET_WORDS, 2))


def score_outputs(cases: Sequence[Case], outputs: Sequence[str]) -> dict[str, float]:
    """The API-Bank metrics of ``outputs[i]`` answering ``cases[i]`` (see the module docstring)."""
    if len(cases) != len(outputs):
        raise ValueError(f"{len(cases)} cases but {len(outputs)} outputs")
    correct = {level: [] for level in LEVELS}
    unscored = 0
    for case, output in zip(cases, outputs):
        verdict = is_correct(parse_tool_calls(output), case.answer)
        if verdict is None:
            unscored += 1
        else:
            correct[case.level].append(verdict)
    if unscored:
        logger.warning("API-Bank: %d cases with an unusable gold answer were left out of the accuracies", unscored)

    def percent(flags: list[bool]) -> float:
        return 100.0 * sum(flags) / len(flags) if flags else float("nan")

    metrics = {f"lv{level}_acc": percent(correct[level]) for level in LEVELS}
    metrics["overall_acc"] = percent([flag for level in LEVELS for flag in correct[level]])
    metrics["format_rate"] = percent([not format_errors(output) for output in outputs])
    metrics["length_mean"] = statistics.fmean(length_score(output) for output in outputs) if outputs else float("nan")
    metrics["think_words_mean"] = (
        statistics.fmean(think_words(output) or 0 for output in outputs) if outputs else float("nan")
    )
    return metrics


def evaluate_api_bank(context) -> dict[str, float]:
    """Generate greedily for every case of the run's checkpoint and score; raw outputs go to the work dir."""
    from gd2po.files import write_json_atomic
    from gd2po.evaluate.generation import generate_greedy

    cases = load_cases(limit=context.limit)
    outputs = generate_greedy(
        context.model_dir,
        [case.conversation() for case in cases],
        max_new_tokens=MAX_NEW_TOKENS,
        backend=context.backend,
        batch_size=context.batch_size,
        seed=SEED,
        max_model_len=MAX_MODEL_LEN,
    )
    outputs = [output.strip() for output in outputs]
    if context.work_dir is not None:
        write_json_atomic(
            Path(context.work_dir) / "api_bank" / "outputs.json",
            {case.key: {"raw_output": output, "tool_calls": parse_tool_calls(output)} for case, output in zip(cases, outputs)},
        )
    return score_outputs(cases, outputs)
