"""Comparison tables and figures from run dirs: ``python -m gd2po report table|curves|diagnostics|efficiency|sweep``.

Reads what training and evaluation wrote (``config.yaml``, ``metrics.jsonl``, ``eval.json`` in
``<row dir>/seed<N>/``) and never trains or evaluates.
"""
