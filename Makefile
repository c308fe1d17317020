# The two commands of the README: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data

.PHONY: demo demo-dashboard test lint mosquitto dashboard-deps provision-tools eval bench check-aarch64 check-wheel clean

$(BIN)/python:
	@PYTHON="$(PYTHON)" VENV="$(VENV)" scripts/make_venv.sh

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo]'
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.demo-installed $(VENV)/.dashboard-installed

demo: $(VENV)/.demo-installed
	$(BIN)/facegate demo

$(VENV)/.dashboard-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo,dashboard]'
	@touch $@

# The dashboard on http://127.0.0.1:8080/ with the door demo publishing to a local Mosquitto.
demo-dashboard: $(VENV)/.dashboard-installed mosquitto
	$(BIN)/facegate dashboard demo

lint: $(VENV)/.test-installed
	$(BIN)/ruff check device tests models scripts
	$(BIN)/ruff format --check device tests models scripts

# The MQTT tests start their own Mosquitto: install Debian's package when it is missing (outside
# CI a machine without it skips those tests, with the reason).
mosquitto:
	@scripts/ensure_mosquitto.sh || [ "$$CI" != "true" ]

# The dashboard's tests: Debian's chromium + chromium-driver and PostgreSQL (required under CI).
dashboard-deps:
	@scripts/ensure_dashboard_deps.sh || [ "$$CI" != "true" ]

# SD-image provisioning's tests: sfdisk, mkfs.vfat, mtools, e2fsprogs, xz, shellcheck (required
# under CI).
provision-tools:
	@scripts/ensure_provision_tools.sh || [ "$$CI" != "true" ]

test: lint mosquitto dashboard-deps provision-tools
	$(BIN)/python -m pytest

# The README's recognition figures.
eval: $(VENV)/.demo-installed
	$(BIN)/facegate eval identities $(DATA)/identities/lfw10
	$(BIN)/facegate eval identities $(DATA)/identities/faces94
	$(BIN)/facegate eval identities $(DATA)/identities/celeba278 --rotations 1
	$(BIN)/facegate eval pairs --pairs tests/data/lfw10_pairs.csv --images $(DATA)/identities/lfw10
	$(BIN)/facegate eval liveness --clips $(DATA)/blink --annotations $(DATA)/blink/annotations.json \
		--attacks $(DATA)/identities/lfw10 --attacks $(DATA)/identities/faces94 \
		--attacks $(DATA)/spoof/minivision/image_F1.jpg --attacks $(DATA)/spoof/minivision/image_F2.jpg \
		--attacks $(DATA)/spoof/webcam_replay/fake.mp4 --hand-wave --attack-face-px 80,100,120

bench: $(VENV)/.demo-installed
	$(BIN)/facegate bench embed
	$(BIN)/facegate bench memory
	$(BIN)/facegate bench gallery
	$(BIN)/facegate bench frame
	$(BIN)/facegate bench liveness $(DATA)/blink/liveportrait/*.mp4
	$(BIN)/facegate bench --peer $(DATA)/blink/liveportrait/*.mp4

check-aarch64:
	scripts/check_aarch64_wheels.sh

# The wheel, installed (not editable) in a new venv outside the checkout: models, schemas, demo.
check-wheel: $(VENV)/.test-installed
	DATA=$(DATA) scripts/check_wheel.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache device/*.egg-info
