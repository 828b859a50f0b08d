"""BFCL v3 evaluation (bfcl-eval 2025.8.6.2) of a checkpoint in the suite's RLLA output format.

Main-environment API: :func:`evaluate_bfcl` (= :func:`generate_bfcl` then :func:`score_bfcl`) and
the pure :func:`v3_aggregates`. bfcl itself runs in the eval venv (``.venv-eval``, made by
``setup_env.sh``) through ``wrapper.py``; ``rlla_handler.py`` is imported there only. Nothing here
imports torch or bfcl.
"""

from gd2po.evaluate.bfcl.runner import BfclError, InferenceFailed, ServerNotReady, evaluate_bfcl, generate_bfcl, score_bfcl
from gd2po.evaluate.bfcl.scores import CATEGORIES, v3_aggregates

__all__ = [
    "BfclError",
    "CATEGORIES",
    "InferenceFailed",
    "ServerNotReady",
    "evaluate_bfcl",
    "generate_bfcl",
    "score_bfcl",
    "v3_aggregates",
]
