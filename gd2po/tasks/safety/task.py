"""The helpfulness–safety task of the GD²PO paper runs (GPU): Alpaca prompts, two reward models.

Training prompts are the 51,490 Alpaca prompts; validation uses the three official test sets (Alpaca
512, HH-RLHF 8,520, PKU-SafeRLHF 8,211), each row keeping its ``data_source``. The rewards are
``useful`` (helpfulness RM, e.g. ``Qwen2.5-7B-SafeRLHF-RM``) and ``harmless`` (cost model, e.g.
``Qwen2.5-7B-SafeRLHF-CM``), both scored by :class:`~gd2po.tasks.safety.reward_models.RewardModelScorer`
and used as they are by default, as the official config does. Users download the models themselves
(ModelScope ``Artessay/Qwen2.5-7B-SafeRLHF-RM`` and ``-CM``) and set ``task.useful_model`` and
``task.harmless_model``.
"""

from __future__ import annotations

import dataclasses

from gd2po.errors import UserError
from gd2po.tasks.base import Task
from gd2po.tasks.safety import data
from gd2po.tasks.safety.reward_models import RewardModelScorer, RewardModelSpec, check_sign, reward_function


def _field(default, help_text: str):
    return dataclasses.field(default=default, metadata={"help": help_text})


@dataclasses.dataclass
class SafetyOptions:
    useful_model: str = _field("", "helpfulness reward model dir (official: Qwen2.5-7B-SafeRLHF-RM)")
    harmless_model: str = _field("", "harmlessness (cost) model dir (official: Qwen2.5-7B-SafeRLHF-CM)")
    useful_higher_is_better: bool = _field(True, "False negates the helpfulness model's output")
    harmless_higher_is_better: bool = _field(
        True, "False negates the cost model's output (official config: True, the output is used as is)"
    )
    useful_scale: float = _field(1.0, "helpfulness reward = scale * signed output + shift")
    useful_shift: float = _field(0.0, "see useful_scale")
    harmless_scale: float = _field(1.0, "harmlessness reward = scale * signed output + shift")
    harmless_shift: float = _field(0.0, "see harmless_scale")
    rm_max_length: int = _field(2048, "tokens a reward model reads; longer inputs are left-truncated (counted)")
    rm_batch_size: int = _field(8, "pairs per reward-model forward pass")
    rm_dtype: str = _field("auto", "reward-model weights dtype: auto (bfloat16 on GPU, float32 on CPU), float32, bfloat16, float16")
    check_sign: bool = _field(True, "score clear-cut probes before training; stop if a declared sign contradicts them")


class SafetyTask(Task):
    name = "safety"
    suite = "safety"
    Options = SafetyOptions
    reports_refusals = False

    def _spec(self, options: SafetyOptions, dimension: str) -> RewardModelSpec:
        path = getattr(options, f"{dimension}_model")
        if not path:
            raise UserError(
                f"task.{dimension}_model: required for task {self.name!r}; download the model "
                f"(official: Artessay/Qwen2.5-7B-SafeRLHF-{'RM' if dimension == 'useful' else 'CM'}) and set its directory"
            )
        if options.rm_dtype not in ("auto", "float32", "bfloat16", "float16"):
            raise UserError(f"task.rm_dtype: {options.rm_dtype!r}; allowed: auto, float32, bfloat16, float16")
        return RewardModelSpec(
            path=path,
            higher_is_better=getattr(options, f"{dimension}_higher_is_better"),
            scale=getattr(options, f"{dimension}_scale"),
            shift=getattr(options, f"{dimension}_shift"),
            max_length=options.rm_max_length,
            batch_size=options.rm_batch_size,
            dtype=options.rm_dtype,
        )

    def __init__(self):
        self.sign_margins: dict[str, float] = {}  # filled by the sign check when scorers are loaded

    def evaluation_scorers(self, options: SafetyOptions):
        """(helpfulness scorer, harmlessness scorer), loaded and, unless disabled, sign-checked."""
        scorers = []
        for dimension in ("useful", "harmless"):
            scorer = RewardModelScorer(self._spec(options, dimension), name=dimension)
            if options.check_sign:
                self.sign_margins[dimension] = check_sign(scorer, dimension, f"task.{dimension}_higher_is_better")
            scorers.append(scorer)
        return tuple(scorers)

    def reward_functions(self, options: SafetyOptions) -> list:
        useful, harmless = self.evaluation_scorers(options)
        return [reward_function("useful", useful), reward_function("harmless", harmless)]

    def run_metadata(self, options: SafetyOptions) -> dict:
        """What a run dir should record about its reward models: path, sign, normalisation, max length,
        and the sign check's mean probe margins (better minus worse) once the models were loaded."""
        metadata = {dimension: self._spec(options, dimension).metadata() for dimension in ("useful", "harmless")}
        for dimension, margin in self.sign_margins.items():
            metadata[dimension]["sign_check_margin"] = margin
        return metadata

    def train_dataset(self, options: SafetyOptions, seed: int):
        from datasets import Dataset

        return Dataset.from_list(data.load_alpaca_train().rows)

    def evaluation_sets(self, options: SafetyOptions, limit: int | None = None) -> dict[str, list[dict]]:
        """The three official validation sets, in file order, each cut to its first ``limit`` rows."""
        return {name: data.load_test_set(name).rows[:limit] for name in data.TEST_SETS}

    def test_dataset(self, options: SafetyOptions, seed: int):
        from datasets import Dataset

        return Dataset.from_list([row for rows in self.evaluation_sets(options).values() for row in rows])
