"""Helpfulness–safety tasks: two rewards, ``useful`` and ``harmless``, that conflict on harmful prompts.

* :mod:`~gd2po.tasks.safety.data`: the shipped prompts (Alpaca train/test, HH-RLHF test, PKU-SafeRLHF
  test), ``data_source`` kept, HH-RLHF consecutive turns merged (11 rows, counted).
* :mod:`~gd2po.tasks.safety.reward_models`: the :class:`Scorer` interface, local sequence-scoring
  reward models (sign, affine normalisation, max length, counted fallbacks), TRL reward functions.
* :mod:`~gd2po.tasks.safety.rules`: rule-based scorers with the same interface, for the mini task.
* :mod:`~gd2po.tasks.safety.task`: ``safety``, the GPU paper task with the two reward models.
* :mod:`~gd2po.tasks.safety.mini`: ``safety_mini``, the CPU stand-in with a tiny warm-started policy.
"""

from gd2po.tasks.safety.reward_models import RewardModelScorer, RewardModelSpec, Scorer, reward_function

__all__ = ["RewardModelScorer", "RewardModelSpec", "Scorer", "reward_function"]
