#!/usr/bin/env bash
# Every runtime dependency of facegate must install on the target: Raspberry Pi OS Bookworm,
# Linux aarch64, CPython 3.11 (glibc 2.36). Ask pip to resolve the whole runtime set for that
# platform from binary wheels only; a missing wheel fails the check. picamera2 (issue: door
# appliance) comes from the apt package python3-picamera2 and is not listed here.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP=${PIP:-.venv/bin/pip}
[ -x "$PIP" ] || PIP="python3 -m pip"
DEST=${DEST:-${TMPDIR:-/tmp}/facegate-aarch64-wheels}
mkdir -p "$DEST"

platforms=()
for v in 17 27 28 31 34 35 36; do platforms+=(--platform "manylinux_2_${v}_aarch64"); done
platforms+=(--platform manylinux2014_aarch64 --platform linux_aarch64)

# The runtime requirements, read from pyproject.toml, plus the Pi-only GPIO backend.
mapfile -t reqs < <(python3 - <<'PY'
import tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print("\n".join(deps))
print("lgpio>=0.2")
PY
)
echo "resolving ${#reqs[@]} requirements for linux/aarch64, CPython 3.11, wheels only:"
$PIP download --quiet --only-binary=:all: "${platforms[@]}" \
  --python-version 3.11 --implementation cp --abi cp311 \
  --dest "$DEST" "${reqs[@]}"
echo "ok: every runtime dependency has an aarch64 wheel for CPython 3.11:"
ls "$DEST" | grep -E 'aarch64|none-any|abi3' | sed 's/^/  /'
