#!/usr/bin/env bash
# The tools `facegate provision` and its tests use, from Debian: sfdisk (fdisk), mkfs.vfat
# (dosfstools), mtools, debugfs/e2fsck/mkfs.ext4 (e2fsprogs), xz (xz-utils) and shellcheck (the
# first-boot script's test). The tests build small images themselves; none of this needs root
# at run time, only to install.
set -euo pipefail

declare -A provides=(
  [sfdisk]=fdisk [mkfs.vfat]=dosfstools [mcopy]=mtools [mdir]=mtools [debugfs]=e2fsprogs
  [e2fsck]=e2fsprogs [mkfs.ext4]=e2fsprogs [xz]=xz-utils [shellcheck]=shellcheck
)

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

missing=()
for tool in "${!provides[@]}"; do
  have "$tool" || missing+=("${provides[$tool]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "provisioning tools present (sfdisk, mkfs.vfat, mtools, e2fsprogs, xz, shellcheck)"
  exit 0
fi
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${packages[*]} and apt-get is not available: install them" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "missing: ${packages[*]}; not root and no sudo: run  apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi
apt_install() {
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
}
echo "installing ${packages[*]}${SUDO:+ with sudo}"
if ! apt_install; then
  echo "install failed; refreshing the package lists and retrying"
  "${SUDO[@]}" apt-get update -qq
  apt_install
fi
for tool in "${!provides[@]}"; do
  have "$tool" || { echo "$tool still missing after installing ${provides[$tool]}" >&2; exit 1; }
done
echo "installed ${packages[*]}"
