"""`python -m gd2po train --config FILE --out RUN_DIR [--set key=value ...]`: one training run."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="run config YAML (see gd2po/config.py for every key)")
    parser.add_argument("--out", required=True, help="run directory; rerunning the same command resumes it")
    parser.add_argument(
        "--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
        help="override a config key, e.g. --set algorithm.tau=0.5 (value parsed as YAML; repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    from gd2po import config as run_config

    config = run_config.load(args.config, args.sets)

    from gd2po.engine.run import train

    train(config, args.out, source=str(args.config))
    return 0
