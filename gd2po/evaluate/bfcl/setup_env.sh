#!/usr/bin/env bash
# Create the BFCL v3 evaluation env: bfcl-eval 2025.8.6.2 and its lite dependencies (no torch).
# Usage: bash gd2po/evaluate/bfcl/setup_env.sh [VENV_DIR]   (default: .venv-eval at the repo root)
# PYTHON selects the interpreter (>= 3.10; default python3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
venv="${1:-$root/.venv-eval}"
"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --no-deps bfcl-eval==2025.8.6.2
"$venv/bin/python" -m pip install --quiet -r "$root/requirements/eval-lite.txt"
"$venv/bin/python" -m pip check
# Importing bfcl creates result/ and score/ under BFCL_PROJECT_ROOT: point it at a throwaway dir.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
BFCL_PROJECT_ROOT="$scratch" "$venv/bin/python" "$root/gd2po/evaluate/bfcl/wrapper.py" models | grep -q "gd2po/rlla-chat"
echo "$venv: bfcl-eval 2025.8.6.2 ready"
