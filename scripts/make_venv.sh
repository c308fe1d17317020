#!/usr/bin/env bash
# Create the project's virtual environment with Python >= 3.11.
# On a fresh Debian/Ubuntu the venv module may be missing (package python3-venv); install it
# when we can (root or password-less sudo), otherwise say exactly what to run.
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "no Python found: install Python 3.11 (Debian 12: apt-get install python3)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "facegate needs Python >= 3.11; $PYTHON is $("$PYTHON" -V 2>&1)." >&2
  echo "Install python3.11 and run: make PYTHON=python3.11 ..." >&2
  exit 1
fi
if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
  pkg="python$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv"
  if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq "$pkg"
    elif sudo -n true 2>/dev/null; then
      sudo apt-get update -qq && sudo apt-get install -y -qq "$pkg"
    else
      echo "the venv module is missing: run  sudo apt-get install $pkg  and retry" >&2
      exit 1
    fi
  else
    echo "the venv module is missing for $PYTHON; install it and retry" >&2
    exit 1
  fi
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
