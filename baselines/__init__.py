"""Baseline recipes (GRPO, GDPO, DAPO), each a few declarative lines over `gd2po.core`.

Registered by name in `gd2po.recipes`.
"""
