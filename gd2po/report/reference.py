"""Published numbers (``results/reference/*.csv``) that stand beside ours where the setup matches.

Each CSV is long-form with the columns of :data:`COLUMNS`: one published value per row, ``metric``
in this suite's ``eval.json`` naming (``bfcl/live``, ``api_bank/overall_acc``, ...), ``method`` in
this suite's variant naming (``base`` is the untrained model), ``rewards`` the comma-separated
reward set of the published run (``any`` for untrained models) and ``source`` the paper and table.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

from gd2po.errors import UserError

COLUMNS = ("source", "table", "model", "rewards", "method", "metric", "value", "note")
ANY_REWARDS = "any"


@dataclasses.dataclass(frozen=True)
class Published:
    source: str
    table: str
    model: str
    rewards: str
    method: str
    metric: str
    value: float
    note: str


def reward_set(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def read_reference_dir(folder: Path) -> list[Published]:
    if not folder.is_dir():
        raise UserError(f"--reference-dir {folder}: not a directory")
    entries = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise UserError(f"{path}: missing columns {', '.join(missing)}; expected {', '.join(COLUMNS)}")
            for number, record in enumerate(reader, start=2):
                short = [c for c in COLUMNS if record[c] is None]
                if short:
                    raise UserError(f"{path}: line {number}: no value for {', '.join(short)}; every line has {len(COLUMNS)} fields")
                try:
                    value = float(record["value"])
                except ValueError:
                    raise UserError(f"{path}: line {number}: value {record['value']!r} is not a number") from None
                entries.append(Published(**{**{c: record[c].strip() for c in COLUMNS}, "value": value}))
    return entries


def matching(entries: list[Published], model: str, rewards: str) -> list[Published]:
    """Entries for ``model`` whose reward set equals ``rewards`` (untrained-model entries always match)."""
    wanted = reward_set(rewards)
    return [
        entry
        for entry in entries
        if entry.model.lower() == model.lower()
        and (entry.rewards == ANY_REWARDS or reward_set(entry.rewards) == wanted)
    ]
