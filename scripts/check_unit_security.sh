#!/usr/bin/env bash
# The hardening of systemd/facegate.service, as systemd scores it:
#   systemd-analyze security --offline=true --threshold=25 systemd/facegate.service
# prints the overall exposure (0 = locked down, 10 = unprotected) and the settings that still
# cost something, and fails above 2.5. --offline (systemd >= 250; Bookworm has 252) scores the
# file itself, so it works without systemd running as PID 1 (containers, CI).
# Without systemd-analyze it says so and passes, unless CI=true.
# Usage: scripts/check_unit_security.sh [UNIT_FILE]   (from any directory)
#        SYSTEMD_ANALYZE=/path/to/systemd-analyze picks another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
UNIT=${1:-systemd/facegate.service}
ANALYZE=${SYSTEMD_ANALYZE:-systemd-analyze}
LIMIT=2.5
THRESHOLD=25 # --threshold is the exposure times ten

if ! command -v "$ANALYZE" >/dev/null 2>&1; then
    echo "check_unit_security: $ANALYZE not found (install systemd); $UNIT not scored" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
fi
[ -f "$UNIT" ] || { echo "check_unit_security: no unit file $UNIT" >&2; exit 1; }

set +e
report=$(SYSTEMD_COLORS=0 "$ANALYZE" security --offline=true --no-pager \
    --threshold="$THRESHOLD" "$UNIT" 2>&1)
rc=$?
set -e

figure=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' | tail -n 1)
if [ -z "$figure" ]; then
    printf '%s\n' "$report" >&2
    echo "check_unit_security: systemd-analyze gave no exposure figure (exit $rc)" >&2
    exit 1
fi

# What still costs exposure (the table's ✗ rows), then the figure.
printf '%s\n' "$report" | grep '✗' || true
echo "exposure of $(basename "$UNIT"): $figure (limit $LIMIT)"

if awk -v f="$figure" -v l="$LIMIT" 'BEGIN { exit !(f > l) }'; then
    echo "check_unit_security: FAIL: $figure is above $LIMIT" >&2
    exit 1
fi
if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$report" >&2
    echo "check_unit_security: systemd-analyze failed (exit $rc)" >&2
    exit 1
fi
echo "check_unit_security: OK"
