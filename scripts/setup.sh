#!/usr/bin/env bash
# Install everything policykg needs on a fresh Debian machine with Python 3.11: Debian packages
# (Chromium for the browser test, CJK fonts for plots and screenshots) and the Python packages.
# torch is installed first, pinned to the CPU build: a bare `torch` would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  need=()
  [ -x /usr/bin/chromium ] || need+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
  # OpenLink Virtuoso: tests/test_virtuoso.py runs the canned queries on a real SPARQL server (--store URL)
  command -v virtuoso-t >/dev/null || need+=(virtuoso-opensource)
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

PY=${PYTHON:-python3}
echo "setup: pip install torch==2.13.0 (CPU) and policykg[dev]"
$PY -m pip install -q torch==2.13.0
$PY -m pip install -q -c constraints.txt -e ".[dev]"
