"""Shipped data: provenance blob ids, loaders, malformed rows counted and reported."""

from __future__ import annotations

import json
import logging
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gd2po.errors import UserError
from gd2po.tasks.tool_calling.data import RESOURCES, load_rlla_parquet, load_rlla_sft
from gd2po.tasks.tool_calling.download import git_blob_id
from gd2po.tasks.tool_calling.task import RllaOptions, RllaTask

GOOD_GT = '<think> x </think>\n<tool_call>\n{"name": "f", "parameters": {"a": 1}}\n</tool_call>'


def test_every_shipped_file_matches_its_provenance_blob_id():
    table = (RESOURCES / "PROVENANCE.md").read_text()
    listed = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{40})` \|$", table, flags=re.MULTILINE))
    shipped = {p.relative_to(RESOURCES).as_posix() for p in RESOURCES.rglob("*") if p.is_file()} - {"PROVENANCE.md"}
    assert set(listed) == shipped
    for relative, blob in listed.items():
        assert git_blob_id(RESOURCES / relative) == blob, relative


def test_shipped_splits_load_completely():
    test = load_rlla_parquet()
    assert (len(test.rows), test.skipped) == (80, 0)
    assert [m["role"] for m in test.rows[0]["prompt"]] == ["system", "user"]
    assert sum("<tool_call>" not in row["ground_truth"] for row in test.rows) == 9
    sft = load_rlla_sft()
    assert (len(sft.rows), sft.skipped) == (400, 0)
    # the ground truth starts after the first </think>, so quoted tags in the thought do not leak in
    assert all("<think>" not in row["ground_truth"] for row in sft.rows)


def _write_parquet(path, ground_truths, prompt=None):
    prompt = prompt or [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    rows = [{"prompt": prompt, "reward_model": {"ground_truth": gt, "style": "rule"}} for gt in ground_truths]
    pq.write_table(pa.Table.from_pylist(rows), path)


def test_malformed_rows_are_counted_and_reported(tmp_path, caplog):
    path = tmp_path / "rows.parquet"
    bad = [
        "",  # missing ground truth
        '<think> x </think>\n<tool_call>\n{"name": "f", "parameters": {}}\n{not json}\n</tool_call>',
        '<think> x </think>\n<tool_call>\n{"parameters": {}}\n</tool_call>',
        '<think> x </think>\n<tool_call>\n{"name": "f", "parameters": [1]}\n</tool_call>',
    ]
    _write_parquet(path, [GOOD_GT, *bad, "<think> x </think>\n<response> hi </response>"])
    with caplog.at_level(logging.WARNING):
        loaded = load_rlla_parquet(path)
    assert (len(loaded.rows), loaded.skipped) == (2, 4)
    message = caplog.text
    assert str(path) in message and "skipped 4 of 6" in message
    assert "missing ground truth" in message and "unparsable tool-call JSON" in message


def test_sft_rows_without_think_are_skipped(tmp_path, caplog):
    path = tmp_path / "sft.json"
    good = {"instruction": "s", "input": "u", "output": "<think> a <tool_call> b </think>\n" + GOOD_GT.split("\n", 1)[1]}
    path.write_text(json.dumps([good, {"instruction": "s", "input": "u", "output": "no think"}]))
    with caplog.at_level(logging.WARNING):
        loaded = load_rlla_sft(path)
    assert (len(loaded.rows), loaded.skipped) == (1, 1)
    assert loaded.rows[0]["ground_truth"].startswith("<tool_call>")
    assert "skipped 1 of 2" in caplog.text


def test_rlla_task_train_split_missing_names_path_and_command(tmp_path):
    missing = tmp_path / "nowhere" / "train.parquet"
    with pytest.raises(UserError, match=re.escape(str(missing))) as error:
        RllaTask().train_dataset(RllaOptions(train_path=str(missing)), seed=0)
    assert "python -m gd2po.tasks.tool_calling.download" in str(error.value)


def test_rlla_task_datasets_feed_the_rewards(tmp_path):
    path = tmp_path / "train.parquet"
    _write_parquet(path, [GOOD_GT, GOOD_GT])
    task = RllaTask()
    options = RllaOptions(train_path=str(path), rewards="correctness,length,format")
    train = task.train_dataset(options, seed=0)
    assert train.column_names == ["prompt", "ground_truth"] and len(train) == 2
    completions = [[{"role": "assistant", "content": GOOD_GT}], [{"role": "assistant", "content": "nothing"}]]
    scores = [fn(train["prompt"], completions, ground_truth=train["ground_truth"]) for fn in task.reward_functions(options)]
    assert scores == [[3.0, -3.0], [0.0, 0.0], [1.0, 0.0]]
    assert len(task.test_dataset(options, seed=0)) == 80
