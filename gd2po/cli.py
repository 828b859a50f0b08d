"""`python -m gd2po <command>`: train, evaluate, report, prepare and bench.

Each command lives in its own module that exposes ``add_arguments(parser)`` and ``run(args) -> int``.
User mistakes raise :class:`gd2po.errors.UserError` and are printed as one line with exit code 2,
never as a traceback; malformed arguments are reported by argparse (usage line, also exit 2).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from gd2po.errors import UserError

COMMANDS = {
    "train": ("gd2po.engine.cli", "train one run: a task x method x seed"),
    "prepare": ("gd2po.models.cli", "build a tiny local tokenizer and model, warm-started on a mini task"),
    "evaluate": ("gd2po.evaluate.cli", "evaluate a run's final model and write RUN_DIR/eval.json"),
    "report": ("gd2po.report.cli", "comparison tables and plots from run dirs"),
    "bench": ("gd2po.bench", "speed benchmarks, as ratios against a reference measured in the same run"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    """The full parser of the command named in ``argv`` (commands are imported only when used)."""
    parser = argparse.ArgumentParser(prog="python -m gd2po", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((word for word in argv if not word.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
