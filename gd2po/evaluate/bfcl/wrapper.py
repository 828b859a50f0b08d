"""The ``bfcl`` CLI (bfcl-eval 2025.8.6.2, BFCL v3) with the suite's handler registered.

Run it with the eval venv's Python, by file path, exactly like ``bfcl``:

    BFCL_PROJECT_ROOT=RUN_DIR/bfcl .venv-eval/bin/python gd2po/evaluate/bfcl/wrapper.py \\
        generate --model gd2po/rlla-chat --test-category simple --skip-server-setup --local-model-path CKPT

It never imports gd2po (the eval venv has no torch); its sibling modules load as top-level modules.
Registration adds an entry to bfcl's ``MODEL_CONFIG_MAPPING`` in this process only; the installed
package is untouched. ``evaluate`` also builds the handler, so it too must run through here.

One option of our own: ``evaluate --partial-eval`` scores only the test IDs present in each result
file (v3 insists on whole categories). Scores from it are for smoke tests, never for reporting.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# bfcl maps result dir names back with "_" -> "/", so a registry name must not contain "_".
MODEL_NAME = "gd2po/rlla-chat"
PARTIAL_EVAL = "--partial-eval"


def register() -> None:
    from bfcl_eval.constants.model_config import MODEL_CONFIG_MAPPING, ModelConfig
    from rlla_handler import RllaChatHandler

    MODEL_CONFIG_MAPPING[MODEL_NAME] = ModelConfig(
        model_name=MODEL_NAME,
        display_name="gd2po RLLA prompt (chat template)",
        url="https://github.com/qiancheng0/ToolRL",
        org="gd2po",
        license="apache-2.0",
        model_handler=RllaChatHandler,
        input_price=None,
        output_price=None,
        is_fc_model=False,
        underscore_to_dot=False,
    )


def score_generated_ids_only() -> None:
    """Narrow each category's prompts and possible answers to the IDs its result file holds."""
    from bfcl_eval.eval_checker import eval_runner

    load_file, evaluate_task = eval_runner.load_file, eval_runner.evaluate_task

    def evaluate_generated(test_category, result_dir, score_dir, model_result, *rest):
        generated = {entry["id"] for entry in model_result}
        eval_runner.load_file = lambda path, **kw: [e for e in load_file(path, **kw) if e["id"] in generated]
        try:
            return evaluate_task(test_category, result_dir, score_dir, model_result, *rest)
        finally:
            eval_runner.load_file = load_file

    eval_runner.evaluate_task = evaluate_generated


def main(argv: list[str]) -> None:
    if not os.environ.get("BFCL_PROJECT_ROOT"):
        sys.exit("BFCL_PROJECT_ROOT is not set, so bfcl would write into its site-packages; set it to a per-checkpoint dir")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    partial = PARTIAL_EVAL in argv
    if partial and argv[:1] != ["evaluate"]:
        sys.exit(f"{PARTIAL_EVAL} applies to `evaluate` only")
    register()
    if partial:
        score_generated_ids_only()
    from bfcl_eval.__main__ import cli

    cli(args=[arg for arg in argv if arg != PARTIAL_EVAL], prog_name="bfcl")


if __name__ == "__main__":
    main(sys.argv[1:])
