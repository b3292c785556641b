#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/test_browser.py).
#
# Usage: setup/browser.sh
#
# Does nothing when /usr/bin/chromium exists. Otherwise, as root on a
# machine with apt-get, installs the package "chromium" (Playwright drives
# this browser; it never downloads one of its own). Never fails: when the
# browser cannot be installed, the reason is written to
# .build/chromium-missing.txt, which the browser tests show when they skip.
set -uo pipefail

CHROMIUM=/usr/bin/chromium
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REASON_FILE="$REPO_ROOT/.build/chromium-missing.txt"
SCRIPT_NAME="$(basename "$0")"

give_up() {
    mkdir -p -- "$(dirname -- "$REASON_FILE")"
    printf '%s\n' "$*" > "$REASON_FILE"
    printf '%s: warning: %s; the browser tests will be skipped\n' \
        "$SCRIPT_NAME" "$*" >&2
    exit 0
}

if [ -x "$CHROMIUM" ]; then
    rm -f -- "$REASON_FILE"
    exit 0
fi
[ "$(id -u)" -eq 0 ] \
    || give_up "$CHROMIUM is missing and installing it needs root"
command -v apt-get >/dev/null 2>&1 \
    || give_up "$CHROMIUM is missing and there is no apt-get to install it"

printf '%s: installing chromium with apt-get\n' "$SCRIPT_NAME" >&2
log="$(mktemp)"
trap 'rm -f -- "$log"' EXIT
# The package lists of a fresh machine may be empty or stale.
if ! { apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends chromium; } >"$log" 2>&1; then
    give_up "apt-get install chromium failed:" \
        "$(tail -n 3 -- "$log" | paste -sd ' ' -)"
fi
[ -x "$CHROMIUM" ] || give_up "apt-get installed chromium but $CHROMIUM is missing"
rm -f -- "$REASON_FILE"
printf '%s: %s\n' "$SCRIPT_NAME" "$("$CHROMIUM" --version 2>/dev/null)" >&2
