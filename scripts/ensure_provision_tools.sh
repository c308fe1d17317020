#!/usr/bin/env bash
# The tools `facegate provision` and its tests use, from Debian: sfdisk (fdisk), mkfs.vfat
# (dosfstools), mtools, debugfs/e2fsck/resize2fs/mkfs.ext4 (e2fsprogs), xz (xz-utils), the
# first-boot script's linter (shellcheck), and qemu-user-static + binfmt-support with
# qemu-aarch64 registered
# (the first boot run in an emulated arm64 chroot). The tests build small images themselves;
# provisioning needs no root at run time, only to install (and the emulated test to chroot).
set -euo pipefail

declare -A provides=(
  [sfdisk]=fdisk [mkfs.vfat]=dosfstools [mcopy]=mtools [mdir]=mtools [debugfs]=e2fsprogs
  [e2fsck]=e2fsprogs [resize2fs]=e2fsprogs [mkfs.ext4]=e2fsprogs [xz]=xz-utils
  [shellcheck]=shellcheck
  [qemu-aarch64-static]=qemu-user-static [update-binfmts]=binfmt-support
)

# arm64 programs run through qemu-aarch64 (binfmt_misc, fix-binary: also inside a chroot).
register_binfmt() {
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  if [ -e "$entry" ] && grep -q enabled "$entry"; then return 0; fi
  [ "$(id -u)" = 0 ] || { echo "qemu-aarch64 not registered (needs root)" >&2; return 1; }
  [ -e /proc/sys/fs/binfmt_misc/register ] ||
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable qemu-aarch64
  grep -q enabled "$entry"
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

missing=()
for tool in "${!provides[@]}"; do
  have "$tool" || missing+=("${provides[$tool]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  register_binfmt
  echo "provisioning tools present (sfdisk, mkfs.vfat, mtools, e2fsprogs, xz, shellcheck, qemu)"
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
register_binfmt
echo "installed ${packages[*]}"
