#!/usr/bin/env bash
# A wheel that works wherever it is installed: build facegate's wheel, install it (not editable)
# into a new venv outside the checkout, and run what a door and an admin run, from there.
# An editable install finds models/ and the schemas through the checkout; this catches a wheel
# that forgot them.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
DATA=${DATA:-$REPO/../shared/data}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/facegate-wheel-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== building the wheel"
"$REPO/.venv/bin/pip" wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$REPO"
WHEEL=$(ls "$WORK"/dist/facegate-*.whl)
python3 - "$WHEEL" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["facegate/models/facenet_int8.tflite", "facegate/models/haarcascade_frontalface_default.xml",
        "facegate/models/pnet.onnx", "facegate/models/rnet.onnx", "facegate/models/onet.onnx",
        "facegate/models/MODEL_CARD.md", "facegate/schemas/access_event.schema.json"]
missing = [n for n in need if n not in names]
if missing:
    sys.exit(f"the wheel lacks {missing}")
if any(n.startswith("facegate/models/tools/") for n in names):
    sys.exit("the wheel carries the model build scripts")
print(f"ok: {len(names)} files, models and schemas inside")
PY

echo "== a new venv outside the checkout"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet "${WHEEL}[demo]"
cd "$WORK"
FG="$WORK/venv/bin/facegate"
"$FG" --version
"$FG" check-models
"$FG" demo
if [ -d "$DATA/identities/lfw10" ]; then
  "$FG" eval make-pairs "$DATA/identities/lfw10" --out "$WORK/pairs.csv"
  "$FG" eval pairs --pairs "$WORK/pairs.csv" --images "$DATA/identities/lfw10" --json \
    > "$WORK/pairs.json"
  python3 -c "import json,sys; r=json.load(open('$WORK/pairs.json')); print('pairs AUC', r['auc'])"
  "$FG" bench --peer --runs 1 --blink-clip "$DATA/blink/liveportrait/d18.mp4" \
    "$DATA/blink/liveportrait/d0.mp4" > "$WORK/bench.txt"
  tail -n 3 "$WORK/bench.txt"
elif [ "${CI:-}" = "true" ]; then
  echo "$DATA is missing: CI runs with ../shared/data beside the clone" >&2
  exit 1
fi
echo "ok: the installed wheel runs outside the checkout"
