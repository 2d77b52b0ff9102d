#!/usr/bin/env bash
# Install everything policykg needs on a fresh Debian machine, into a project virtual environment.
#
# - Debian packages (as root, with apt-get): python3-venv when the venv module is missing, Chromium
#   for the browser test, CJK fonts for plots and screenshots, OpenLink Virtuoso for the remote-store
#   test.
# - Python packages into .venv (never into the system Python: Debian's python3 refuses that, PEP 668),
#   pinned by constraints.txt. torch is installed first, pinned to the CPU build: a bare `torch` would
#   pull a multi-GB CUDA build.
#
# $PYTHON picks the interpreter the venv is made from (default python3; any Python >= 3.11).
# $POLICYKG_VENV picks the venv folder (default .venv in the checkout).
# Running it again when nothing changed takes about a second: the install is skipped while a stamp of
# the Python version, constraints.txt and pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=${POLICYKG_VENV:-.venv}
VPY="$VENV/bin/python"

if ! command -v "$PY" >/dev/null; then
  echo "setup: error: no Python at '$PY' (set PYTHON to a Python >= 3.11)" >&2
  exit 2
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: error: $("$PY" -V 2>&1) at '$PY' is too old; policykg needs Python >= 3.11 (set PYTHON)" >&2
  exit 2
fi

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  echo "setup: apt-get install $*"
  if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq; _APT_UPDATED=1; fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

is_root_debian() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

if is_root_debian; then
  need=()
  [ -x /usr/bin/chromium ] || need+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
  # OpenLink Virtuoso: tests/test_virtuoso.py runs the canned queries on a real SPARQL server (--store URL)
  command -v virtuoso-t >/dev/null || need+=(virtuoso-opensource)
  # Debian ships venv (and ensurepip) apart from python3: python3.11-venv for Debian 12's Python
  if [ ! -x "$VPY" ] && ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    need+=("python$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv")
  fi
  if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
fi

if [ ! -x "$VPY" ]; then
  if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "setup: error: $PY has no venv module; install python3-venv (apt-get install python3-venv) or set PYTHON" >&2
    exit 2
  fi
  echo "setup: python -m venv $VENV ($("$PY" -V 2>&1))"
  "$PY" -m venv "$VENV"
fi

# What the install depends on: when none of it changed, there is nothing to do.
stamp="$VENV/.policykg-setup"
want=$( { "$VPY" -V 2>&1; cat constraints.txt pyproject.toml; } | sha256sum | cut -c1-64)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: $VENV is up to date (delete $stamp to reinstall)"
  exit 0
fi

# torch goes in with pip: pip takes the CPU build (the machine's wheel or its pin); uv knows no such
# pin and would resolve a bare torch to a multi-GB CUDA build. The rest goes in with uv when it can
# be had from PyPI (a cold install of the rest took 13 s with uv against 60 s with pip on 2 cores,
# bench/setup_times.sh), with plain pip as the fallback; POLICYKG_INSTALLER=pip forces pip.
start=$SECONDS
echo "setup: pip install torch==2.13.0 (CPU) into $VENV"
"$VPY" -m pip install -q --upgrade "pip>=24"
"$VPY" -m pip install -q torch==2.13.0
installer=${POLICYKG_INSTALLER:-uv}
if [ "$installer" = uv ] && ! "$VPY" -m uv --version >/dev/null 2>&1; then
  "$VPY" -m pip install -q -c constraints.txt uv >/dev/null 2>&1 || installer=pip
fi
if [ "$installer" = uv ]; then
  echo "setup: uv pip install policykg[dev] into $VENV (pinned by constraints.txt)"
  if ! "$VPY" -m uv pip install -q --python "$VPY" -c constraints.txt -e ".[dev]"; then
    echo "setup: uv failed; falling back to pip" >&2
    installer=pip
  fi
fi
if [ "$installer" = pip ]; then
  echo "setup: pip install policykg[dev] into $VENV (pinned by constraints.txt)"
  "$VPY" -m pip install -q -c constraints.txt -e ".[dev]"
fi
echo "$want" > "$stamp"
echo "setup: installed with $installer in $((SECONDS - start)) s; use it with: . $VENV/bin/activate"
