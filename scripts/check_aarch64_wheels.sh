#!/usr/bin/env bash
# Every runtime dependency of facegate must install on the targets: Raspberry Pi OS Bookworm
# (Linux aarch64, CPython 3.11, glibc 2.36) and Trixie (CPython 3.13, glibc 2.41). Ask pip to
# resolve the whole runtime set for each from binary wheels only; a missing wheel fails the check. picamera2 (issue: door
# appliance) comes from the apt package python3-picamera2 and is not listed here.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP=${PIP:-.venv/bin/pip}
[ -x "$PIP" ] || PIP="python3 -m pip"
DEST=${DEST:-${TMPDIR:-/tmp}/facegate-aarch64-wheels}
mkdir -p "$DEST"

platforms=()
for v in 17 27 28 31 34 35 36 38 39 41; do platforms+=(--platform "manylinux_2_${v}_aarch64"); done
platforms+=(--platform manylinux2014_aarch64 --platform linux_aarch64)

# The runtime requirements, read from pyproject.toml. The Pi-only GPIO backend lgpio has a
# PyPI wheel for 3.11 only; on both releases the image takes python3-lgpio from apt.
mapfile -t reqs < <(python3 - <<'PY'
import tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print("\n".join(deps))
PY
)
# PYTHONS=3.11 limits the check to one release; WITH_FACEGATE=1 also puts facegate's own wheel
# in $DEST/cpXY, which is then the offline wheelhouse `facegate provision build` takes.
for py in ${PYTHONS:-3.11 3.13}; do
  abi="cp${py/./}"
  echo "resolving ${#reqs[@]} requirements for linux/aarch64, CPython $py, wheels only:"
  rm -rf "$DEST/$abi" && mkdir -p "$DEST/$abi"
  $PIP download --quiet --only-binary=:all: "${platforms[@]}" \
    --python-version "$py" --implementation cp --abi "$abi" \
    --dest "$DEST/$abi" "${reqs[@]}"
  if [ -n "${WITH_FACEGATE:-}" ]; then
    $PIP wheel --quiet --no-deps --wheel-dir "$DEST/$abi" .
  fi
  echo "ok: every runtime dependency has an aarch64 wheel for CPython $py:"
  ls "$DEST/$abi" | grep -E 'aarch64|none-any|abi3' | sed 's/^/  /'
done
