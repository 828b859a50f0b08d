"""The GPU path without a GPU: config fields reach GRPOConfig, and the vLLM engine gets our seed."""

import pytest
from engine_helpers import REPO, SMOKE

from gd2po import config as run_config
from gd2po.engine.run import build_grpo_config
from gd2po.engine.seeding import effective_seeds, seeded_vllm_engine, vllm_seed
from gd2po.recipes import get_recipe


def test_vllm_fields_reach_grpo_config(tmp_path):
    config = run_config.load(SMOKE, [
        "generation.use_vllm=true", "generation.vllm_mode=colocate", "generation.vllm_enable_sleep_mode=true",
        "generation.vllm_gpu_memory_utilization=0.45", "generation.vllm_tensor_parallel_size=2",
        "generation.max_prompt_length=256", "generation.max_completion_length=1024",
    ])
    args = build_grpo_config(config, tmp_path, get_recipe("gd2po_snr"))
    assert args.use_vllm and args.vllm_mode == "colocate" and args.vllm_enable_sleep_mode
    assert args.vllm_gpu_memory_utilization == 0.45 and args.vllm_tensor_parallel_size == 2
    assert args.vllm_max_model_length == 1280
    assert args.vllm_importance_sampling_correction is False  # official: no IS correction


def test_official_optimisation_defaults_reach_grpo_config(tmp_path):
    config = run_config.from_mapping({"model": {"path": "m"}, "method": "gd2po_hard"}, "test")
    args = build_grpo_config(config, tmp_path, get_recipe("gd2po_hard"))
    assert args.lr_scheduler_type == "constant" and args.weight_decay == 0.01 and args.beta == 0.0
    assert (args.epsilon, args.epsilon_high, args.delta) == (0.2, 0.2, 3.0)
    assert args.output_dir == str(tmp_path / "checkpoints")


def test_colocated_engine_is_built_with_seed_plus_tp_group(monkeypatch):
    import trl.generation.vllm_generation as generation

    built = []

    def fake_llm(**kwargs):
        built.append(kwargs)

    monkeypatch.setattr(generation, "LLM", fake_llm, raising=False)
    with seeded_vllm_engine(vllm_seed(seed=5, process_index=3, tensor_parallel_size=2)):
        generation.LLM(model="m", seed=3 // 2)  # what TRL passes
    generation.LLM(model="m", seed=0)  # outside: untouched
    assert [kwargs["seed"] for kwargs in built] == [6, 0]


@pytest.mark.parametrize("seed", [0, 7])
def test_effective_seeds_recorded(seed):
    seeds = effective_seeds(seed, None, process_index=1, tensor_parallel_size=1, use_vllm=True)
    assert seeds == {"seed": seed, "data_seed": seed, "torch_process_seed": seed + 1, "vllm_engine_seed": seed + 1}


@pytest.mark.parametrize("name, kind", [("ddp", "MULTI_GPU"), ("zero3", "DEEPSPEED"), ("fsdp2", "FSDP")])
def test_accelerate_configs_load(name, kind):
    from accelerate.commands.config.config_args import load_config_from_file


    loaded = load_config_from_file(str(REPO / "config" / "accelerate" / f"{name}.yaml"))
    assert loaded.distributed_type.name == kind
    assert loaded.mixed_precision == "no"  # precision comes from the run config
