# Two entry points for a fresh machine:
#   make demo   set up .venv, then run the embedded default DAG (snakemake --cores all)
#   make test   set up .venv (and .venv-eval for BFCL), then run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EVAL_VENV := .venv-eval
# Extra pip flags for torch, e.g. TORCH_PIP_FLAGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_PIP_FLAGS ?=

.PHONY: setup setup-eval demo test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, on its own, so no later requirement can pull a CUDA build onto a CPU machine
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_FLAGS) torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test,slurm]"
	touch $@

setup: $(BIN)/.installed

# BFCL v3 (bfcl-eval 2025.8.6.2) pins numpy 1.26, so it lives in its own lite venv without torch;
# the suite talks to it through a subprocess (GD2PO_EVAL_PYTHON overrides its python).
$(EVAL_VENV)/.installed: requirements/eval-lite.txt gd2po/evaluate/bfcl/setup_env.sh
	PYTHON=$(PYTHON) bash gd2po/evaluate/bfcl/setup_env.sh $(EVAL_VENV)
	touch $@

setup-eval: $(EVAL_VENV)/.installed

demo: setup
	$(BIN)/snakemake --cores all

test: setup setup-eval
	# one OpenMP thread per process: tests and tiny models run faster than with threads that spin
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m gd2po bench core
	$(BIN)/python -m gd2po bench engine

clean:
	rm -rf $(VENV) $(EVAL_VENV) .snakemake results/tables results/plots
