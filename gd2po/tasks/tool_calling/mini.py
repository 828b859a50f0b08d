"""A synthetic tool-calling task that a ~1M-parameter model learns on CPU in seconds.

Each problem lists 2–4 of six tools in a compact system prompt; the user asks for one of them in
one of five phrasings, and the answer is one call whose 1–2 argument values are copied from the
request, in the RLLA output format::

    system: Tools: music(genre) weather(city) alarm(hour)
    user:   can you forecast for "oslo"
    answer: <think> i should read the request </think>
            <tool_call>
            {"name": "weather", "parameters": {"city": "oslo"}}
            </tool_call>

The real ToolRL rewards score it (format, correctness ±3, length); the length target is scaled
from 512 to 8 think words.

Why RL has something to learn: the warm start imitates a deliberately noisy answer distribution.
For three of the five phrasings of each tool, 70% of the warm-start answers call a *confusable*
tool (weather → news, alarm → music, ...); a tenth of the other answers copy one wrong value; a
fifth of all answers break the layout (a space instead of the newline after ``</think>``). The
warm-started policy (``prepare --size mini --warmstart-steps 1000``) is right on about a third of
the held-out requests, its samples at temperature 1 mix right and wrong calls, and only the
correctness reward tells them apart; the format reward sees the layout slips, so the 2- and
3-reward settings differ.

Copying a value is what a tiny model learns last (the warm-start loss drops suddenly once it
does). Two choices make it come early and reliably: the values are quoted in the request, and
half of the warm-start prompts are copy lessons that list one tool and quote only its values.

Why the rewards conflict: the length reward pays for longer thoughts (up to 8 words; the warm start
thinks 1–8, independently of the answer), while correctness needs the right call, and every think
word spends the completion budget the call needs (a call cut off at ``max_completion_length``
scores −3).

The held-out split is fixed (it does not depend on the run seed, so methods and seeds are compared
on the same problems), and no held-out request occurs in the train or warm-start data.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import random
from typing import Iterator

from gd2po.tasks.base import Task
from gd2po.tasks.tool_calling.rewards import RewardOptions, parse_tool_block, reward_functions

# tool -> (parameters, phrasings). A phrasing names its slots in parameter order.
TOOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "weather": (("city",), ("weather in {city}", "forecast for {city}", "will it rain in {city}",
                            "is it cold in {city}", "how warm is {city}")),
    "news": (("topic",), ("news about {topic}", "headlines on {topic}", "what is new in {topic}",
                          "any stories on {topic}", "latest on {topic}")),
    "alarm": (("hour",), ("wake me at {hour}", "set an alarm for {hour}", "ring at {hour}",
                          "alert me at {hour}", "get me up at {hour}")),
    "translate": (("word", "lang"), ("translate {word} to {lang}", "say {word} in {lang}", "{word} in {lang}",
                                     "how is {word} in {lang}", "{word} into {lang}")),
    "email": (("name", "topic"), ("email {name} about {topic}", "write to {name} on {topic}",
                                  "tell {name} about {topic}", "mail {name} re {topic}", "message {name} on {topic}")),
    "music": (("genre",), ("play some {genre}", "put on {genre}", "i want {genre} songs",
                           "start {genre} music", "queue {genre}")),
}
# Disjoint single-token values. Requests quote them ("paris") so that the value is the same token in
# the request and in the JSON call: the byte-level BPE makes ` paris` (after a space) and `paris`
# (after a quote) different tokens, and a copy between different tokens is harder for a tiny model.
VALUES: dict[str, tuple[str, ...]] = {
    "city": ("paris", "rome", "oslo", "cairo", "lima", "tokyo"),
    "topic": ("golf", "tennis", "chess", "science", "travel", "art"),
    "hour": ("1", "2", "3", "4", "5", "6"),
    "word": ("apple", "house", "water", "friend", "book", "river"),
    "lang": ("french", "german", "spanish", "italian", "dutch", "polish"),
    "name": ("anna", "ben", "carl", "dora", "emma", "felix"),
    "genre": ("rock", "jazz", "blues", "pop", "reggae", "folk"),
}
WRAPPERS = ("{}", "please {}", "can you {}", "{} please", "hey {}")
EXTRA_TOOLS = (1, 3)  # how many other tools the system prompt lists next to the right one
# In the warm start, phrasings from AMBIGUOUS_FROM on are ambiguous: some answers call the confusable tool.
AMBIGUOUS_FROM = 2
CONFUSABLE = {"weather": "news", "news": "email", "alarm": "music", "translate": "weather", "email": "news",
              "music": "alarm"}
THINK_WORDS = "i should read the request pick the matching tool and copy its values into the call".split()
TEST_SEED = "tool_calling_mini:test"


@dataclasses.dataclass
class MiniOptions(RewardOptions):
    length_target_words: float = dataclasses.field(
        default=8.0, metadata={"help": "think words at which the length reward reaches 1 (the mini thoughts are short)"}
    )
    length_schedule_start_words: float = dataclasses.field(
        default=6.0, metadata={"help": "length target at step 0 when length_schedule is on (384/512 of the target)"}
    )
    length_schedule_end_words: float = dataclasses.field(
        default=10.0, metadata={"help": "length target after length_schedule_steps (640/512 of the target)"}
    )
    length_schedule_steps: int = dataclasses.field(
        default=40, metadata={"help": "steps over which the scheduled target goes from start to end words"}
    )
    num_train: int = dataclasses.field(default=1024, metadata={"help": "training prompts"})
    num_test: int = dataclasses.field(default=256, metadata={"help": "held-out prompts (a fixed set, same for every seed)"})
    warmstart_examples: int = dataclasses.field(
        default=8000, metadata={"help": "warm-start (SFT) conversations; many distinct ones make the copy emerge early"}
    )
    warmstart_ambiguous_rate: float = dataclasses.field(
        default=0.7, metadata={"help": "share of warm-start answers to an ambiguous phrasing that call the confusable tool"}
    )
    warmstart_think_words: int = dataclasses.field(
        default=8, metadata={"help": "warm-start thoughts are 1..this many words (uniform), whatever the answer"}
    )
    warmstart_bare_rate: float = dataclasses.field(
        default=0.5, metadata={"help": "share of warm-start prompts that list one tool and quote only its values"}
    )
    warmstart_format_noise: float = dataclasses.field(
        default=0.2, metadata={"help": "share of warm-start answers with a space for the newline after </think> (format 0)"}
    )
    warmstart_value_noise: float = dataclasses.field(
        default=0.1, metadata={"help": "share of warm-start answers with one argument value replaced by a wrong one"}
    )


@dataclasses.dataclass(frozen=True)
class Problem:
    tools: tuple[str, ...]  # listed in the system prompt, in this order
    phrasing: int  # index into the tool's phrasings (see AMBIGUOUS_FROM)
    request: str
    call: dict

    def prompt(self) -> list[dict[str, str]]:
        listed = " ".join(f"{name}({','.join(TOOLS[name][0])})" for name in self.tools)
        return [
            {"role": "system", "content": f"Tools: {listed}"},
            {"role": "user", "content": self.request},
        ]

    def ground_truth(self) -> str:
        return answer_text(self.call, "call the tool")


def answer_text(call: dict, think: str, separator: str = "\n") -> str:
    """An answer in the RLLA layout; any ``separator`` but a newline breaks the format reward only."""
    return f"<think> {think} </think>{separator}<tool_call>\n{json.dumps(call)}\n</tool_call>"


def sample_problem(rng: random.Random) -> Problem:
    name = rng.choice(list(TOOLS))
    parameters, phrasings = TOOLS[name]
    others = rng.sample([t for t in TOOLS if t != name], rng.randint(*EXTRA_TOOLS))
    tools = [name, *others]
    rng.shuffle(tools)
    values = {p: rng.choice(VALUES[p]) for p in parameters}
    phrasing = rng.randrange(len(phrasings))
    request = phrasings[phrasing].format(**{p: f'"{v}"' for p, v in values.items()})
    request = rng.choice(WRAPPERS).format(request)
    return Problem(tuple(tools), phrasing, request, {"name": name, "parameters": values})


def bare_problem(rng: random.Random) -> Problem:
    """A one-tool prompt whose request is only the quoted values: a copy lesson for the warm start."""
    name = rng.choice(list(TOOLS))
    values = {p: rng.choice(VALUES[p]) for p in TOOLS[name][0]}
    request = " ".join(f'"{v}"' for v in values.values())
    return Problem((name,), 0, request, {"name": name, "parameters": values})


def problems(
    count: int, rng: random.Random, exclude: frozenset[str] = frozenset(), distinct_requests: bool = False
) -> list[Problem]:
    """``count`` problems with distinct prompts (or distinct requests), none whose request is in ``exclude``."""
    chosen: dict = {}
    for _ in range(count * 100):
        if len(chosen) == count:
            break
        problem = sample_problem(rng)
        if problem.request not in exclude:
            chosen.setdefault(problem.request if distinct_requests else (problem.tools, problem.request), problem)
    return list(chosen.values())


@functools.lru_cache(maxsize=4)
def _held_out(count: int) -> tuple[Problem, ...]:
    return tuple(problems(count, random.Random(TEST_SEED), distinct_requests=True))


def held_out_problems(options: MiniOptions) -> list[Problem]:
    """The fixed held-out problems: distinct requests, the same for every seed."""
    return list(_held_out(options.num_test))


def _held_out_requests(options: MiniOptions) -> frozenset[str]:
    return frozenset(p.request for p in held_out_problems(options))


def _noisy_call(problem: Problem, options: MiniOptions, rng: random.Random) -> dict:
    """The warm-start answer's call: right, or the confusable tool, or one wrong value."""
    name = problem.call["name"]
    values = dict(problem.call["parameters"])
    ambiguous = problem.phrasing >= AMBIGUOUS_FROM
    if ambiguous and rng.random() < options.warmstart_ambiguous_rate:
        name = CONFUSABLE[name]
        pool = list(values.values())
        values = {p: (pool[i] if i < len(pool) else rng.choice(VALUES[p])) for i, p in enumerate(TOOLS[name][0])}
    elif rng.random() < options.warmstart_value_noise:
        parameter = rng.choice(list(values))
        values[parameter] = rng.choice([v for v in VALUES[parameter] if v != values[parameter]])
    return {"name": name, "parameters": values}


def _think(rng: random.Random, options: MiniOptions) -> str:
    """A prefix of one fixed sentence: its length is the only thing the length reward sees."""
    return " ".join(THINK_WORDS[: rng.randint(1, options.warmstart_think_words)])


class MiniToolCallingTask(Task):
    name = "tool_calling_mini"
    suite = "tool_calling"
    Options = MiniOptions
    warmstart_steps = 1000  # before 600-900 steps the model cannot yet copy values (held-out accuracy ~0)

    def reward_functions(self, options: MiniOptions) -> list:
        return reward_functions(options)

    def _dataset(self, rows: list[Problem]):
        from datasets import Dataset

        return Dataset.from_list([{"prompt": p.prompt(), "ground_truth": p.ground_truth()} for p in rows])

    def train_dataset(self, options: MiniOptions, seed: int):
        return self._dataset(problems(options.num_train, random.Random(f"{seed}:train"), _held_out_requests(options)))

    def test_dataset(self, options: MiniOptions, seed: int):
        return self._dataset(held_out_problems(options))

    def tokenizer_corpus(self, options: MiniOptions, seed: int) -> Iterator[str]:
        yield " ".join(THINK_WORDS)
        for values in VALUES.values():
            yield " ".join(values)
        for conversation in self.warmstart_conversations(options, seed):
            for message in conversation:
                yield message["content"]

    def warmstart_conversations(self, options: MiniOptions, seed: int) -> list[list[dict]]:
        """Noisy demonstrations: ambiguous phrasings often call the confusable tool; some values are wrong;
        some answers break the layout."""
        rng = random.Random(f"{seed}:warmstart")
        conversations = []
        for problem in problems(options.warmstart_examples, rng, _held_out_requests(options)):
            if rng.random() < options.warmstart_bare_rate:
                problem = bare_problem(rng)
            call = _noisy_call(problem, options, rng)
            separator = " " if rng.random() < options.warmstart_format_noise else "\n"
            answer = answer_text(call, _think(rng, options), separator)
            conversations.append([*problem.prompt(), {"role": "assistant", "content": answer}])
        return conversations


def exact_match(response: str, ground_truth: str) -> bool:
    """The first tool block of ``response`` parses to exactly the ground-truth call list."""
    try:
        return parse_tool_block(response.strip()) == parse_tool_block(ground_truth)
    except ValueError:
        return False
