"""Figures from fake run dirs: files written, and the numbers behind them."""

from __future__ import annotations

import argparse
import csv
import math

import pytest
import yaml

from gd2po.errors import UserError
from gd2po.report import cli
from gd2po.report.plots import rolling_mean, seed_band, steps_to_target
from gd2po.report.runs import parse_row


def run_report(*argv) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args([str(a) for a in argv]))


def rows_args(setting_dir, variants):
    return [x for v in variants for x in ("--row", setting_dir / v)]


def assert_figure(prefix):
    png, pdf = prefix.with_suffix(".png"), prefix.with_suffix(".pdf")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_rolling_mean_is_trailing_and_waits_for_a_full_window():
    smoothed = rolling_mean([1.0, 2.0, 3.0, 4.0], 2)
    assert math.isnan(smoothed[0]) and smoothed[1:] == [1.5, 2.5, 3.5]


def test_seed_band_spans_min_to_max_per_step():
    steps, mean, low, high = seed_band([([1, 2], [0.0, 1.0]), ([1, 2], [2.0, 3.0])])
    assert (steps, mean, low, high) == ([1, 2], [1.0, 2.0], [0.0, 1.0], [2.0, 3.0])


def test_steps_to_target_is_the_first_step_at_or_above_it():
    assert steps_to_target([1, 2, 3], [0.1, 0.5, 0.9], 0.5) == 2
    assert math.isnan(steps_to_target([1, 2, 3], [0.1, 0.2, 0.3], 0.5))


@pytest.mark.parametrize("command", ["curves", "diagnostics"])
def test_training_figures_are_written(setting_dir, tmp_path, command):
    prefix = tmp_path / "plots" / command
    assert run_report(command, *rows_args(setting_dir, ["grpo", "gdpo", "gd2po_snr"]), "--out", prefix) == 0
    assert_figure(prefix)


def test_efficiency_counts_steps_to_the_baseline_final_reward(setting_dir, tmp_path):
    prefix = tmp_path / "efficiency"
    run_report("efficiency", *rows_args(setting_dir, ["grpo", "gdpo", "gd2po_snr"]),
               "--baseline", setting_dir / "gdpo", "--reward", "correctness", "--out", prefix)
    assert_figure(prefix)
    with open(prefix.with_suffix(".csv")) as handle:
        records = list(csv.DictReader(handle))
    steps = {(r["variant"], int(r["seed"])): r["steps_to_target"] for r in records}
    assert len(records) == 9
    # the fake curves: GD²PO-SNR rises fastest, GRPO never reaches GDPO's final reward
    assert all(steps[("grpo", s)] == "" for s in range(3))
    snr = [int(steps[("gd2po_snr", s)]) for s in range(3)]
    gdpo = [int(v) for v in (steps[("gdpo", s)] for s in range(3)) if v]
    assert max(snr) < min(gdpo)


def test_efficiency_with_an_unknown_reward_names_it(setting_dir, tmp_path):
    with pytest.raises(UserError, match="reward/fluency/mean"):
        run_report("efficiency", "--row", setting_dir / "grpo", "--baseline", setting_dir / "gdpo",
                   "--reward", "fluency", "--out", tmp_path / "e")


def test_sweep_reads_the_x_value_from_each_run_config(setting_dir, tmp_path):
    prefix = tmp_path / "sweep"
    assert run_report("sweep", "--row", setting_dir / "gd2po_snr", "--x", "algorithm.tau",
                      "--metric", "mini/accuracy", "--out", prefix) == 0
    assert_figure(prefix)


def test_sweep_rejects_seeds_that_disagree_on_x(setting_dir, tmp_path):
    config_path = setting_dir / "gd2po_snr" / "seed1" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["algorithm"]["tau"] = 0.2
    config_path.write_text(yaml.safe_dump(config))
    with pytest.raises(UserError, match="seeds disagree on algorithm.tau"):
        run_report("sweep", "--row", setting_dir / "gd2po_snr", "--x", "algorithm.tau",
                   "--metric", "mini/accuracy", "--out", tmp_path / "s")


def test_sweep_without_the_key_names_the_file(setting_dir, tmp_path):
    with pytest.raises(UserError, match=r"grpo/seed0/config.yaml: no key 'algorithm.tau'"):
        run_report("sweep", "--row", setting_dir / "grpo", "--x", "algorithm.tau",
                   "--metric", "mini/accuracy", "--out", tmp_path / "s")


def test_rows_and_runs_are_exclusive(setting_dir, tmp_path):
    with pytest.raises(UserError, match="either --row"):
        run_report("table", "--row", setting_dir / "grpo", "--runs", setting_dir, "--out", tmp_path / "t")


def test_table_command_writes_three_formats(setting_dir, tmp_path):
    prefix = tmp_path / "tables" / "t"
    assert run_report("table", "--runs", setting_dir, "--title", "mini", "--out", prefix) == 0
    assert {p.name for p in prefix.parent.iterdir()} == {"t.csv", "t.md", "t.tex"}


def test_parse_row_defaults_the_label_to_the_method_name():
    assert parse_row("results/a/b/gd2po_hard").label == "GD²PO-Hard"
    assert parse_row("{method} [2rewards]=results/a/2rewards/gd2po_hard").label == "GD²PO-Hard [2rewards]"
    assert parse_row("results/a/b/custom_variant").label == "custom_variant"


def test_efficiency_has_no_target_when_the_baseline_did_not_improve(setting_dir, tmp_path):
    """A falling baseline reward would make every method 'reach' it at once; report no target instead."""
    prefix = tmp_path / "efficiency"
    run_report("efficiency", "--row", setting_dir / "grpo", "--baseline", setting_dir / "gdpo",
               "--reward", "length", "--out", prefix)  # the fake length reward falls during training
    with open(prefix.with_suffix(".csv")) as handle:
        records = list(csv.DictReader(handle))
    assert records and all(r["steps_to_target"] == "" for r in records)
    assert float(records[0]["target"]) < float(records[0]["baseline_start"])


def test_sweep_of_a_non_numeric_key_names_the_file_and_key(setting_dir, tmp_path):
    with pytest.raises(UserError, match=r"gd2po_snr/seed0/config.yaml: method is 'gd2po_snr', not a number"):
        run_report("sweep", "--row", setting_dir / "gd2po_snr", "--x", "method",
                   "--metric", "mini/accuracy", "--out", tmp_path / "s")


def test_report_commands_read_only_the_given_seeds(setting_dir, tmp_path):
    """The workflow passes its seeds: a seed dir it did not declare never reaches a figure or table."""
    config_path = setting_dir / "gd2po_snr" / "seed2" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["algorithm"]["tau"] = 0.2  # seed 2 would disagree on x if it were read
    config_path.write_text(yaml.safe_dump(config))
    prefix = tmp_path / "sweep"
    assert run_report("sweep", "--row", setting_dir / "gd2po_snr", "--seeds", "0,1", "--x", "algorithm.tau",
                      "--metric", "mini/accuracy", "--out", prefix) == 0
    assert_figure(prefix)
    prefix = tmp_path / "efficiency"
    run_report("efficiency", *rows_args(setting_dir, ["base", "gdpo"]), "--seeds", "1,2", "--row-seeds", "base=0",
               "--baseline", setting_dir / "gdpo", "--reward", "correctness", "--out", prefix)
    with open(prefix.with_suffix(".csv")) as handle:
        assert [(r["variant"], r["seed"]) for r in csv.DictReader(handle)] == [("base", "0"), ("gdpo", "1"), ("gdpo", "2")]


@pytest.mark.parametrize("flag", [["--seeds", "0,x"], ["--row-seeds", "0,1"]])
def test_malformed_seed_flags_are_refused(setting_dir, tmp_path, flag, capsys):
    with pytest.raises(SystemExit):
        run_report("table", "--row", setting_dir / "grpo", *flag, "--out", tmp_path / "t")
    assert "expected" in capsys.readouterr().err
