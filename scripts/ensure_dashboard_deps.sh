#!/usr/bin/env bash
# The dashboard's tests drive Debian's headless chromium through chromium-driver (Selenium)
# and start their own PostgreSQL with initdb in a temporary folder: install the packages
# when they are missing (Debian/Ubuntu, as root or with sudo). Nothing is started here.
set -euo pipefail

have_chromium() {
  { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } &&
    { command -v chromedriver >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromedriver ]; }
}
have_postgres() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}

missing=()
have_chromium || missing+=(chromium chromium-driver)
have_postgres || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then
  echo "dashboard test packages present: $(command -v chromium || command -v chromium-browser), $(ls -d /usr/lib/postgresql/*/bin/initdb | head -n 1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing ${missing[*]} and apt-get is not available: install them" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "missing ${missing[*]}; not root and no sudo: run  apt-get install ${missing[*]}  as root" >&2
    exit 1
  fi
fi
apt_install() {
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
echo "installing Debian's ${missing[*]}${SUDO:+ with sudo}"
if ! apt_install; then
  echo "install failed; refreshing the package lists and retrying"
  "${SUDO[@]}" apt-get update -qq
  apt_install
fi
# Debian's postgresql package starts a cluster on port 5432; the tests never use it.
have_chromium || { echo "chromium or chromedriver still missing after the install" >&2; exit 1; }
have_postgres || { echo "initdb/pg_ctl still missing after the install" >&2; exit 1; }
echo "installed ${missing[*]}"
