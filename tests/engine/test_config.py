"""The run-config schema: help texts and defaults, YAML + --set, one-line errors naming the key."""

import dataclasses
import shutil

import pytest
from engine_helpers import SMOKE, gd2po

from gd2po import config as run_config
from gd2po.errors import UserError


def sections(cls=run_config.RunConfig):
    yield cls
    for field in dataclasses.fields(cls):
        if dataclasses.is_dataclass(field.default_factory if field.default_factory is not dataclasses.MISSING else None):
            yield from sections(field.default_factory)


def test_every_field_has_help_and_a_default():
    for cls in sections():
        for field in dataclasses.fields(cls):
            assert field.metadata.get("help"), f"{cls.__name__}.{field.name} has no help"
            assert field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
    assert {cls.__name__ for cls in sections()} >= {"GenerationConfig", "OptimizationConfig", "LoggingConfig"}


def test_official_defaults():
    config = run_config.RunConfig()
    assert config.optimization.lr_scheduler_type == "constant"
    assert config.optimization.weight_decay == 0.01
    assert config.generation.vllm_gpu_memory_utilization == 0.3


def test_yaml_plus_set_values_are_parsed_as_yaml_and_types_checked(tmp_path):
    config = run_config.load(
        SMOKE,
        ["method=gd2po_snr", "algorithm.tau=0.5", "generation.temperature=1", "task.num_prompts=8",
         "algorithm.reward_weights=[1, 0.5]", "data_seed=3"],
    )
    assert config.method == "gd2po_snr" and config.algorithm == {"tau": 0.5, "reward_weights": [1, 0.5]}
    assert config.generation.temperature == 1.0 and isinstance(config.generation.temperature, float)
    assert config.task.options == {"num_prompts": 8, "brevity_chars": 24}  # defaults filled in
    assert config.data_seed == 3 and config.seed == 0
    assert run_config.from_mapping(run_config.to_mapping(config), "again") == config


def test_exponent_floats_without_a_decimal_point_are_floats(tmp_path):
    """PyYAML (YAML 1.1) reads ``1e-6`` as a string; config files and ``--set`` read it as YAML 1.2 does."""
    config = run_config.load(SMOKE, ["optimization.learning_rate=1e-6", "generation.temperature=5E-1"])
    assert config.optimization.learning_rate == 1e-6 and config.generation.temperature == 0.5
    path = tmp_path / "run.yaml"
    path.write_text(SMOKE.read_text() + "\nalgorithm: {snr_eps: 1e-8}\n")
    assert run_config.load(path, ["method=gd2po_snr"]).algorithm == {"snr_eps": 1e-8}
    assert run_config.parse_set(["task.tag=x1e5", "task.count=1_000"]) == {"task": {"tag": "x1e5", "count": 1000}}


@pytest.mark.parametrize(
    "sets, message",
    [
        (["generation.temperatur=1"], "generation.temperatur: unknown key; allowed: num_generations, "),
        (["generation.temperature=hot"], "generation.temperature: expected float, got 'hot'"),
        (["optimization.max_steps=true"], "optimization.max_steps: expected int, got True"),
        (["optimization.max_steps=2.5"], "optimization.max_steps: expected int, got 2.5"),
        (["generation.vllm_mode=remote"], "generation.vllm_mode: expected 'colocate' | 'server', got 'remote'"),
        (["method=ppo"], "method: unknown method 'ppo'; allowed: grpo, gdpo, dapo, gd2po_hard, gd2po_snr"),
        (["task.name=chess"], "task.name: unknown task 'chess'; allowed: "),
        (["task.num_prompt=3"], "task.num_prompt: unknown key; allowed: num_prompts, brevity_chars"),
        (["algorithm.taux=0.5"], "algorithm.taux: unknown key; allowed: name, method, tau, "),
        (["method=gd2po_snr", "algorithm.tau=1.5"], "algorithm: tau: expected a value in [0, 1], got 1.5"),
        (["generation.num_generations=1"], "generation.num_generations: must be at least 2"),
        (["generation.vllm_tensor_parallel_size=0"], "generation.vllm_tensor_parallel_size: must be positive"),
        (["optimization.learning_rate=-1e-6"], "optimization.learning_rate: must be at least 0, got -1e-06"),
        (["optimization.weight_decay=-0.01"], "optimization.weight_decay: must be at least 0, got -0.01"),
        (["optimization.beta=0.1"], "optimization.beta: unknown key; allowed: learning_rate, "),
        (["model.path=''"], "model.path: required"),
        (["generation=3"], "generation: expected a mapping, got 3"),
    ],
)
def test_mistakes_are_one_line_user_errors_naming_the_key(sets, message):
    with pytest.raises(UserError) as error:
        run_config.load(SMOKE, sets)
    assert message in str(error.value)
    assert str(error.value).startswith(str(SMOKE)) and "\n" not in str(error.value)


def test_bad_yaml_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: [grpo\n")
    with pytest.raises(UserError, match="bad.yaml: not valid YAML"):
        run_config.load(bad)
    with pytest.raises(UserError, match="config file not found"):
        run_config.load(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    "file_text, sets, message",
    [
        ("generation:\n  temperatur: 1.0\n", [], "generation.temperatur: unknown key; allowed:"),
        ("", ["generation.temperature=hot"], "generation.temperature: expected float"),
        ("", ["method=ppo"], "method: unknown method 'ppo'"),
    ],
)
def test_cli_bad_config_exits_2_with_one_line_and_writes_nothing(tmp_path, file_text, sets, message):
    config = tmp_path / "config.yaml"
    config.write_text(SMOKE.read_text() + file_text)
    out = tmp_path / "run"
    args = ["train", "--config", str(config), "--out", str(out)]
    result = gd2po(*args, *[item for s in sets for item in ("--set", s)])
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert f"error: {config}: " in result.stderr and message in result.stderr
    assert not out.exists()


def test_batch_shape_errors_from_trl_are_user_errors_and_write_nothing(tiny_model, tmp_path):
    from gd2po.engine.run import train

    config = run_config.load(SMOKE, [f"model.path={tiny_model}", "generation.num_generations=3"])
    with pytest.raises(UserError, match=r"generation_batch_size \(8\) must be divisible by num_generations \(3\)") as error:
        train(config, tmp_path / "run", source="smoke.yaml")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "run").exists()


def test_missing_model_dir_is_a_user_error(tmp_path):
    from gd2po.engine.run import train

    config = run_config.load(SMOKE, [f"model.path={tmp_path / 'nope'}"])
    with pytest.raises(UserError, match="model.path: .*does not exist; build a model with"):
        train(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()



def _broken_model_dir(tiny_model, tmp_path, keep: tuple[str, ...], corrupt: str = "") -> str:
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in keep:
        shutil.copy(tiny_model / name, folder / name)
    if corrupt:
        (folder / corrupt).write_text("{")
    return str(folder)


@pytest.mark.parametrize(
    "keep, corrupt, message, writes_nothing",
    [
        ((), "", r"model.path: .*broken holds no model \(no config.json\); build one there with", True),
        (("config.json", "tokenizer_config.json"), "tokenizer.json", r"model.path: cannot load a tokenizer from .*broken \(", True),
        (("config.json", "tokenizer_config.json", "tokenizer.json"), "", r"model.path: .*no file named model.safetensors", False),
    ],
)
def test_model_dir_holding_no_model_is_a_user_error(tiny_model, tmp_path, keep, corrupt, message, writes_nothing):
    from gd2po.engine.run import train

    path = _broken_model_dir(tiny_model, tmp_path, keep, corrupt)
    config = run_config.load(SMOKE, [f"model.path={path}"])
    with pytest.raises(UserError, match=f"^smoke.yaml: {message}.*python -m gd2po prepare") as error:
        train(config, tmp_path / "run", source="smoke.yaml")
    assert "\n" not in str(error.value)
    assert (tmp_path / "run").exists() != writes_nothing


def test_missing_relative_model_path_taken_for_a_hub_id_is_a_user_error(tmp_path, monkeypatch):
    """``models/toy`` looks like a hub id, so only the tokenizer download finds that it is missing."""
    from gd2po.engine.run import train

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the path check then defers to the hub; the hub stays offline
    config = run_config.load(SMOKE, ["model.path=models/toy"])
    with pytest.raises(UserError, match=r"^smoke.yaml: model.path: cannot load a tokenizer from models/toy .*gd2po prepare"):
        train(config, tmp_path / "run", source="smoke.yaml")
    assert not (tmp_path / "run").exists()
