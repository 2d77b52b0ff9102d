#!/usr/bin/env bash
# Set up and run the main job: install, build the graph and search index from data/plans, and open
# the analysts' app at http://127.0.0.1:8501 (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
PY="${POLICYKG_VENV:-.venv}/bin/python"
$PY -m policykg.cli build
$PY -m policykg.cli stats
exec $PY -m streamlit run app.py --server.address "${HOST:-127.0.0.1}" --server.port "${PORT:-8501}" \
  --server.headless true --browser.gatherUsageStats false
