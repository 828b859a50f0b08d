"""RLLA-4K (ToolRL): the real tool-calling task of the GPU paper runs.

The train split (3,920 rows) is downloaded once (``python -m gd2po.tasks.tool_calling.download``)
to ``dataset/rlla_4k/train.parquet``; the 80-row test split ships in ``resources/``. Rewards are the
official format / correctness / length rules of :mod:`gd2po.tasks.tool_calling.rewards`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gd2po.tasks.base import Task
from gd2po.tasks.tool_calling.data import RLLA_TEST, Loaded, load_rlla_parquet
from gd2po.tasks.tool_calling.download import DOWNLOAD_COMMAND, TRAIN_PATH
from gd2po.tasks.tool_calling.rewards import RewardOptions, reward_functions


@dataclasses.dataclass
class RllaOptions(RewardOptions):
    train_path: str = dataclasses.field(
        default=str(TRAIN_PATH), metadata={"help": "RLLA-4K train.parquet (downloaded, see the download command)"}
    )


def rows_to_dataset(loaded: Loaded):
    from datasets import Dataset

    return Dataset.from_list([{"prompt": row["prompt"], "ground_truth": row["ground_truth"]} for row in loaded.rows])


class RllaTask(Task):
    name = "tool_calling"
    suite = "tool_calling"
    Options = RllaOptions

    def reward_functions(self, options: RllaOptions) -> list:
        return reward_functions(options)

    def train_dataset(self, options: RllaOptions, seed: int):
        path = Path(options.train_path)
        hint = (
            f"the RLLA-4K train split (task.train_path) is not shipped; "
            f"download and verify it with `{DOWNLOAD_COMMAND} --out {path}`"
        )
        return rows_to_dataset(load_rlla_parquet(path, missing_hint=hint))

    def test_dataset(self, options: RllaOptions, seed: int):
        return rows_to_dataset(load_rlla_parquet(RLLA_TEST))
