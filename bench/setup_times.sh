#!/usr/bin/env bash
# Times the README's setup on a fresh clone, cold (empty pip and uv caches, no .venv) and warm (run
# again, nothing changed), with each installer: `bash bench/setup_times.sh [pip|uv ...]`.
# Debian packages are not part of it (apt-get is skipped once they are installed).
# The clones and caches go to a temporary folder that is removed afterwards.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for installer in "${@:-pip uv}"; do
  for inst in $installer; do
    git clone -q "$repo" "$tmp/$inst"
    export PIP_CACHE_DIR="$tmp/pip-cache-$inst" UV_CACHE_DIR="$tmp/uv-cache-$inst"
    t0=$(date +%s.%N)
    POLICYKG_INSTALLER=$inst PYTHON=${PYTHON:-/usr/bin/python3} bash "$tmp/$inst/scripts/setup.sh" >"$tmp/$inst.log" 2>&1
    t1=$(date +%s.%N)
    POLICYKG_INSTALLER=$inst PYTHON=${PYTHON:-/usr/bin/python3} bash "$tmp/$inst/scripts/setup.sh" >>"$tmp/$inst.log" 2>&1
    t2=$(date +%s.%N)
    printf '%-4s cold %6.1f s   warm %5.1f s   (%s)\n' "$inst" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" \
      "$(grep -o 'installed with .*' "$tmp/$inst.log" | head -1)"
    rm -rf "$tmp/$inst" "$PIP_CACHE_DIR" "$UV_CACHE_DIR"
  done
done
