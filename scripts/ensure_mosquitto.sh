#!/usr/bin/env bash
# Make sure the Mosquitto broker is installed: tests start their own mosquitto processes
# (tests/mosquitto_broker.py) on free ports, so only the binaries are needed.
# Debian's package also enables a system broker on port 1883; the tests never use it.
set -euo pipefail

find_mosquitto() {
  if command -v mosquitto >/dev/null 2>&1; then
    command -v mosquitto
  elif [ -x /usr/sbin/mosquitto ]; then
    echo /usr/sbin/mosquitto
  else
    return 1
  fi
}

if path=$(find_mosquitto); then
  echo "mosquitto already installed: $path ($("$path" -h 2>&1 | head -n 1 || true))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "mosquitto is missing and apt-get is not available: install the mosquitto broker" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "mosquitto is missing; not root and no sudo: run  apt-get install mosquitto  as root" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto
}

echo "mosquitto not found: installing Debian's mosquitto package${SUDO:+ with sudo}"
if ! apt_install; then
  echo "install failed; refreshing the package lists and retrying"
  "${SUDO[@]}" apt-get update -qq
  apt_install
fi

if path=$(find_mosquitto); then
  echo "installed mosquitto: $path ($("$path" -h 2>&1 | head -n 1 || true))"
else
  echo "mosquitto was installed but no binary was found on PATH or at /usr/sbin/mosquitto" >&2
  exit 1
fi
