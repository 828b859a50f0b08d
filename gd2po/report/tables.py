"""Methods x metrics: mean ± 95% CI over seeds, best mean in bold, published numbers beside ours.

Written as ``PREFIX.csv`` (machine-readable: mean and CI half-width per metric), ``PREFIX.md`` and
``PREFIX.tex`` (booktabs). "Best" is the best mean among our rows only; published rows never compete.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import sys
from pathlib import Path

from gd2po.files import write_text_atomic
from gd2po.report.reference import Published
from gd2po.report.runs import METHOD_LABELS, Row, eval_metrics
from gd2po.report.stats import mean_ci95

OURS, PUBLISHED = "ours", "published"


@dataclasses.dataclass
class Cell:
    mean: float
    ci95: float = math.nan
    n: int = 0
    best: bool = False


@dataclasses.dataclass
class TableRow:
    label: str
    variant: str
    kind: str  # OURS or PUBLISHED
    source: str
    seeds: int | None
    cells: dict[str, Cell]


@dataclasses.dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[TableRow]
    notes: list[str]
    decimals: dict[str, int]  # per column, for printing and for comparing printed means


def select_columns(found: list[str], wanted: list[str]) -> list[str]:
    """The wanted metrics that exist (a warning names the others); every metric found when none is wanted."""
    if not wanted:
        return found
    missing = [m for m in wanted if m not in found]
    if missing:
        print(f"warning: no run reports {', '.join(missing)}; columns left out", file=sys.stderr)
    present = [m for m in wanted if m in found]
    return present or found


def build_table(
    rows: list[Row],
    title: str,
    columns: list[str] | None = None,
    lower_is_better: list[str] | None = None,
    published: list[Published] | None = None,
    reference_label: str = "",
) -> Table:
    lower = set(lower_is_better or [])
    per_row = [(row, eval_metrics(row)) for row in rows]
    found: list[str] = []
    for _, seeds in per_row:
        for metrics in seeds.values():
            found += [key for key in metrics if key not in found]
    columns = select_columns(found, list(columns or []))

    ours = []
    for row, seeds in per_row:
        cells = {}
        for metric in columns:
            mean, ci95, n = mean_ci95(metrics.get(metric) for metrics in seeds.values())
            cells[metric] = Cell(mean, ci95, n)
        ours.append(TableRow(row.label, row.variant, OURS, "this suite", len(seeds), cells))
    theirs = published_rows(published or [], columns, {row.variant for row in rows})
    decimals = {m: column_decimals([row.cells[m].mean for row in ours + theirs]) for m in columns}
    mark_best(ours, columns, lower, decimals)

    notes = table_notes(ours, columns, lower, theirs, reference_label)
    return Table(title, columns, ours + theirs, notes, decimals)


def mark_best(rows: list[TableRow], columns: list[str], lower: set[str], decimals_by_column: dict[str, int]) -> None:
    """Bold every row whose mean, as printed, equals the best printed mean of the column."""
    for metric in columns:
        decimals = decimals_by_column[metric]
        printed = [round(row.cells[metric].mean, decimals) for row in rows if math.isfinite(row.cells[metric].mean)]
        if not printed:
            continue
        best = min(printed) if metric in lower else max(printed)
        for row in rows:
            cell = row.cells[metric]
            cell.best = math.isfinite(cell.mean) and round(cell.mean, decimals) == best


def published_rows(entries: list[Published], columns: list[str], variants: set[str]) -> list[TableRow]:
    """One row per (source, method) among our row's methods, with the published values of our columns."""
    grouped: dict[tuple[str, str, str], dict[str, Cell]] = {}
    for entry in entries:
        if entry.method not in variants or entry.metric not in columns:
            continue
        key = (entry.source, entry.table, entry.method)
        grouped.setdefault(key, {})[entry.metric] = Cell(entry.value)
    rows = []
    for (source, table, method), cells in grouped.items():
        label = f"{METHOD_LABELS.get(method, method)} [published: {source}, {table}]"
        filled = {metric: cells.get(metric, Cell(math.nan)) for metric in columns}
        rows.append(TableRow(label, method, PUBLISHED, f"{source}, {table}", None, filled))
    return rows


def table_notes(ours, columns, lower, theirs, reference_label) -> list[str]:
    seeds = sorted({row.seeds for row in ours})
    notes = [
        f"Mean ± 95% confidence interval over seeds (Student's t; {'/'.join(map(str, seeds))} seeds per row); "
        "no interval where a row has one seed.",
        "Bold: the best mean among our rows"
        + (f" (lower is better for {', '.join(m for m in columns if m in lower)})" if lower & set(columns) else "")
        + "; overlapping intervals mean these seeds do not separate the methods.",
    ]
    if theirs:
        sources = sorted({row.source for row in theirs})
        notes.append(
            "Rows marked [published] are copied from " + "; ".join(sources)
            + f" (results/reference/), not re-run here{': ' + reference_label if reference_label else ''}."
        )
    else:
        notes.append("No published result matches this setup, so no published numbers are shown.")
    return notes


def column_decimals(values: list[float]) -> int:
    finite = [abs(v) for v in values if math.isfinite(v)]
    largest = max(finite, default=0.0)
    return 1 if largest >= 100 else 2 if largest >= 10 else 3


def format_cell(cell: Cell, decimals: int, plus_minus: str = " ± ") -> str:
    if not math.isfinite(cell.mean):
        return "–"
    text = f"{cell.mean:.{decimals}f}"
    if math.isfinite(cell.ci95):
        text += f"{plus_minus}{cell.ci95:.{decimals}f}"
    return text


def write_csv(table: Table, path: Path) -> None:
    with io.StringIO(newline="") as handle:
        writer = csv.writer(handle)
        header = ["row", "variant", "kind", "source", "seeds"]
        for metric in table.columns:
            header += [metric, f"{metric} ci95"]
        writer.writerow(header + ["best"])
        for row in table.rows:
            line = [row.label, row.variant, row.kind, row.source, "" if row.seeds is None else row.seeds]
            for metric in table.columns:
                cell = row.cells[metric]
                line += [repr_float(cell.mean), repr_float(cell.ci95)]
            writer.writerow(line + [";".join(m for m in table.columns if row.cells[m].best)])
        write_text_atomic(path, handle.getvalue())


def repr_float(value: float) -> str:
    return "" if not math.isfinite(value) else f"{value:.6g}"


def write_markdown(table: Table, path: Path) -> None:
    decimals = table.decimals
    lines = [f"### {table.title}", "", "| Method | Seeds | " + " | ".join(table.columns) + " |"]
    lines.append("|---|---:|" + "---:|" * len(table.columns))
    for row in table.rows:
        cells = []
        for metric in table.columns:
            text = format_cell(row.cells[metric], decimals[metric])
            cells.append(f"**{text}**" if row.cells[metric].best else text)
        label = row.label if row.kind == OURS else f"*{row.label}*"
        seeds = str(row.seeds) if row.seeds is not None else "published"
        lines.append(f"| {label} | {seeds} | " + " | ".join(cells) + " |")
    lines += [""] + [f"{note}" for note in table.notes]
    write_text_atomic(path, "\n".join(lines) + "\n")


LATEX_REPLACEMENTS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "²": r"\textsuperscript{2}", "τ": r"$\tau$", "±": r"$\pm$", "δ": r"$\delta$", "–": "--",
}


def latex_escape(text: str) -> str:
    return "".join(LATEX_REPLACEMENTS.get(char, char) for char in text)


def write_latex(table: Table, path: Path) -> None:
    decimals = table.decimals
    lines = [
        "% Generated by `python -m gd2po report table`; needs \\usepackage{booktabs}.",
        "\\begin{table}[t]",
        "\\centering",
        "\\caption{" + latex_escape(table.title + ". " + " ".join(table.notes)) + "}",
        "\\begin{tabular}{lr" + "r" * len(table.columns) + "}",
        "\\toprule",
        "Method & Seeds & " + " & ".join(latex_escape(m) for m in table.columns) + " \\\\",
        "\\midrule",
    ]
    previous_kind = None
    for row in table.rows:
        if previous_kind == OURS and row.kind == PUBLISHED:
            lines.append("\\midrule")
        previous_kind = row.kind
        cells = []
        for metric in table.columns:
            text = latex_escape(format_cell(row.cells[metric], decimals[metric]))
            cells.append(f"\\textbf{{{text}}}" if row.cells[metric].best else text)
        label = latex_escape(row.label) if row.kind == OURS else f"\\emph{{{latex_escape(row.label)}}}"
        seeds = str(row.seeds) if row.seeds is not None else "--"
        lines.append(f"{label} & {seeds} & " + " & ".join(cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    write_text_atomic(path, "\n".join(lines) + "\n")


def write_table(table: Table, prefix: Path) -> list[Path]:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    paths = [prefix.with_name(prefix.name + suffix) for suffix in (".csv", ".md", ".tex")]
    write_csv(table, paths[0])
    write_markdown(table, paths[1])
    write_latex(table, paths[2])
    return paths
