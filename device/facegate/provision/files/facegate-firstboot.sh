#!/bin/sh
# facegate first boot: turns a provisioned Raspberry Pi OS card into a running door.
# Written by `facegate provision build`; run by facegate-firstboot.service. Each step checks
# what is already done, so the script is safe to re-run after a power cut at any point.
# FACEGATE_ROOT (default empty) prefixes every path and FACEGATE_DRY=1 prints the commands
# that change the system instead of running them: the tests run it that way on a plain folder.
# FACEGATE_STEPS (default: all) names the numbered steps to run, e.g. "user venv": the tests
# run those in an emulated arm64 chroot, which has no systemd.
set -eu

ROOT=${FACEGATE_ROOT:-}
DRY=${FACEGATE_DRY:-0}
STAGE=$ROOT/var/lib/facegate-provision
ETC=$ROOT/etc/facegate
VENV=$ROOT/opt/facegate/venv
WHEELHOUSE=$ROOT/opt/facegate/wheelhouse
BOOT_CONFIG=$ROOT/boot/firmware/config.txt
APT_PARTS="python3-picamera2 python3-lgpio"

log() { echo "facegate-firstboot: $*"; }
fail() { echo "facegate-firstboot: FAILED: $*" >&2; exit 1; }
run() {
  if [ "$DRY" = 1 ]; then echo "would run: $*"; else "$@"; fi
}
STEPS=${FACEGATE_STEPS:-all}
wanted() { [ "$STEPS" = all ] || case " $STEPS " in *" $1 "*) true ;; *) false ;; esac; }
# A step is skipped when done, or when FACEGATE_STEPS leaves it out.
step_done() { [ -e "$STAGE/step.$1" ] || ! wanted "$1"; }
mark() { : >"$STAGE/step.$1"; log "step $1 done"; }

[ -r "$ETC/provision/admin.conf" ] || fail "$ETC/provision/admin.conf is missing: not a provisioned card"
# shellcheck disable=SC1091
. "$ETC/provision/admin.conf"
if [ -n "$ROOT" ] && [ "$DRY" != 1 ]; then
  fail "FACEGATE_ROOT is for dry runs only (FACEGATE_DRY=1): the commands act on this system"
fi
mkdir -p "$STAGE"
chmod 0700 "$STAGE"

# 1. The service's user and groups (video: camera, gpio: relay, input: keypad).
if ! step_done user; then
  if ! getent passwd facegate >/dev/null 2>&1 && ! grep -q '^facegate:' "$ROOT/etc/passwd" 2>/dev/null; then
    run useradd --system --no-create-home --home-dir /var/lib/facegate \
      --shell /usr/sbin/nologin --user-group facegate
  fi
  for group in video gpio input; do
    if getent group "$group" >/dev/null 2>&1; then run usermod -aG "$group" facegate; fi
  done
  mark user
fi

# 2. What PyPI cannot give: picamera2 and lgpio from the image's own apt cache, never the net.
if ! step_done apt; then
  missing=""
  for pkg in $APT_PARTS; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing="$missing $pkg"
    fi
  done
  if [ -n "$missing" ]; then
    log "installing$missing from the image's apt cache (no download)"
    # shellcheck disable=SC2086 # one word per package
    if [ "$DRY" != 1 ] && ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-download $missing; then
      fail "$missing not on this image and no network install is allowed: use a Raspberry Pi OS image that has them (apt-get install --download-only$missing before provisioning)"
    fi
    [ "$DRY" = 1 ] && echo "would run: apt-get install -y --no-download$missing"
  fi
  mark apt
fi

# 3. The venv (sees apt's picamera2/lgpio) and facegate from the wheelhouse, offline.
if ! step_done venv; then
  # A venv half-made before a power cut is made again.
  run rm -rf "$VENV"
  run python3 -m venv --system-site-packages "$VENV"
  # shellcheck disable=SC2086 # REQUIREMENT may name several distributions
  run "$VENV/bin/pip" install --no-index --find-links "$WHEELHOUSE" --no-cache-dir $REQUIREMENT
  case " $REQUIREMENT " in
    *" facegate "*) run "$VENV/bin/facegate" check-models ;;
  esac
  mark venv
fi

# 4. Fail secure: released GPIO outputs fall back to inputs (takes effect after a reboot).
if wanted config && [ -f "$BOOT_CONFIG" ] && ! grep -qx 'dtparam=strict_gpiod' "$BOOT_CONFIG"; then
  printf '[all]\ndtparam=strict_gpiod\n' >>"$BOOT_CONFIG"
  log "dtparam=strict_gpiod added to config.txt"
fi

# 5. The hostname: /etc/hostname is written by the build (systemd sets it at boot); here
# only its /etc/hosts line.
if wanted hosts && ! grep -q "^127.0.1.1[[:space:]]*$DOOR_HOSTNAME\$" "$ROOT/etc/hosts" 2>/dev/null; then
  sed -i '/^127\.0\.1\.1[[:space:]]/d' "$ROOT/etc/hosts" 2>/dev/null || true
  printf '127.0.1.1\t%s\n' "$DOOR_HOSTNAME" >>"$ROOT/etc/hosts"
fi

# 6. The admin's SSH login: keys only (sshd_config.d/facegate.conf turns passwords off).
if ! step_done ssh; then
  if ! getent passwd "$ADMIN_USER" >/dev/null 2>&1 && ! grep -q "^$ADMIN_USER:" "$ROOT/etc/passwd" 2>/dev/null; then
    run useradd --create-home --shell /bin/bash --groups sudo "$ADMIN_USER"
  fi
  home=$ROOT/home/$ADMIN_USER
  run install -d -m 0700 -o "$ADMIN_USER" -g "$ADMIN_USER" "$home/.ssh"
  run install -m 0600 -o "$ADMIN_USER" -g "$ADMIN_USER" "$ETC/provision/authorized_keys" "$home/.ssh/authorized_keys"
  run systemctl enable ssh.service
  mark ssh
fi

# 7. The config is readable by the service's group; secrets stay root 0600 (LoadCredential=).
for f in "$ETC/facegate.toml" "$ETC/roster.toml"; do
  if wanted perms && [ -f "$f" ]; then
    run chown root:facegate "$f"
    run chmod 0640 "$f"
  fi
done

# 8. The enrolled students, imported once, as root with the gallery key as the credential.
if [ -f "$STAGE/gallery.bundle" ] && ! step_done gallery; then
  [ -r "$STAGE/gallery.passphrase" ] || fail "$STAGE/gallery.passphrase is missing"
  run install -d -m 0700 "$ROOT/var/lib/facegate"
  if [ "$DRY" = 1 ]; then
    echo "would run: facegate gallery import $STAGE/gallery.bundle"
  else
    FACEGATE_EXPORT_PASSPHRASE=$(cat "$STAGE/gallery.passphrase") \
      CREDENTIALS_DIRECTORY=$ETC STATE_DIRECTORY=$ROOT/var/lib/facegate \
      "$VENV/bin/facegate" --config "$ETC/facegate.toml" gallery import "$STAGE/gallery.bundle"
  fi
  run chown -R facegate:facegate "$ROOT/var/lib/facegate"
  mark gallery
fi
# The passphrase has done its work.
if step_done gallery && wanted gallery; then rm -f "$STAGE/gallery.passphrase"; fi

# 9. The door service on, this unit off.
if wanted service; then
  run systemctl enable facegate.service
  run systemctl start --no-block facegate.service
  run systemctl disable facegate-firstboot.service
  : >"$STAGE/done"
  log "finished: facegate.service enabled"
fi
