"""`python -m gd2po evaluate --run RUN_DIR --suite SUITE [--benchmarks a,b]`: write RUN_DIR/eval.json.

``eval.json`` holds ``{"suite", "benchmarks", "metrics": {"<benchmark>/<metric>": float}, "meta"}``.
It is written once, atomically, after every requested benchmark succeeded. A suite module provides
``BENCHMARKS``, ``default_benchmarks(run_config)`` and ``check(context, requested)``, which refuses bad
requests (wrong task, unsupported options, missing files) before any benchmark runs.
"""

from __future__ import annotations

import argparse
import importlib
import time
from pathlib import Path

from gd2po.errors import UserError

SUITES = {"tool_calling": "gd2po.evaluate.tool_calling", "safety": "gd2po.evaluate.safety"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", required=True, type=Path, help="run dir written by `python -m gd2po train`")
    parser.add_argument("--suite", required=True, help=f"one of: {', '.join(SUITES)}")
    parser.add_argument(
        "--benchmarks", default=None, help="comma-separated subset (default: the suite's defaults for the run's task)"
    )
    parser.add_argument("--limit", type=int, default=None, help="at most this many examples per dataset")
    parser.add_argument("--backend", default="auto", choices=["auto", "transformers", "vllm"], help="generation engine")
    parser.add_argument("--batch-size", type=int, default=16, help="prompts per generation batch (transformers)")
    parser.add_argument("--out", type=Path, default=None, help="output file (default: RUN_DIR/eval.json)")


def run(args: argparse.Namespace) -> int:
    from gd2po.evaluate.context import EvalContext, load_run
    from gd2po.files import write_json_atomic

    if args.suite not in SUITES:
        raise UserError(f"--suite {args.suite!r}: unknown suite; allowed: {', '.join(SUITES)}")
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit {args.limit}: expected a positive integer")
    if args.batch_size < 1:
        raise UserError(f"--batch-size {args.batch_size}: expected a positive integer")
    suite = importlib.import_module(SUITES[args.suite])
    run_config, model_dir = load_run(args.run)
    named = args.benchmarks.split(",") if args.benchmarks else suite.default_benchmarks(run_config)
    requested = list(dict.fromkeys(named))  # each benchmark once, in the order named
    unknown = [name for name in requested if name not in suite.BENCHMARKS]
    if unknown:
        raise UserError(f"--benchmarks: unknown {', '.join(unknown)}; allowed for {args.suite}: {', '.join(suite.BENCHMARKS)}")

    context = EvalContext(
        run_dir=args.run,
        model_dir=model_dir,
        run_config=run_config,
        backend=args.backend,
        limit=args.limit,
        batch_size=args.batch_size,
        work_dir=args.run / "eval_work",
        benchmarks=tuple(requested),
    )
    suite.check(context, requested)
    metrics: dict[str, float] = {}
    timings: dict[str, float] = {}
    for name in requested:
        started = time.perf_counter()
        for key, value in suite.BENCHMARKS[name](context).items():
            metrics[f"{name}/{key}"] = float(value)
        timings[name] = round(time.perf_counter() - started, 3)
        print(f"{name}: " + ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if k.startswith(f"{name}/")))
    write_json_atomic(
        args.out or args.run / "eval.json",
        {
            "suite": args.suite,
            "benchmarks": requested,
            "metrics": metrics,
            "meta": {"limit": args.limit, "backend": args.backend, "seconds": timings, "model": str(model_dir)},
        },
    )
    return 0
