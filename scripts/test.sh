#!/usr/bin/env bash
# Set up and pass the tests: install, lint (ruff), type-check (mypy), then the whole pytest suite
# (unit, graph, search, SPARQL endpoint, app, browser and notebook tests). Offline after installing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PY="${POLICYKG_VENV:-.venv}/bin/python"
echo "test: ruff"
$PY -m ruff check .
echo "test: mypy"
$PY -m mypy
echo "test: pytest"
$PY -m pytest -q "$@"
