"""Rows of a table or figure: a label and a folder of ``seed<N>/`` run dirs, and what those run dirs hold."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

from gd2po.errors import UserError

SEED_DIR = re.compile(r"^seed(\d+)$")
REWARD_KEY = re.compile(r"^reward/([^/]+)/mean$")

METHOD_LABELS = {
    "base": "Base (no RL)",
    "grpo": "GRPO",
    "gdpo": "GDPO",
    "dapo": "DAPO",
    "gd2po_hard": "GD²PO-Hard",
    "gd2po_snr": "GD²PO-SNR",
    "gd2po_filter_only": "GD²PO filter only",
    "gd2po_reweight_only": "GD²PO reweight only",
}
# Canonical row order when rows are discovered from a folder instead of given.
METHOD_ORDER = list(METHOD_LABELS)


@dataclasses.dataclass(frozen=True)
class Row:
    """One table row or plot line: ``path`` holds ``seed<N>/`` run dirs of one variant of one setting."""

    label: str
    path: Path
    seeds: tuple[int, ...] | None = None  # None: every seed<N>/ found

    @property
    def variant(self) -> str:
        return self.path.name

    @property
    def setting(self) -> str:
        return self.path.parent.name

    def run_dirs(self) -> dict[int, Path]:
        """``{seed: run dir}`` of this row's seeds; other ``seed<N>/`` folders (stale or shared runs) are ignored."""
        found = seed_dirs(self.path)
        if self.seeds is None:
            return found
        return {seed: run_dir for seed, run_dir in found.items() if seed in self.seeds}


def parse_row(text: str) -> Row:
    """``LABEL=DIR`` or ``DIR``; the label may contain ``=`` (the last one separates) and ``{method}``,
    which stands for the method's usual name (``GD²PO-SNR`` for ``.../gd2po_snr``)."""
    label, separator, path = text.rpartition("=")
    if not separator:
        label, path = "", text
    if not path:
        raise UserError(f"--row {text!r}: expected [LABEL=]DIR")
    path = Path(path)
    default = METHOD_LABELS.get(path.name, path.name)
    return Row(label.replace("{method}", default) if label else default, path)


def discover_rows(folder: Path) -> list[Row]:
    """Every variant folder under ``folder`` that holds seed dirs, known methods first in canonical order."""
    if not folder.is_dir():
        raise UserError(f"--runs {folder}: not a directory")
    variants = [child for child in folder.iterdir() if child.is_dir() and seed_dirs(child)]
    if not variants:
        raise UserError(f"--runs {folder}: no <variant>/seed<N>/ run dirs inside")
    rank = {name: i for i, name in enumerate(METHOD_ORDER)}
    variants.sort(key=lambda p: (rank.get(p.name, len(rank)), p.name))
    return [parse_row(str(path)) for path in variants]


def rows_from_args(rows: list[str] | None, runs: Path | None) -> list[Row]:
    if rows and runs:
        raise UserError("give either --row (repeatable) or --runs, not both")
    if runs:
        return discover_rows(runs)
    if not rows:
        raise UserError("no rows: give --row [LABEL=]DIR (repeatable) or --runs DIR")
    return [parse_row(text) for text in rows]


def with_seeds(row: Row, seeds: tuple[int, ...] | None, seeds_by_variant: dict[str, tuple[int, ...]]) -> Row:
    """``row`` reading only its variant's seeds from ``seeds_by_variant``, else ``seeds`` (None: all found)."""
    return dataclasses.replace(row, seeds=seeds_by_variant.get(row.variant, seeds))


def seed_dirs(folder: Path) -> dict[int, Path]:
    """``{seed: run dir}`` for the ``seed<N>`` folders of ``folder``."""
    if not folder.is_dir():
        return {}
    found = {}
    for child in folder.iterdir():
        match = SEED_DIR.match(child.name)
        if match and child.is_dir():
            found[int(match.group(1))] = child
    return dict(sorted(found.items()))


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: not found") from None
    except json.JSONDecodeError as error:
        raise UserError(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None


def eval_metrics(row: Row) -> dict[int, dict[str, float]]:
    """``{seed: {metric: value}}`` from each seed's ``eval.json`` (booleans and non-numbers dropped)."""
    found = {}
    for seed, run_dir in row.run_dirs().items():
        path = run_dir / "eval.json"
        if not path.is_file():
            continue
        metrics = read_json(path).get("metrics")
        if not isinstance(metrics, dict):
            raise UserError(f"{path}: no `metrics` mapping; was it written by `python -m gd2po evaluate`?")
        found[seed] = {
            key: float(value)
            for key, value in metrics.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        }
    if not found:
        raise UserError(f"{row.path}: no seed<N>/eval.json; evaluate the runs first")
    return found


def training_metrics(row: Row) -> dict[int, list[dict[str, Any]]]:
    """``{seed: [one dict per optimizer step]}`` from each seed's ``metrics.jsonl``, sorted by step."""
    found = {}
    for seed, run_dir in row.run_dirs().items():
        path = run_dir / "metrics.jsonl"
        if not path.is_file():
            continue
        records = []
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise UserError(f"{path}: line {number} is not valid JSON") from None
            if "step" in record:
                records.append(record)
        found[seed] = sorted(records, key=lambda record: record["step"])
    if not found:
        raise UserError(f"{row.path}: no seed<N>/metrics.jsonl; train the runs first")
    return found


def reward_names(records: list[dict[str, Any]]) -> list[str]:
    """Reward names in first-seen order from ``reward/<name>/mean`` keys."""
    names: list[str] = []
    for record in records:
        for key in record:
            match = REWARD_KEY.match(key)
            if match and match.group(1) not in names:
                names.append(match.group(1))
    return names


def series(records: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """``(steps, values)`` of one metric; ``key == "reward/sum"`` sums every ``reward/<name>/mean``."""
    names = reward_names(records) if key == "reward/sum" else []
    steps, values = [], []
    for record in records:
        if key == "reward/sum":
            parts = [record.get(f"reward/{name}/mean") for name in names]
            value = sum(parts) if all(isinstance(p, (int, float)) for p in parts) else None
        else:
            value = record.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            steps.append(float(record["step"]))
            values.append(float(value))
    return steps, values


def run_config_value(run_dir: Path, dotted_key: str) -> Any:
    """A value of the run's resolved ``config.yaml`` by dotted key, e.g. ``algorithm.tau``."""
    import yaml

    path = run_dir / "config.yaml"
    if not path.is_file():
        raise UserError(f"{path}: not found; is {run_dir} a run dir written by `python -m gd2po train`?")
    node: Any = yaml.safe_load(path.read_text()) or {}
    for part in dotted_key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise UserError(f"{path}: no key {dotted_key!r}")
        node = node[part]
    return node
