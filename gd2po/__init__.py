"""gd2po: multi-reward RL of LLMs (GRPO, GDPO, DAPO, GD²PO) from one shared algorithm core."""

__version__ = "0.1.0"
