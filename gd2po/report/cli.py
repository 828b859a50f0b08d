"""`python -m gd2po report table|curves|diagnostics|efficiency|sweep`: tables and figures from run dirs.

Rows are folders of ``seed<N>/`` run dirs, given as ``--row [LABEL=]DIR`` (repeatable, in order) or
found with ``--runs SETTING_DIR`` (every variant folder inside). ``--seeds 0,1`` reads only those
seeds (default: every ``seed<N>/`` found); ``--row-seeds VARIANT=0`` gives one variant's rows their
own. Outputs go to ``--out PREFIX`` plus the format suffixes: ``.csv/.md/.tex`` for tables,
``.png/.pdf`` for figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_REFERENCE_DIR = Path("results/reference")


def _rows(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--row", dest="rows", action="append", metavar="[LABEL=]DIR",
                        help="a folder of seed<N>/ run dirs, optionally labelled (repeatable; order kept)")
    parser.add_argument("--runs", type=Path, metavar="DIR", help="use every variant folder inside DIR as a row")
    parser.add_argument("--seeds", type=_seed_list, metavar="N,N,...",
                        help="read only these seeds of every row (default: every seed<N>/ found)")
    parser.add_argument("--row-seeds", dest="row_seeds", type=_variant_seeds, action="append", default=[],
                        metavar="VARIANT=N,...", help="seeds of the rows of one variant, instead of --seeds (repeatable)")
    parser.add_argument("--out", required=True, type=Path, help="output prefix (format suffixes are added)")


def _csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _seed_list(text: str) -> tuple[int, ...]:
    seeds = _csv_list(text)
    if not seeds or not all(seed.isdigit() for seed in seeds):
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated seeds such as 0,1,2")
    return tuple(int(seed) for seed in seeds)


def _variant_seeds(text: str) -> tuple[str, tuple[int, ...]]:
    variant, separator, seeds = text.partition("=")
    if not separator or not variant:
        raise argparse.ArgumentTypeError(f"{text!r}: expected VARIANT=N,... such as base=0")
    return variant, _seed_list(seeds)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="report_command", required=True, metavar="REPORT")

    table = commands.add_parser("table", help="methods x held-out metrics, mean ± 95%% CI over seeds")
    _rows(table)
    table.add_argument("--title", default="", help="table title (default: the output name)")
    table.add_argument("--columns", type=_csv_list, default=[], help="metrics to show, in order (default: all found)")
    table.add_argument("--lower-is-better", type=_csv_list, default=[], help="metrics where the smallest mean is best")
    table.add_argument("--reference-model", help="show published numbers for this model (results/reference/*.csv)")
    table.add_argument("--reference-rewards", help="... and this comma-separated reward set")
    table.add_argument("--reference-dir", type=Path, default=DEFAULT_REFERENCE_DIR, help="folder of published-number CSVs")

    for name, help_text in (
        ("curves", "training reward per reward dimension over steps, seed bands"),
        ("diagnostics", "conflict rate, keep ratio and cancellation over training"),
    ):
        _rows(commands.add_parser(name, help=help_text))

    efficiency = commands.add_parser("efficiency", help="steps each row needs to reach the baseline's final reward")
    _rows(efficiency)
    efficiency.add_argument("--baseline", required=True, metavar="[LABEL=]DIR", help="the baseline row (e.g. GDPO)")
    efficiency.add_argument("--reward", default="sum", help="reward name (reward/<name>/mean) or `sum` of all rewards")

    sweep = commands.add_parser("sweep", help="a held-out metric against a run-config value (e.g. algorithm.tau)")
    _rows(sweep)
    sweep.add_argument("--x", required=True, help="dotted run-config key read from each run's config.yaml")
    sweep.add_argument("--metric", required=True, help="eval.json metric on the y axis")


def run(args: argparse.Namespace) -> int:
    from gd2po.report.runs import parse_row, rows_from_args, with_seeds

    seeds_by_variant = dict(args.row_seeds)
    rows = [with_seeds(row, args.seeds, seeds_by_variant) for row in rows_from_args(args.rows, args.runs)]
    command = args.report_command
    if command == "table":
        written = _table(args, rows)
    elif command in ("curves", "diagnostics"):
        from gd2po.report import plots

        written = (plots.plot_curves if command == "curves" else plots.plot_diagnostics)(rows, args.out)
    elif command == "efficiency":
        from gd2po.report.plots import plot_efficiency

        baseline = with_seeds(parse_row(args.baseline), args.seeds, seeds_by_variant)
        written = plot_efficiency(rows, baseline, args.reward, args.out)
    elif command == "sweep":
        from gd2po.report.plots import plot_sweep

        written = plot_sweep(rows, args.x, args.metric, args.out)
    print("wrote " + ", ".join(str(path) for path in written))
    return 0


def _table(args: argparse.Namespace, rows) -> list[Path]:
    from gd2po.errors import UserError
    from gd2po.report.reference import matching, read_reference_dir
    from gd2po.report.tables import build_table, write_table

    if bool(args.reference_model) != bool(args.reference_rewards):
        raise UserError("--reference-model and --reference-rewards go together")
    published, reference_label = [], ""
    if args.reference_model:
        published = matching(read_reference_dir(args.reference_dir), args.reference_model, args.reference_rewards)
        reference_label = f"{args.reference_model}, rewards {args.reference_rewards}"
    table = build_table(
        rows,
        title=args.title or args.out.name,
        columns=args.columns,
        lower_is_better=args.lower_is_better,
        published=published,
        reference_label=reference_label,
    )
    return write_table(table, args.out)
