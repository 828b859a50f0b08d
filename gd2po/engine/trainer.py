"""`SuiteGRPOTrainer`: TRL 1.16's `GRPOTrainer` driven by a recipe from the shared core.

The only code in the suite that knows TRL's private methods. It overrides four of them (the
contract test in tests/engine pins their names, signatures and output keys):

* ``_calculate_rewards``: keeps the gathered (B_global, K) reward matrix and counts reward failures;
* ``_generate_and_score_completions``: computes the recipe's advantages on the GLOBAL batch (with
  gathered completion lengths, so token-level whitening sees every token), writes the local slice
  as (B, T) ``advantages``, runs DAPO dynamic sampling when the recipe asks for it, and logs
  ``adv/*``, ``reward/*`` and ``dapo/*`` metrics;
* ``_compute_loss``: the core's clipped surrogate (ε_low, ε_high, dual-clip, ratio clamp ±20) and
  loss aggregation, one code path for every method;
* ``_get_train_sampler``: the prompt sampler is seeded from ``data_seed`` (TRL uses ``seed``).

Filtered rollouts (GD²PO's conflict filter, DAPO's padding groups) get advantage exactly 0. By
default their tokens still count in the token-mean denominator, as in the official code; with
``recipe.exclude_filtered_from_denominator`` they are removed from ``completion_mask`` and
``num_items_in_batch`` is recomputed with a gather (docs/trl.md §4).
"""

from __future__ import annotations

import random
from collections import Counter

import torch
from accelerate.utils import gather
from trl import GRPOTrainer

from gd2po.core.loss import importance_ratio, policy_loss
from gd2po.core.recipe import Recipe
from gd2po.engine.dynamic_sampling import RoundResult, mask_from_lengths, sample_with_refill
from gd2po.engine.rewards import guarded
from gd2po.engine.seeding import seeded_vllm_engine, vllm_seed

# Suite metrics describe the generation round a step trains on; steps that reuse a round repeat them.
_ROUND_METRIC_PREFIXES = ("adv/", "reward/", "dapo/")


class SuiteGRPOTrainer(GRPOTrainer):
    def __init__(self, *, recipe: Recipe, reward_funcs: list, args, failure_value: float = 0.0, **kwargs):
        self.recipe = recipe
        self._reward_failures: Counter = Counter()
        self._round_failures: torch.Tensor | None = None
        self._last_rewards: torch.Tensor | None = None
        self._round_metrics: dict[str, float] = {}
        reward_funcs = [guarded(fn, failure_value, self._reward_failures) for fn in reward_funcs]
        engine_seed = vllm_seed(args.seed, args.process_index, args.vllm_tensor_parallel_size)
        with seeded_vllm_engine(engine_seed):
            super().__init__(reward_funcs=reward_funcs, args=args, **kwargs)
        self.data_seed = args.seed if args.data_seed is None else args.data_seed
        if recipe.dynamic_sampling is not None:
            local = args.per_device_train_batch_size * args.steps_per_generation
            if local % self.num_generations:
                raise ValueError(
                    f"dynamic sampling needs whole groups per process: per_device_train_batch_size x "
                    f"steps_per_generation = {local} is not a multiple of num_generations = {self.num_generations}"
                )
            metric = recipe.dynamic_sampling.metric
            if metric != "sum" and metric not in self.reward_func_names:
                raise ValueError(
                    f"dynamic_sampling.metric: {metric!r} is neither 'sum' nor a reward of this task "
                    f"({', '.join(self.reward_func_names)})"
                )

    # --- seeds ----------------------------------------------------------------------------------

    def _get_train_sampler(self, dataset=None):
        sampler = super()._get_train_sampler(dataset)
        sampler.seed = self.data_seed
        sampler.generator.manual_seed(self.data_seed)
        return sampler

    # --- rewards --------------------------------------------------------------------------------

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        counts = torch.tensor(
            [float(self._reward_failures.pop(name, 0)) for name in self.reward_func_names],
            device=self.accelerator.device,
        )
        counts = gather(counts.unsqueeze(0)).sum(dim=0)
        self._round_failures = counts if self._round_failures is None else self._round_failures + counts
        self._last_rewards = rewards
        return rewards

    # --- advantages -----------------------------------------------------------------------------

    def _generate_and_score_completions(self, inputs):
        mode = "train" if self.model.training else "eval"
        if mode == "train" and self.recipe.dynamic_sampling is not None:
            output, local_rewards, stats = sample_with_refill(
                self._score_round,
                inputs,
                lambda round_index: self._draw_inputs(len(inputs), round_index),
                recipe=self.recipe,
                group_size=self.num_generations,
                reward_names=list(self.reward_func_names),
                process_index=self.accelerator.process_index,
                num_processes=self.accelerator.num_processes,
                pad_token_id=self._tokenizer.pad_token_id,
            )
            rewards = gather(local_rewards)
            self._log_round(mode, "dapo/rounds", stats.rounds)
            self._log_round(mode, "dapo/kept_groups", stats.kept_groups)
            self._log_round(mode, "dapo/dropped_groups", stats.dropped_groups)
            self._log_round(mode, "dapo/shortfall_groups", stats.shortfall_groups)
        else:
            output = super()._generate_and_score_completions(inputs)
            rewards = self._last_rewards
        sequence_advantages = self._apply_recipe(output, rewards, mode)
        if self.recipe.dynamic_sampling is None or mode != "train":
            # TRL logged its own advantages for these rollouts (completion logs); show the recipe's.
            # After a refill the logged rounds are not the kept batch, so TRL's stay there.
            logged = self._logs["advantages"]
            earlier = list(logged)[: max(0, len(logged) - len(sequence_advantages))]
            logged.clear()
            logged.extend(earlier + sequence_advantages.tolist())
        return output

    def _score_round(self, inputs) -> RoundResult:
        output = super()._generate_and_score_completions(inputs)
        lengths = gather(_loss_mask(output).sum(dim=1))
        return RoundResult(output=output, rewards=self._last_rewards, lengths=lengths)

    def _draw_inputs(self, count: int, round_index: int) -> list[dict]:
        """Fresh prompts for a dynamic-sampling refill round, each repeated G times.

        Seeded from (data_seed, step, round, process), so a resumed run draws the same prompts.
        """
        dataset = self.train_dataset
        rng = random.Random(hash((self.data_seed, self.state.global_step, round_index, self.accelerator.process_index)))
        prompts = [dataset[rng.randrange(len(dataset))] for _ in range(count // self.num_generations)]
        return [dict(row) for row in prompts for _ in range(self.num_generations)]

    def _apply_recipe(self, output: dict, rewards: torch.Tensor, mode: str) -> torch.Tensor:
        """Put the recipe's (B, T) advantages for this process into ``output``; return the (B_global,)
        sequence advantages."""
        completion_mask = output["completion_mask"]
        loss_mask = _loss_mask(output)
        lengths = gather(loss_mask.sum(dim=1))  # (B_global,): token-level whitening counts every token
        local_size = loss_mask.shape[0]
        local = slice(self.accelerator.process_index * local_size, (self.accelerator.process_index + 1) * local_size)
        response_mask = mask_from_lengths(lengths)
        group_ids = torch.arange(rewards.shape[0], device=rewards.device) // self.num_generations
        result = self.recipe.compute_advantages(rewards, group_ids, response_mask, list(self.reward_func_names))

        sequence = result.sequence_advantages[local].to(device=loss_mask.device, dtype=torch.float32)
        output["advantages"] = sequence.unsqueeze(1) * loss_mask.to(torch.float32)  # (B, T)
        if self.recipe.exclude_filtered_from_denominator:
            keep = result.keep[local].to(device=completion_mask.device, dtype=completion_mask.dtype)
            output["completion_mask"] = completion_mask * keep.unsqueeze(1)
            loss_mask = loss_mask * keep.unsqueeze(1)
        output["num_items_in_batch"] = gather(loss_mask.sum()).sum()

        for key, value in result.diagnostics.items():
            self._log_round(mode, f"adv/{key}", value)
        for column, name in enumerate(self.reward_func_names):
            values = rewards[:, column].float()
            self._log_round(mode, f"reward/{name}/mean", values.mean().item())
            self._log_round(mode, f"reward/{name}/std", values.std().item() if values.numel() > 1 else 0.0)
            self._log_round(mode, f"reward/{name}/failures", float(self._round_failures[column]))
        self._round_failures = None
        return result.sequence_advantages

    def _log_round(self, mode: str, key: str, value: float) -> None:
        self._metrics[mode][key].append(float(value))
        if mode == "train":
            self._round_metrics[key] = float(value)

    def log(self, logs, start_time=None):
        metrics = self._metrics["train"]
        if self.model.training and not any(key.startswith(_ROUND_METRIC_PREFIXES) for key in metrics):
            for key, value in self._round_metrics.items():
                metrics[key].append(value)
        super().log(logs, start_time)

    # --- loss -----------------------------------------------------------------------------------

    def _compute_loss(self, model, inputs):
        prompt_ids, prompt_mask = inputs["prompt_ids"], inputs["prompt_mask"]
        completion_ids, completion_mask = inputs["completion_ids"], inputs["completion_mask"]
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([prompt_mask, completion_mask], dim=1)
        mask = _loss_mask(inputs)
        log_probs, entropies, _ = self._get_per_token_logps_and_entropies(
            model, input_ids, attention_mask, completion_ids.size(1), compute_entropy=True
        )
        old_log_probs = inputs.get("old_per_token_logps")
        old_log_probs = log_probs.detach() if old_log_probs is None else old_log_probs
        advantages = inputs["advantages"]
        recipe = self.recipe
        training = self.model.training
        accumulation = self.current_gradient_accumulation_steps if training else 1
        if recipe.loss_aggregation == "token-mean":
            # tokens of the whole optimizer step, as TRL's `dapo` loss: the generation batch's count
            # (all processes) rescaled to one process and one accumulation window
            denominator = inputs["num_items_in_batch"].clamp(min=1.0) / self.accelerator.num_processes
            if training:
                denominator = denominator * accumulation / self.args.steps_per_generation
        else:
            denominator = None
        loss = policy_loss(
            log_probs,
            old_log_probs,
            advantages,
            mask,
            epsilon_low=recipe.epsilon_low,
            epsilon_high=recipe.epsilon_high,
            dual_clip=recipe.dual_clip,
            loss_aggregation=recipe.loss_aggregation,
            denominator=denominator,
        )
        if denominator is None:
            loss = loss / accumulation
        self._log_loss_metrics(log_probs.detach(), old_log_probs, advantages, entropies, mask)
        return loss

    def _log_loss_metrics(self, log_probs, old_log_probs, advantages, entropies, mask) -> None:
        """Token means over all processes of the entropy and the clip rates, in one collective."""
        mode = "train" if self.model.training else "eval"
        ratio = importance_ratio(log_probs, old_log_probs)
        recipe = self.recipe
        mask = mask.to(torch.float32)
        values = {
            "entropy": entropies,
            "clip_ratio/low_mean": (ratio < 1 - recipe.epsilon_low) & (advantages < 0),
            "clip_ratio/high_mean": (ratio > 1 + recipe.epsilon_high) & (advantages > 0),
        }
        if recipe.dual_clip is not None:
            values["clip_ratio/dual_mean"] = (ratio > recipe.dual_clip) & (advantages < 0)
        sums = torch.stack([mask.sum(), *((v.to(torch.float32) * mask).sum() for v in values.values())])
        count, *totals = self.accelerator.reduce(sums, reduction="sum").tolist()
        for name, total in zip(values, totals):
            self._metrics[mode][name].append(total / max(count, 1.0))


def _loss_mask(rows: dict) -> torch.Tensor:
    """(B, T) tokens the loss sees: the completion mask, without tool-output tokens when present."""
    completion_mask = rows["completion_mask"]
    return completion_mask if "tool_mask" not in rows else completion_mask * rows["tool_mask"]
