"""The shipped safety prompts: provenance blob ids, row counts, data_source, HH-RLHF turn merging."""

import re

from hypothesis import given
from hypothesis import strategies as st

from gd2po.tasks.safety import data
from gd2po.tasks.tool_calling.download import git_blob_id

PROVENANCE = data.RESOURCES / "PROVENANCE.md"
HH_MERGED_POSITIONS = [665, 761, 1314, 1842, 2654, 3286, 3426, 3505, 3646, 3973, 4137]


def test_every_shipped_file_matches_its_provenance_blob_id_and_size():
    rows = re.findall(r"^\| `([^`]+\.parquet)` \| ([\d,]+) \| ([\d,]+) \| `[^`]+` \| `([0-9a-f]{40})` \|$",
                      PROVENANCE.read_text(), re.M)
    shipped = sorted(str(p.relative_to(data.RESOURCES)) for p in data.RESOURCES.rglob("*.parquet"))
    assert sorted(name for name, *_ in rows) == shipped and len(shipped) == 4
    for name, _, size, blob in rows:
        path = data.RESOURCES / name
        assert path.stat().st_size == int(size.replace(",", ""))
        assert git_blob_id(path) == blob


def test_test_sets_keep_row_counts_and_data_source():
    expected = {"alpaca": (512, "Stanford Alpaca"), "hh_rlhf": (8520, "Anthropic/hh-rlhf"),
                "pku_saferlhf": (8211, "PKU-Alignment/PKU-SafeRLHF")}
    for name, (count, source) in expected.items():
        loaded = data.load_test_set(name)
        assert len(loaded.rows) == count
        assert {row["data_source"] for row in loaded.rows} == {source}
        assert all(row["prompt"][-1]["role"] == "user" for row in loaded.rows)
    train = data.load_alpaca_train()
    assert len(train.rows) == 51490 and train.merged_rows == 0


def test_hh_rlhf_merges_exactly_the_11_rows_with_consecutive_assistant_turns():
    import pyarrow.parquet as pq

    loaded = data.load_test_set("hh_rlhf")
    assert loaded.merged_rows == 11
    raw = pq.read_table(data.TEST_SETS["hh_rlhf"][1], columns=["prompt"]).to_pydict()["prompt"]
    changed = [i for i, (row, original) in enumerate(zip(loaded.rows, raw)) if len(row["prompt"]) != len(original)]
    assert changed == HH_MERGED_POSITIONS
    for row in loaded.rows:  # every conversation now strictly alternates, user first and last
        roles = [m["role"] for m in row["prompt"]]
        assert roles[::2] == ["user"] * len(roles[::2]) and roles[1::2] == ["assistant"] * len(roles[1::2])
    row, original = loaded.rows[761]["prompt"], raw[761]
    assert [m["role"] for m in original] == ["user", "assistant", "assistant", "user"]
    assert row[1]["content"] == original[1]["content"] + "\n\n" + original[2]["content"]


@given(st.lists(st.tuples(st.sampled_from(["user", "assistant"]), st.text(max_size=5)), min_size=1, max_size=8))
def test_merge_keeps_every_message_and_leaves_no_two_same_roles_in_a_row(messages):
    conversation = [{"role": role, "content": content} for role, content in messages]
    merged, changed = data.merge_consecutive_turns(conversation)
    assert all(a["role"] != b["role"] for a, b in zip(merged, merged[1:]))
    assert changed == (len(merged) < len(conversation))
    runs = []
    for message in conversation:
        if runs and runs[-1][0] == message["role"]:
            runs[-1][1].append(message["content"])
        else:
            runs.append((message["role"], [message["content"]]))
    assert merged == [{"role": role, "content": "\n\n".join(parts)} for role, parts in runs]
