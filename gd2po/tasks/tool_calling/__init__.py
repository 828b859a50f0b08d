"""Tool-calling tasks: RLLA-4K (ToolRL data, GPU paper runs) and a synthetic mini task for CPU.

``score_response(response, ground_truth)`` gives the official ToolRL/GD²PO rewards with default flags.
"""

from gd2po.tasks.tool_calling.rewards import RewardOptions, reward_functions, score_response

__all__ = ["RewardOptions", "reward_functions", "score_response"]
