"""The run config: a typed schema of nested dataclasses, read from YAML plus ``--set dotted.key=value``.

Every field has a default and a help text. Loading checks every key and type and raises
:class:`gd2po.errors.UserError` with one line naming the file and the key, e.g.
``config.yaml: generation.temperatur: unknown key; allowed: num_generations, ...``.

Two sections are open-ended and validated elsewhere:

* ``algorithm``: overrides of the recipe that ``method`` names (``tau``, ``epsilon_high`` ...), checked
  against the recipe's fields;
* ``task``: ``name`` plus that task's own ``Options`` fields, checked against ``get_task(name).Options``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gd2po.errors import UserError


def _help(text: str, default: Any = dataclasses.MISSING, factory: Any = dataclasses.MISSING):
    if factory is not dataclasses.MISSING:
        return field(default_factory=factory, metadata={"help": text})
    return field(default=default, metadata={"help": text})


@dataclass
class TaskConfig:
    name: str = _help("task name from gd2po.tasks.TASKS (toy, tool_calling_mini, safety_mini, ...)", "toy")
    options: dict = _help(
        "the task's own options (its Options dataclass); written flat next to `name` in YAML", factory=dict
    )


@dataclass
class ModelConfig:
    path: str = _help("model directory (or hub id on a machine with the hub); build one with `gd2po prepare`", "")
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = _help("dtype the weights are loaded in", "float32")
    attn_implementation: str | None = _help("transformers attention implementation (eager, sdpa, ...); None = default", None)
    gradient_checkpointing: bool = _help("trade compute for memory in the backward pass", False)


@dataclass
class GenerationConfig:
    num_generations: int = _help("rollouts per prompt (G); at least 2", 4)
    max_prompt_length: int | None = _help(
        "drop training prompts longer than this many tokens (after the chat template); None keeps all", None
    )
    max_completion_length: int = _help("maximum new tokens per rollout", 64)
    temperature: float = _help("sampling temperature", 1.0)
    top_p: float = _help("nucleus sampling threshold", 1.0)
    mask_truncated_completions: bool = _help(
        "exclude completions that hit max_completion_length from the loss (DAPO's overlong filtering)", False
    )
    use_vllm: bool = _help("generate with vLLM (GPU only; needs the `gpu` extra) instead of transformers", False)
    vllm_mode: Literal["colocate", "server"] = _help("colocate: vLLM inside each training rank; server: `trl vllm-serve`", "colocate")
    vllm_gpu_memory_utilization: float = _help("fraction of GPU memory vLLM may take in colocate mode", 0.3)
    vllm_enable_sleep_mode: bool = _help("colocate: offload vLLM weights and KV cache during the optimizer step", False)
    vllm_tensor_parallel_size: int = _help("colocate: tensor-parallel size of the vLLM engine", 1)
    vllm_server_base_url: str | None = _help("server mode: URL of `trl vllm-serve`, e.g. http://host:8000", None)


@dataclass
class OptimizationConfig:
    learning_rate: float = _help("AdamW learning rate (official runs: 1e-6)", 1e-6)
    lr_scheduler_type: str = _help("transformers scheduler name; official runs: constant", "constant")
    warmup_steps: int = _help("linear warm-up steps", 0)
    weight_decay: float = _help("AdamW weight decay (official runs: 0.01)", 0.01)
    max_grad_norm: float = _help("gradient clipping norm", 1.0)
    max_steps: int = _help("optimizer steps to train", 100)
    per_device_train_batch_size: int = _help("completions per device per micro-batch", 8)
    gradient_accumulation_steps: int = _help("micro-batches per optimizer step", 1)
    steps_per_generation: int | None = _help(
        "micro-batches per generation round; None = gradient_accumulation_steps (one optimizer step per round)", None
    )
    num_iterations: int = _help("PPO epochs over each generation round (mu)", 1)
    bf16: bool = _help("bf16 mixed precision (GPU)", False)
    use_cpu: bool = _help("train on CPU even when a GPU is visible", False)


@dataclass
class RewardsConfig:
    failure_value: float = _help(
        "reward a completion gets when a reward function raises or returns None/NaN for it; "
        "each such event is counted in reward/<name>/failures",
        0.0,
    )


@dataclass
class LoggingConfig:
    logging_steps: int = _help("write metrics every N optimizer steps (metrics.jsonl, TensorBoard)", 1)
    save_steps: int = _help("checkpoint every N optimizer steps into RUN_DIR/checkpoints/ (resume point)", 50)
    save_total_limit: int = _help("checkpoints kept; older ones are deleted", 2)
    log_completions: bool = _help("print a sample of completions with their rewards at each logging step", False)


@dataclass
class RunConfig:
    method: str = _help("recipe name: grpo, gdpo, dapo, gd2po_hard, gd2po_snr, ...", "grpo")
    algorithm: dict = _help("recipe overrides, e.g. {tau: 0.8}; keys are the recipe's fields", factory=dict)
    seed: int = _help("seed of torch, transformers, generation and (by default) the prompt sampler", 0)
    data_seed: int | None = _help("seed of the prompt sampler; None = seed", None)
    task: TaskConfig = _help("the task and its options", factory=TaskConfig)
    model: ModelConfig = _help("the policy model", factory=ModelConfig)
    generation: GenerationConfig = _help("rollouts", factory=GenerationConfig)
    optimization: OptimizationConfig = _help("optimizer and batch sizes", factory=OptimizationConfig)
    rewards: RewardsConfig = _help("reward-function failure handling", factory=RewardsConfig)
    logging: LoggingConfig = _help("metrics, checkpoints and completions logging", factory=LoggingConfig)


# ---------------------------------------------------------------------------------------------------
# Loading


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else _type_name(a) for a in typing.get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, key: str, source: str) -> Any:
    """Check ``value`` against the annotation ``tp``; ints are accepted where floats are expected."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(tp):
            if option is type(None) and value is None:
                return None
            try:
                return _coerce(value, option, key, source)
            except UserError:
                continue
    elif origin is Literal:
        if value in typing.get_args(tp):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp in (str, bool, dict):
        if isinstance(value, tp):
            return value
    else:
        raise TypeError(f"unsupported config annotation {tp!r}")
    raise UserError(f"{source}: {key}: expected {_type_name(tp)}, got {value!r}")


def build_dataclass(cls: type, mapping: Any, prefix: str, source: str, skip: tuple[str, ...] = ()) -> Any:
    """Instantiate dataclass ``cls`` from ``mapping``, checking every key and type (nested dataclasses too)."""
    where = prefix.rstrip(".") or "config"
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict):
        raise UserError(f"{source}: {where}: expected a mapping, got {mapping!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    values = {}
    for key, value in mapping.items():
        if key not in fields:
            raise UserError(f"{source}: {prefix}{key}: unknown key; allowed: {', '.join(fields)}")
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            values[key] = build_dataclass(tp, value, f"{prefix}{key}.", source)
        else:
            values[key] = _coerce(value, tp, f"{prefix}{key}", source)
    return cls(**values)


def task_options(task_name: str, mapping: dict, source: str) -> Any:
    """The task's ``Options`` instance from ``mapping`` (the ``task:`` section minus ``name``)."""
    from gd2po.tasks import get_task

    try:
        task = get_task(task_name)
    except UserError as error:
        raise UserError(f"{source}: task.name: {error}") from None
    return build_dataclass(task.Options, mapping, "task.", source)


def recipe_for(method: str, overrides: dict, source: str):
    """The recipe ``method`` with ``overrides`` applied; unknown names and fields are user errors."""
    from gd2po.recipes import RECIPE_NAMES, get_recipe

    if method not in RECIPE_NAMES:
        raise UserError(f"{source}: method: unknown method {method!r}; allowed: {', '.join(RECIPE_NAMES)}")
    recipe = get_recipe(method)
    allowed = [f.name for f in dataclasses.fields(recipe)]
    for key in overrides:
        if key not in allowed:
            raise UserError(f"{source}: algorithm.{key}: unknown key; allowed: {', '.join(allowed)}")
    try:
        return recipe.with_overrides(**overrides)
    except (ValueError, TypeError) as error:
        raise UserError(f"{source}: algorithm: {error}") from None


def _yaml_load(text: str) -> Any:
    """``yaml.safe_load`` that reads exponent floats without a decimal point (``1e-6``) as floats.

    PyYAML implements YAML 1.1, where ``1e-6`` is the string ``"1e-6"``; YAML 1.2 and every user read
    it as 10⁻⁶. Config files and ``--set`` values both go through here.
    """
    import yaml

    return yaml.load(text, Loader=_config_loader())


@functools.cache
def _config_loader() -> type:
    import yaml

    class ConfigLoader(yaml.SafeLoader):
        pass

    ConfigLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
    )
    return ConfigLoader


def parse_set(items: list[str] | None) -> dict:
    """``["a.b=1", "c=x"]`` -> nested ``{"a": {"b": 1}, "c": "x"}``; values are parsed as YAML (``1e-6`` is a float)."""
    import yaml

    nested: dict = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {item!r}: expected dotted.key=value")
        try:
            value = _yaml_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            raise UserError(f"--set {item}: value is not valid YAML") from None
        parts = key.strip().split(".")
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise UserError(f"--set {item}: {part} is not a section")
            node = child
        node[parts[-1]] = value
    return nested


def merge(base: dict, override: dict) -> dict:
    """Recursive dict merge; values of ``override`` win."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml(path: str | Path) -> dict:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: config file not found")
    try:
        data = _yaml_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark else ""
        raise UserError(f"{path}: not valid YAML{at}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping at the top level")
    return data


def from_mapping(data: dict, source: str) -> RunConfig:
    """A validated :class:`RunConfig` from a plain mapping (YAML merged with ``--set``)."""
    data = dict(data)
    task_section = data.pop("task", None) or {}
    if not isinstance(task_section, dict):
        raise UserError(f"{source}: task: expected a mapping, got {task_section!r}")
    config = build_dataclass(RunConfig, data, "", source, skip=("task",))
    task_section = dict(task_section)
    name = task_section.pop("name", TaskConfig.name)
    if not isinstance(name, str):
        raise UserError(f"{source}: task.name: expected str, got {name!r}")
    options = task_options(name, task_section, source)
    config.task = TaskConfig(name=name, options=dataclasses.asdict(options))
    recipe_for(config.method, config.algorithm, source)
    _check_consistency(config, source)
    return config


def load(path: str | Path, sets: list[str] | None = None) -> RunConfig:
    """Read ``path``, apply ``--set`` items, validate."""
    return from_mapping(merge(read_yaml(path), parse_set(sets)), str(path))


def _check_consistency(config: RunConfig, source: str) -> None:
    g, o = config.generation, config.optimization
    positive = {
        "generation.num_generations": g.num_generations - 1,  # G >= 2
        "generation.max_completion_length": g.max_completion_length,
        "optimization.max_steps": o.max_steps,
        "optimization.per_device_train_batch_size": o.per_device_train_batch_size,
        "optimization.gradient_accumulation_steps": o.gradient_accumulation_steps,
        "optimization.num_iterations": o.num_iterations,
        "generation.vllm_tensor_parallel_size": g.vllm_tensor_parallel_size,
        "logging.logging_steps": config.logging.logging_steps,
        "logging.save_steps": config.logging.save_steps,
    }
    for key, value in positive.items():
        if value < 1:
            raise UserError(f"{source}: {key}: must be {'at least 2' if 'num_generations' in key else 'positive'}")
    non_negative = {"optimization.learning_rate": o.learning_rate, "optimization.weight_decay": o.weight_decay}
    for key, value in non_negative.items():
        if value < 0:
            raise UserError(f"{source}: {key}: must be at least 0, got {value}")
    if not config.model.path:
        raise UserError(f"{source}: model.path: required (a model dir; build one with `python -m gd2po prepare`)")


def to_mapping(config: RunConfig) -> dict:
    """The resolved config as plain data, task options written flat next to ``task.name``."""
    data = dataclasses.asdict(config)
    data["task"] = {"name": config.task.name, **config.task.options}
    return data
