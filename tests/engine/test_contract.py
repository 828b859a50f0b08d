"""Contract with TRL 1.16's private API: fails loudly when an upgrade moves what the engine overrides.

If a test here fails after a TRL upgrade, re-read the new `GRPOTrainer` and adapt
gd2po/engine/trainer.py before relaxing the test.
"""

import inspect

import pytest
import torch
import trl
from engine_helpers import generation_batch, make_trainer
from trl import GRPOConfig, GRPOTrainer

from gd2po.recipes import get_recipe

SIGNATURES = {
    "_calculate_rewards": ["self", "inputs", "prompts", "completions", "completion_ids_list"],
    "_generate_and_score_completions": ["self", "inputs"],
    "_compute_loss": ["self", "model", "inputs"],
    "_get_train_sampler": ["self", "dataset"],
    "log": ["self", "logs", "start_time"],
}


def test_trl_is_the_pinned_release():
    assert trl.__version__ == "1.16.0"


@pytest.mark.parametrize("name, parameters", SIGNATURES.items())
def test_overridden_methods_keep_their_names_and_signatures(name, parameters):
    assert list(inspect.signature(getattr(GRPOTrainer, name)).parameters) == parameters


def test_helpers_the_engine_calls_keep_their_signatures():
    params = inspect.signature(GRPOTrainer._get_per_token_logps_and_entropies).parameters
    assert list(params)[:6] == ["self", "model", "input_ids", "attention_mask", "logits_to_keep", "batch_size"]
    assert "compute_entropy" in params
    assert GRPOTrainer.loss_is_scaled_for_ga is True  # our loss scales itself for gradient accumulation


def test_vllm_engine_is_built_with_a_seed_we_can_override():
    from trl.generation.vllm_generation import VLLMGeneration

    source = inspect.getsource(VLLMGeneration._init_vllm)
    assert "self.llm = LLM(" in source and "seed=accelerator.process_index // self.tensor_parallel_size" in source


def test_repeat_sampler_exposes_its_seed_and_generator():
    from trl.trainer.utils import RepeatSampler

    sampler = RepeatSampler(list(range(4)), mini_repeat_count=2, seed=3)
    assert sampler.seed == 3 and isinstance(sampler.generator, torch.Generator)


def test_grpo_config_keeps_the_fields_the_engine_sets():
    fields = set(GRPOConfig.__dataclass_fields__)
    used = {
        "num_generations", "max_completion_length", "steps_per_generation", "num_iterations", "beta", "epsilon",
        "epsilon_high", "delta", "loss_type", "mask_truncated_completions", "use_vllm", "vllm_mode",
        "vllm_gpu_memory_utilization", "vllm_enable_sleep_mode", "vllm_tensor_parallel_size",
        "vllm_server_base_url", "vllm_max_model_length", "vllm_importance_sampling_correction", "log_completions",
    }
    assert used <= fields


def test_outputs_and_reward_matrix_shapes(tiny_model, tmp_path):
    trainer = make_trainer(tiny_model, tmp_path, get_recipe("grpo"))
    inputs = generation_batch(trainer)
    batch = GRPOTrainer._generate_and_score_completions(trainer, inputs)  # TRL's own output
    assert {"advantages", "completion_mask", "num_items_in_batch", "prompt_ids", "prompt_mask", "completion_ids"} <= set(batch)
    assert batch["num_items_in_batch"].dim() == 0
    rewards = trainer._last_rewards  # what _calculate_rewards returned: gathered (B_global, K)
    assert rewards.shape == (len(inputs) * trainer.accelerator.num_processes, 2)
    assert trainer.reward_func_names == ["correctness", "brevity"]
