"""What every benchmark receives, and how ``eval.json`` is written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import yaml

from gd2po.errors import UserError


@dataclasses.dataclass(frozen=True)
class EvalContext:
    """One evaluation request.

    ``run_config`` is the run's resolved ``config.yaml`` as a plain dict; ``limit`` caps the number
    of examples per dataset (``None``: the full set); ``backend`` is ``auto``, ``transformers`` or
    ``vllm``; ``work_dir`` is a scratch folder inside the run dir for benchmark files;
    ``benchmarks`` are all those of this evaluation, so a suite can generate for several in one pass.
    """

    run_dir: Path
    model_dir: Path
    run_config: dict[str, Any]
    backend: str = "auto"
    limit: int | None = None
    batch_size: int = 16
    work_dir: Path | None = None
    benchmarks: tuple[str, ...] = ()

    def task_and_options(self):
        """The run's task object and its options, rebuilt from the resolved run config."""
        from gd2po.tasks import get_task

        task_section = dict(self.run_config.get("task") or {})
        name = task_section.pop("name", None)
        if name is None:
            raise UserError(f"{self.run_dir / 'config.yaml'}: task.name is missing")
        task = get_task(name)
        known = task.option_fields()
        return task, task.Options(**{k: v for k, v in task_section.items() if k in known})

    @property
    def seed(self) -> int:
        return int(self.run_config.get("seed", 0))


TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "tokenizer.model")


def load_run(run_dir: Path) -> tuple[dict[str, Any], Path]:
    """The resolved config and the final model dir of a run; clear errors when either is missing."""
    config_path = run_dir / "config.yaml"
    model_dir = run_dir / "model"
    if not config_path.is_file():
        raise UserError(f"{config_path}: not found; is {run_dir} a run dir written by `python -m gd2po train`?")
    if not (model_dir / "config.json").is_file():
        raise UserError(f"{model_dir}: no final model (config.json missing); finish or resume the training run first")
    check_checkpoint(model_dir)
    with open(config_path) as handle:
        return yaml.safe_load(handle) or {}, model_dir


def check_checkpoint(model_dir: Path) -> Path:
    """The absolute checkpoint dir, once it holds what every benchmark loads: config, tokenizer files and
    a chat template (prompts are rendered with it). Reads two small files, never the weights."""
    model_dir = Path(model_dir).resolve()
    if not model_dir.is_dir():
        raise UserError(f"{model_dir}: checkpoint dir not found")
    missing = [name for name in ("config.json", "tokenizer_config.json") if not (model_dir / name).is_file()]
    if not any((model_dir / name).is_file() for name in TOKENIZER_FILES):
        missing.append(" or ".join(TOKENIZER_FILES))
    if missing:
        raise UserError(
            f"{model_dir}: missing {', '.join(missing)}; evaluation needs a Hugging Face checkpoint dir with its "
            "tokenizer files (save them with tokenizer.save_pretrained(dir) next to the model)"
        )
    try:
        tokenizer_config = json.loads((model_dir / "tokenizer_config.json").read_text())
    except ValueError as error:
        raise UserError(f"{model_dir / 'tokenizer_config.json'}: not valid JSON ({error})") from None
    if "chat_template" not in tokenizer_config and not any(
        (model_dir / name).is_file() for name in ("chat_template.jinja", "chat_template.json")
    ):
        raise UserError(
            f"{model_dir}: the tokenizer has no chat template (no 'chat_template' in tokenizer_config.json, "
            "no chat_template.jinja); evaluation prompts are rendered with it, so save the tokenizer of a chat model"
        )
    return model_dir
