"""The install files agree: environment.yml mirrors every pin of pyproject.toml (but the GPU/eval extras)."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(requirements):
    pins = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]+\])?==(\S+)", requirement.strip())
        if match:
            pins[match.group(1).lower()] = match.group(3)
    return pins


def test_environment_yml_mirrors_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _pins(project["dependencies"])
    for extra in ("test", "slurm"):
        wanted.update(_pins(project["optional-dependencies"][extra]))
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == wanted


def test_training_stack_pins_match_the_documented_versions():
    pins = _pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    assert pins["torch"] == "2.13.0"
    assert pins["transformers"] == "5.17.0"
    assert pins["trl"] == "1.16.0"
    assert pins["accelerate"] == "1.15.0"
    assert pins["snakemake"] == "9.27.1"


def test_extras_pin_gpu_and_slurm_and_the_eval_env_pins_bfcl_v3():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert _pins(extras["gpu"]) == {"vllm": "0.31.0"}
    assert _pins(extras["slurm"])["snakemake-executor-plugin-slurm"] == "2.8.0"
    # bfcl-eval pins numpy 1.26, so it is not an extra of the training env but its own lite venv.
    assert "eval" not in extras
    setup_script = (ROOT / "gd2po/evaluate/bfcl/setup_env.sh").read_text()
    assert "bfcl-eval==2025.8.6.2" in setup_script
