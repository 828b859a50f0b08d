"""Figures from run dirs, readable in greyscale: every line has its own dash pattern and marker.

Training curves are a trailing rolling mean over ``window`` steps (stated in the axis label), the
line is the mean over seeds and the band spans the seeds' minimum to maximum.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from gd2po.errors import UserError
from gd2po.files import write_bytes_atomic, write_text_atomic
from gd2po.report.runs import Row, eval_metrics, reward_names, run_config_value, series, training_metrics
from gd2po.report.stats import mean_ci95

DIAGNOSTICS = (
    ("adv/conflict_rate", "conflict rate", "rollouts with mixed-sign\nper-reward advantages"),
    ("adv/keep_ratio", "keep ratio", "rollouts kept by the filter"),
    ("adv/cancellation", "cancellation", "mean |Σ_k A_k| / Σ_k |A_k|"),
)
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
HATCHES = ["", "//", "..", "xx", "\\\\", "oo", "--", "++"]


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.grid": True, "grid.alpha": 0.3, "savefig.bbox": "tight"})
    return plt


def line_style(index: int) -> dict:
    from matplotlib import colormaps

    colors = colormaps["tab10"].colors
    return {
        "color": colors[index % len(colors)],
        "linestyle": LINESTYLES[index % len(LINESTYLES)],
        "marker": MARKERS[index % len(MARKERS)],
    }


def save(figure, prefix: Path) -> list[Path]:
    """``prefix``.png (150 dpi) and ``prefix``.pdf, each written atomically."""
    paths = [prefix.with_name(prefix.name + suffix) for suffix in (".png", ".pdf")]
    for path in paths:
        buffer = io.BytesIO()
        figure.savefig(buffer, format=path.suffix[1:], dpi=150)
        write_bytes_atomic(path, buffer.getvalue())
    return paths


def smoothing_window(total_steps: int) -> int:
    return max(1, round(total_steps / 20))


def rolling_label(window: int) -> str:
    return "raw" if window == 1 else f"rolling mean of {window} steps"


def rolling_mean(values: list[float], window: int) -> list[float]:
    """Trailing mean over ``window`` values; NaN until the first full window."""
    out, running = [], 0.0
    for i, value in enumerate(values):
        running += value
        if i >= window:
            running -= values[i - window]
        out.append(running / window if i + 1 >= window else math.nan)
    return out


def seed_band(curves: list[tuple[list[float], list[float]]]):
    """Per step over seeds: steps, mean, min, max (a step counts where at least one seed has a value)."""
    by_step: dict[float, list[float]] = {}
    for steps, values in curves:
        for step, value in zip(steps, values):
            if math.isfinite(value):
                by_step.setdefault(step, []).append(value)
    steps = sorted(by_step)
    return (
        steps,
        [sum(by_step[s]) / len(by_step[s]) for s in steps],
        [min(by_step[s]) for s in steps],
        [max(by_step[s]) for s in steps],
    )


def smoothed_curves(row_records: dict[int, list[dict]], key: str, window: int):
    curves = []
    for records in row_records.values():
        steps, values = series(records, key)
        curves.append((steps, rolling_mean(values, window)))
    return curves


def total_steps(all_records: list[dict[int, list[dict]]]) -> int:
    return max((len(records) for row in all_records for records in row.values()), default=0)


def draw_band(axis, curves, index: int, label: str, lines: int) -> bool:
    """Mean over seeds with a min..max band; markers staggered per line so overlapping lines stay visible."""
    steps, mean, low, high = seed_band(curves)
    if not steps:
        return False
    style = line_style(index)
    every = max(1, len(steps) // 8)
    markevery = ((index * every) // max(1, lines), every)
    axis.plot(steps, mean, label=label, markevery=markevery, markersize=4, linewidth=1.4, **style)
    axis.fill_between(steps, low, high, color=style["color"], alpha=0.15, linewidth=0)
    return True


def plot_curves(rows: list[Row], prefix: Path) -> list[Path]:
    """Training reward per reward dimension, one panel each, one line per row."""
    plt = pyplot()
    records = [training_metrics(row) for row in rows]
    names: list[str] = []
    for row_records in records:
        for seed_records in row_records.values():
            names += [n for n in reward_names(seed_records) if n not in names]
    if not names:
        raise UserError("no reward/<name>/mean keys in any metrics.jsonl")
    steps = total_steps(records)
    window = smoothing_window(steps)
    figure, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.2), squeeze=False)
    for axis, name in zip(axes[0], names):
        for index, (row, row_records) in enumerate(zip(rows, records)):
            draw_band(axis, smoothed_curves(row_records, f"reward/{name}/mean", window), index, row.label, len(rows))
        axis.set_title(f"reward: {name}")
        axis.set_xlabel("optimizer step")
        axis.set_ylabel(f"train reward ({rolling_label(window)})")
    legend_below(figure, axes[0][0])
    return save(figure, prefix)


def legend_below(figure, axis) -> None:
    handles, labels = axis.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), bbox_to_anchor=(0.5, -0.02), frameon=False)
    figure.tight_layout(rect=(0, 0.1, 1, 1))


def plot_diagnostics(rows: list[Row], prefix: Path) -> list[Path]:
    """Conflict rate, keep ratio and cancellation over training, one line per row."""
    plt = pyplot()
    records = [training_metrics(row) for row in rows]
    steps = total_steps(records)
    window = smoothing_window(steps)
    figure, axes = plt.subplots(1, len(DIAGNOSTICS), figsize=(4.2 * len(DIAGNOSTICS), 3.4), squeeze=False)
    drawn = False
    for axis, (key, title, meaning) in zip(axes[0], DIAGNOSTICS):
        for index, (row, row_records) in enumerate(zip(rows, records)):
            drawn |= draw_band(axis, smoothed_curves(row_records, key, window), index, row.label, len(rows))
        axis.set_title(f"{title}\n({meaning})", fontsize=8.5)
        axis.set_xlabel("optimizer step")
        axis.set_ylabel(f"{key} ({rolling_label(window)})")
        axis.set_ylim(-0.03, 1.03)
    if not drawn:
        raise UserError("no adv/conflict_rate, adv/keep_ratio or adv/cancellation in any metrics.jsonl")
    legend_below(figure, axes[0][0])
    return save(figure, prefix)


def steps_to_target(steps: list[float], smoothed: list[float], target: float) -> float:
    for step, value in zip(steps, smoothed):
        if math.isfinite(value) and value >= target:
            return step
    return math.nan


def tail_mean(values: list[float], first: bool = False) -> float:
    """Mean of the last (or first) 10% of a run's values, at least one."""
    size = max(1, math.ceil(0.1 * len(values)))
    part = values[:size] if first else values[-size:]
    return sum(part) / len(part)


def efficiency(rows: list[Row], baseline: Row, reward: str):
    """Per row and seed: the first step whose smoothed reward reaches the baseline's final reward.

    The target is the baseline's final reward (mean of its last 10% of steps, averaged over seeds).
    When the baseline did not improve (final <= start, both averaged over seeds) there is no target
    to reach and ``improved`` is False: every step count is NaN rather than a meaningless "step 1".
    """
    key = "reward/sum" if reward == "sum" else f"reward/{reward}/mean"
    records = [training_metrics(row) for row in rows]
    # The baseline is usually one of the rows too: read its run dirs once.
    baseline_runs = (baseline.path, baseline.seeds)
    same_runs = [row_records for row, row_records in zip(rows, records) if (row.path, row.seeds) == baseline_runs]
    baseline_records = same_runs[0] if same_runs else training_metrics(baseline)
    baseline_series = [series(seed_records, key)[1] for seed_records in baseline_records.values()]
    baseline_series = [values for values in baseline_series if values]
    if not baseline_series:
        raise UserError(f"{baseline.path}: no {key} in metrics.jsonl (choose --reward from the run's rewards, or sum)")
    target = sum(tail_mean(v) for v in baseline_series) / len(baseline_series)
    start = sum(tail_mean(v, first=True) for v in baseline_series) / len(baseline_series)
    improved = target > start
    steps = max(total_steps(records), max(len(v) for v in baseline_series))
    window = smoothing_window(steps)
    results = []
    for row, row_records in zip(rows, records):
        for seed, seed_records in row_records.items():
            run_steps, values = series(seed_records, key)
            reached = steps_to_target(run_steps, rolling_mean(values, window), target) if improved else math.nan
            results.append({"row": row.label, "variant": row.variant, "seed": seed, "steps_to_target": reached})
    return target, start, key, window, steps, results


def plot_efficiency(rows: list[Row], baseline: Row, reward: str, prefix: Path) -> list[Path]:
    plt = pyplot()
    target, start, key, window, steps, results = efficiency(rows, baseline, reward)
    improved = target > start
    csv_path = prefix.with_name(prefix.name + ".csv")
    with io.StringIO(newline="") as handle:
        writer = csv.DictWriter(
            handle, ["row", "variant", "seed", "steps_to_target", "target", "baseline_start", "reward", "window", "total_steps"]
        )
        writer.writeheader()
        for result in results:
            reached = result["steps_to_target"]
            writer.writerow({**result, "steps_to_target": "" if math.isnan(reached) else int(reached),
                             "target": f"{target:.6g}", "baseline_start": f"{start:.6g}", "reward": key,
                             "window": window, "total_steps": steps})
        write_text_atomic(csv_path, handle.getvalue())

    figure, axis = plt.subplots(figsize=(6.4, 0.55 * len(rows) + 1.6))
    for index, row in enumerate(rows):
        values = [r["steps_to_target"] for r in results if r["row"] == row.label]
        reached = [v for v in values if not math.isnan(v)]
        y = len(rows) - 1 - index
        style = line_style(index)
        if reached:
            mean = sum(reached) / len(reached)
            axis.barh(y, mean, color=style["color"], alpha=0.35, hatch=HATCHES[index % len(HATCHES)], edgecolor="black")
            axis.plot(reached, [y] * len(reached), linestyle="none", marker=style["marker"], color="black", markersize=5)
        if improved and len(reached) < len(values):
            note = f"{len(reached)}/{len(values)} seeds reached" if reached else f"not reached in {steps} steps"
            axis.text(steps * 1.03, y, note, va="center", fontsize=8)
    axis.set_yticks(range(len(rows)), [row.label for row in reversed(rows)])
    axis.set_ylim(-0.6, len(rows) - 0.4)
    axis.axvline(steps, color="grey", linestyle=":", linewidth=1)
    axis.set_xlim(0, steps * 1.5 + 1)
    axis.set_xlabel(f"steps to reach {baseline.label}'s final {key} = {target:.3g}\n({rolling_label(window)}; markers: seeds; bar: mean over seeds that reached it)")
    axis.set_title("Learning efficiency (fewer steps is better)")
    if not improved:
        axis.text(0.5, 0.5, f"no target: {baseline.label}'s final {key} ({target:.3g}) is not above\n"
                  f"its start ({start:.3g}), so there is no level to reach", transform=axis.transAxes,
                  ha="center", va="center", fontsize=9, bbox={"facecolor": "white", "edgecolor": "grey"})
    figure.tight_layout()
    return save(figure, prefix) + [csv_path]


def sweep_value(run_dir: Path, x_key: str) -> float:
    value = run_config_value(run_dir, x_key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{run_dir / 'config.yaml'}: {x_key} is {value!r}, not a number; sweep a numeric key")
    return float(value)


def plot_sweep(rows: list[Row], x_key: str, metric: str, prefix: Path) -> list[Path]:
    """A held-out metric against a run-config value, mean ± 95% CI over seeds, one line per setting."""
    plt = pyplot()
    by_setting: dict[str, list[tuple[float, list[float]]]] = {}
    for row in rows:
        seeds = eval_metrics(row)
        runs = row.run_dirs()
        xs = {sweep_value(runs[seed], x_key) for seed in seeds}
        if len(xs) != 1:
            raise UserError(f"{row.path}: seeds disagree on {x_key}: {sorted(xs)}")
        values = [metrics[metric] for metrics in seeds.values() if metric in metrics]
        if not values:
            raise UserError(f"{row.path}: no seed reports {metric!r} in eval.json")
        by_setting.setdefault(row.setting, []).append((xs.pop(), values))
    figure, axis = plt.subplots(figsize=(4.8, 3.4))
    for index, (setting, points) in enumerate(sorted(by_setting.items())):
        points.sort()
        style = line_style(index)
        stats = [mean_ci95(values) for _, values in points]
        xs = [x for x, _ in points]
        errors = [0.0 if math.isnan(ci) else ci for _, ci, _ in stats]
        label = setting if len(by_setting) > 1 else "mean ± 95% CI"
        axis.errorbar(xs, [m for m, _, _ in stats], yerr=errors, capsize=3, label=label, **style)
        for x, values in points:
            axis.plot([x] * len(values), values, linestyle="none", marker=style["marker"], markerfacecolor="none",
                      color=style["color"], alpha=0.6, markersize=4)
    axis.set_xlabel(x_key)
    axis.set_ylabel(f"held-out {metric}")
    axis.set_title(f"{metric} vs {x_key} (hollow markers: seeds)", fontsize=9)
    axis.legend(frameon=False, fontsize=8)
    figure.tight_layout()
    return save(figure, prefix)
