"""The core reproduces every golden case of the official GD²PO code to 1e-5.

tests/data/golden/official_advantages.json is a copy of ../shared/golden/official_advantages.json:
225 cases of `compute_advantage` (tool-calling, commit f1ad765) on shuffled, ragged groups.
"""

import json
from pathlib import Path

import pytest
import torch

from gd2po.core import compute_advantages

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "official_advantages.json"
CASES = json.loads(GOLDEN.read_text())["cases"]


def case_id(position: int, case: dict) -> str:
    shape = f"B{len(case['rewards'])}K{len(case['reward_names'])}"
    extra = f"-tau{case['tau']}-eps{case['snr_eps']}" if case["method"] == "gd2po_snr" else ""
    return f"{position:03d}-{case['method']}-{shape}{extra}"


def official_options(case: dict) -> dict:
    if case["method"] == "gd2po_snr":
        return {"tau": case["tau"], "snr_eps": case["snr_eps"]}
    return {}


def test_golden_file_covers_every_method():
    assert len(CASES) == 225
    assert {case["method"] for case in CASES} == {"grpo", "gdpo", "gd2po_hard", "gd2po_snr"}
    assert all(case["expected"]["error"] is None for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case_id(i, c) for i, c in enumerate(CASES)])
def test_official_advantages(case):
    result = compute_advantages(
        case["method"],
        torch.tensor(case["rewards"], dtype=torch.float32),
        case["group_ids"],
        torch.tensor(case["response_mask"], dtype=torch.float32),
        **official_options(case),
    )
    expected = torch.tensor(case["expected"]["advantages"], dtype=torch.float32)
    torch.testing.assert_close(result.advantages, expected, rtol=0, atol=1e-5)
    # A dropped rollout carries exactly zero, and the sequence value is what was broadcast.
    assert torch.all(result.advantages[~result.keep] == 0)
    mask = torch.tensor(case["response_mask"], dtype=torch.float32)
    torch.testing.assert_close(result.sequence_advantages.unsqueeze(1) * mask, result.advantages)
