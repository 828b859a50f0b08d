"""Evaluation: read a run's final model, generate greedily, score, write ``RUN_DIR/eval.json``."""
