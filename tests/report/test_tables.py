"""Tables from fake run dirs: statistics, best-in-bold, published rows, formats and bad input."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from gd2po.errors import UserError
from gd2po.report.reference import Published, matching, read_reference_dir
from gd2po.report.runs import Row, discover_rows, parse_row, with_seeds
from gd2po.report.stats import mean_ci95, t_quantile_975
from gd2po.report.tables import build_table, write_table

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("df, expected", [(1, 12.7062), (2, 4.3027), (4, 2.7764), (10, 2.2281), (30, 2.0423)])
def test_t_quantile_matches_published_tables(df, expected):
    assert t_quantile_975(df) == pytest.approx(expected, abs=1e-4)


def test_mean_ci_over_three_seeds():
    mean, half_width, n = mean_ci95([0.50, 0.52, 0.54])
    assert (mean, n) == (pytest.approx(0.52), 3)
    assert half_width == pytest.approx(4.3027 * 0.02 / math.sqrt(3), rel=1e-4)


def test_mean_ci_skips_missing_values_and_has_no_interval_for_one_seed():
    assert mean_ci95([0.4, None, float("nan")])[0] == pytest.approx(0.4)
    assert math.isnan(mean_ci95([0.4])[1])
    assert mean_ci95([])[2] == 0


def test_rows_discovered_in_canonical_method_order(setting_dir):
    assert [row.variant for row in discover_rows(setting_dir)] == ["base", "grpo", "gdpo", "gd2po_snr"]
    assert [row.label for row in discover_rows(setting_dir)][0] == "Base (no RL)"


def test_row_labels_may_contain_equals_signs():
    row = parse_row("GD²PO-SNR τ=0.5=results/x/snr_tau0.5")
    assert (row.label, row.path, row.variant, row.setting) == ("GD²PO-SNR τ=0.5", Path("results/x/snr_tau0.5"), "snr_tau0.5", "x")


def table_of(setting_dir, **options):
    return build_table(discover_rows(setting_dir), title="t", **options)


def test_best_mean_is_bold_and_only_it(setting_dir, tmp_path):
    table = table_of(setting_dir, columns=["mini/accuracy"])
    best = [row.variant for row in table.rows if row.cells["mini/accuracy"].best]
    assert best == ["gd2po_snr"]
    csv_path, md_path, tex_path = write_table(table, tmp_path / "out" / "table")
    markdown = md_path.read_text()
    assert "| GD²PO-SNR | 3 | **0.620 ± 0.066** |" in markdown
    assert "| GRPO | 3 | 0.520 ± 0.050 |" in markdown
    assert markdown.count("**") == 2
    latex = tex_path.read_text()
    assert r"GD\textsuperscript{2}PO-SNR & 3 & \textbf{0.620 $\pm$ 0.066} \\" in latex
    assert latex.count(r"\textbf") == 1


def test_lower_is_better_flips_the_best_row(setting_dir):
    table = table_of(setting_dir, columns=["mini/accuracy"], lower_is_better=["mini/accuracy"])
    assert [row.variant for row in table.rows if row.cells["mini/accuracy"].best] == ["base"]


def test_csv_has_a_row_per_variant_with_mean_and_interval(setting_dir, tmp_path):
    csv_path = write_table(table_of(setting_dir), tmp_path / "table")[0]
    with open(csv_path) as handle:
        records = list(csv.DictReader(handle))
    assert [r["variant"] for r in records] == ["base", "grpo", "gdpo", "gd2po_snr"]
    grpo = records[1]
    assert float(grpo["mini/accuracy"]) == pytest.approx(0.52)
    assert float(grpo["mini/accuracy ci95"]) == pytest.approx(0.0496828, rel=1e-5)
    assert grpo["seeds"] == "3" and grpo["kind"] == "ours"
    assert "mini/complete" not in records[0]  # booleans are not metrics


def test_configured_columns_keep_their_order_and_missing_ones_are_dropped(setting_dir, capsys):
    table = table_of(setting_dir, columns=["mini/format", "mini/nonexistent", "mini/accuracy"])
    assert table.columns == ["mini/format", "mini/accuracy"]
    assert "mini/nonexistent" in capsys.readouterr().err


def test_a_row_without_evaluations_is_an_error_naming_it(setting_dir):
    (setting_dir / "grpo" / "seed0" / "eval.json").unlink()
    (setting_dir / "grpo" / "seed1" / "eval.json").unlink()
    (setting_dir / "grpo" / "seed2" / "eval.json").unlink()
    with pytest.raises(UserError, match="grpo: no seed<N>/eval.json"):
        table_of(setting_dir)


def test_a_corrupt_eval_file_is_an_error_naming_it(setting_dir):
    (setting_dir / "gdpo" / "seed1" / "eval.json").write_text("{not json")
    with pytest.raises(UserError, match=r"gdpo/seed1/eval.json: not valid JSON"):
        table_of(setting_dir)


def write_bfcl_runs(root: Path) -> list[Row]:
    rows = []
    for variant, overall in (("base", 18.0), ("grpo", 31.0), ("gdpo", 33.5)):
        for seed in range(2):
            run = root / variant / f"seed{seed}"
            run.mkdir(parents=True)
            metrics = {"bfcl/overall": overall + seed, "bfcl/live": 50.0, "api_bank/overall_acc": 60.0}
            (run / "eval.json").write_text(json.dumps({"metrics": metrics}))
        rows.append(parse_row(str(root / variant)))
    return rows


def test_published_rows_stand_beside_ours_labelled_and_never_bold(tmp_path):
    rows = write_bfcl_runs(tmp_path / "qwen2.5-1.5b_fc")
    published = matching(read_reference_dir(REPO / "results" / "reference"), "Qwen2.5-1.5B-Instruct", "correctness,format")
    table = build_table(rows, "t", published=published, reference_label="Qwen2.5-1.5B-Instruct, format+correctness")
    theirs = [row for row in table.rows if row.kind == "published"]
    labels = [row.label for row in theirs]
    assert "GDPO [published: GDPO (arXiv 2601.05242), Table 1]" in labels
    assert "GRPO [published: ToolRL (arXiv 2504.13958), BFCL V3 table]" in labels
    assert "Base (no RL) [published: ToolRL (arXiv 2504.13958), API-Bank table]" in labels
    gdpo = next(row for row in theirs if row.label.startswith("GDPO [published: GDPO"))
    assert gdpo.cells["bfcl/overall"].mean == pytest.approx(32.81)
    assert gdpo.cells["bfcl/live"].mean == pytest.approx(55.36)
    # published GDPO live (55.36) beats ours (50.0) but only our rows compete for bold
    assert not any(cell.best for row in theirs for cell in row.cells.values())
    assert all(row.cells["bfcl/live"].best for row in table.rows if row.kind == "ours")
    # methods we did not run (SFT, PPO) and other reward sets stay out
    assert not any("sft" in row.variant or "ppo" in row.variant for row in theirs)
    assert any("not re-run here" in note for note in table.notes)


def test_reference_rows_match_model_and_reward_set_only():
    entries = read_reference_dir(REPO / "results" / "reference")
    three_rewards = matching(entries, "Qwen2.5-3B-Instruct", "correctness,length,format")
    assert {e.method for e in three_rewards} == {"base", "grpo"}
    assert {e.table for e in three_rewards if e.method == "grpo"} == {"length-reward ablation (BFCL V3)"}
    assert all(e.model == "Qwen2.5-3B-Instruct" for e in three_rewards)
    assert {e.method for e in matching(entries, "Qwen2.5-1.5B-Instruct", "correctness,length")} == {"base"}


def test_mini_tables_say_no_published_numbers_apply(setting_dir):
    assert any("No published result matches" in note for note in table_of(setting_dir).notes)


def test_every_reference_file_names_its_source():
    entries = read_reference_dir(REPO / "results" / "reference")
    assert len(entries) > 300
    assert all(entry.source and entry.table for entry in entries)
    assert {e.source for e in entries} == {"GDPO (arXiv 2601.05242)", "ToolRL (arXiv 2504.13958)"}


def test_only_the_given_seeds_are_read_and_other_seed_dirs_are_ignored(setting_dir):
    """A seed the workflow did not ask for (a stale run, or a shared run's extra seed) stays out."""
    stale = setting_dir / "grpo" / "seed7"
    stale.mkdir()
    (stale / "eval.json").write_text(json.dumps({"metrics": {"mini/accuracy": 0.99}}))
    rows = [parse_row(str(setting_dir / v)) for v in ("base", "grpo", "gd2po_snr")]
    assert build_table(rows, "t", columns=["mini/accuracy"]).rows[1].seeds == 4  # without seeds: every seed dir
    selected = [with_seeds(row, (0, 1), {"base": (0,)}) for row in rows]
    table = build_table(selected, "t", columns=["mini/accuracy"])
    assert [row.seeds for row in table.rows] == [1, 2, 2]
    assert table.rows[1].cells["mini/accuracy"].mean == pytest.approx(0.51)
    assert [row.variant for row in table.rows if row.cells["mini/accuracy"].best] == ["gd2po_snr"]


def test_bold_follows_the_printed_decimals_when_published_rows_widen_the_column(tmp_path):
    """Our 9.996 and 9.999 print as 10.0 beside a published 120: both are the best printed mean."""
    rows = []
    for variant, value in (("grpo", 9.996), ("gdpo", 9.999)):
        run = tmp_path / "s" / variant / "seed0"
        run.mkdir(parents=True)
        (run / "eval.json").write_text(json.dumps({"metrics": {"m": value}}))
        rows.append(parse_row(str(run.parent)))
    published = [Published("paper", "T1", "model", "any", "grpo", "m", 120.0, "")]
    table = build_table(rows, "t", published=published)
    assert table.decimals == {"m": 1}
    assert [row.cells["m"].best for row in table.rows if row.kind == "ours"] == [True, True]
    markdown = write_table(table, tmp_path / "t")[1].read_text()
    assert markdown.count("**10.0**") == 2


def test_a_short_reference_line_is_an_error_naming_file_and_line(tmp_path):
    lines = ["source,table,model,rewards,method,metric,value,note", "paper,T1,model,any,base,bfcl/live"]
    (tmp_path / "short.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match=r"short.csv: line 2: no value for value, note"):
        read_reference_dir(tmp_path)
