"""`python -m gd2po prepare --task NAME --out DIR`: a tiny local model warm-started on a mini task."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from gd2po.models.builder import PRESETS

    parser.add_argument("--task", required=True, help="task name (a mini task with a tokenizer corpus)")
    parser.add_argument("--out", required=True, help="model directory to write (replaced atomically)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the tokenizer, initialisation and warm start")
    parser.add_argument("--size", default="mini", choices=list(PRESETS), help="model size preset")
    parser.add_argument(
        "--warmstart-steps", type=int, default=None, help="SFT steps on the task's conversations (0: none; default: the task's)"
    )
    parser.add_argument(
        "--set", dest="sets", action="append", default=[], metavar="task.KEY=VALUE", help="a task option (repeatable)"
    )


def run(args: argparse.Namespace) -> int:
    import os

    from gd2po.config import parse_set
    from gd2po.errors import UserError

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    overrides = parse_set(args.sets)
    unknown = [key for key in overrides if key != "task"]
    if unknown:
        raise UserError(f"--set {unknown[0]}: prepare accepts task.KEY=VALUE only")
    if args.warmstart_steps is not None and args.warmstart_steps < 0:
        raise UserError("--warmstart-steps: must be 0 or positive")

    from gd2po.models.prepare import prepare_model

    metadata = prepare_model(
        args.task,
        args.out,
        seed=args.seed,
        size=args.size,
        warmstart_steps=args.warmstart_steps,
        task_overrides=overrides.get("task", {}),
    )
    probe = ", ".join(f"{name} {value:.3f}" for name, value in metadata["probe_reward_means"].items())
    print(
        f"wrote {args.out}: {metadata['size']} model, {metadata['parameters']:,} parameters, "
        f"{metadata['warmstart_steps']} warm-start steps (final loss {metadata['warmstart_final_loss']}); "
        f"probe reward means: {probe}; {metadata['wall_s']} s"
    )
    return 0
