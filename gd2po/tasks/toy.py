"""A toy task for engine tests and smoke runs: one-digit additions with two conflicting rewards.

The prompt asks "What is 3 plus 4?". Two rule-based rewards pull apart:

* ``correctness``: 1 if the first integer in the answer is the sum, else 0;
* ``brevity``: ``max(0, 1 - len(answer) / brevity_chars)``, so an empty answer scores best.

A long correct answer ("3 plus 4 is 7.") and a short wrong one ("5") therefore get advantages of
opposite signs under a per-reward normalisation, which is the conflict GD²PO filters.
"""

from __future__ import annotations

import dataclasses
import random
import re

from gd2po.tasks.base import Task, completion_text

_FIRST_INTEGER = re.compile(r"-?\d+")


@dataclasses.dataclass
class ToyOptions:
    num_prompts: int = dataclasses.field(default=32, metadata={"help": "number of training prompts"})
    brevity_chars: int = dataclasses.field(
        default=24, metadata={"help": "answer length (characters) at which the brevity reward reaches 0"}
    )


def _question(a: int, b: int) -> list[dict]:
    return [{"role": "user", "content": f"What is {a} plus {b}?"}]


def _answers(a: int, b: int) -> list[str]:
    """Ways to answer, from terse to verbose; all correct."""
    s = a + b
    return [f"{s}", f"{s}.", f"The answer is {s}.", f"{a} plus {b} is {s}."]


class ToyTask(Task):
    name = "toy"
    suite = "toy"
    Options = ToyOptions

    def reward_functions(self, options: ToyOptions) -> list:
        brevity_chars = max(1, options.brevity_chars)

        def correctness(prompts, completions, answer, **_) -> list[float]:
            scores = []
            for completion, expected in zip(completions, answer):
                found = _FIRST_INTEGER.search(completion_text(completion))
                scores.append(1.0 if found and found.group() == str(expected) else 0.0)
            return scores

        def brevity(prompts, completions, **_) -> list[float]:
            return [max(0.0, 1.0 - len(completion_text(c).strip()) / brevity_chars) for c in completions]

        return [correctness, brevity]

    def _pairs(self, count: int, seed: int) -> list[tuple[int, int]]:
        pairs = [(a, b) for a in range(10) for b in range(10)]
        random.Random(seed).shuffle(pairs)
        return [pairs[i % len(pairs)] for i in range(count)]

    def _dataset(self, pairs: list[tuple[int, int]]):
        from datasets import Dataset

        return Dataset.from_dict(
            {"prompt": [_question(a, b) for a, b in pairs], "answer": [str(a + b) for a, b in pairs]}
        )

    def train_dataset(self, options: ToyOptions, seed: int):
        return self._dataset(self._pairs(options.num_prompts, seed))

    def test_dataset(self, options: ToyOptions, seed: int):
        return self._dataset(self._pairs(100, seed + 1)[-32:])

    def tokenizer_corpus(self, options: ToyOptions, seed: int) -> list[str]:
        return [
            text
            for a in range(10)
            for b in range(10)
            for text in [_question(a, b)[0]["content"], *_answers(a, b)]
        ]

    def warmstart_conversations(self, options: ToyOptions, seed: int) -> list[list[dict]]:
        rng = random.Random(seed)
        conversations = []
        for a, b in self._pairs(100, seed):
            answer = rng.choice(_answers(a, b))
            conversations.append([*_question(a, b), {"role": "assistant", "content": answer}])
        return conversations
