#!/usr/bin/env bash
# Install the Debian packages the test suite needs, but only the ones that are
# actually missing.
#
#   ffmpeg      pydub shells out to ffmpeg to decode/encode recordings
#   chromium    browser tests drive /usr/bin/chromium
#   postgresql  server binaries (/usr/lib/postgresql/*/bin) that
#               scripts/with-postgres.sh uses to start a throw-away server
#   nodejs npm  npm builds the agent console's Twilio Voice SDK bundle
#
# Usage: scripts/system-deps.sh
#
# As root: runs `apt-get update` once and installs exactly what is missing.
# Not root: prints one line per missing package (what will break, how to fix)
# and exits 0, so `make test` still runs whatever it can.
#
# The common case (everything installed) must cost nothing: only file checks,
# no apt calls, because `make test` runs this every time.
set -euo pipefail

# --- What is missing? --------------------------------------------------------
missing=()     # Debian package names to install
reasons=()     # parallel array: what fails/skips without that package

if ! command -v ffmpeg >/dev/null 2>&1; then
    missing+=(ffmpeg)
    reasons+=("tests that process audio with pydub (recordings) will fail")
fi

# The browser tests look for this exact path, so check the path, not PATH.
if [[ ! -x /usr/bin/chromium ]]; then
    missing+=(chromium)
    reasons+=("browser tests will be skipped (or fail when REQUIRE_BROWSER=1)")
fi

# Server binaries live in a versioned directory, not on PATH; psql on PATH
# only proves the *client* is installed. Any major version will do.
have_pg_server() {
    local bindir
    for bindir in /usr/lib/postgresql/*/bin; do
        [[ -x "$bindir/initdb" && -x "$bindir/pg_ctl" && -x "$bindir/postgres" ]] && return 0
    done
    return 1
}
if ! have_pg_server; then
    missing+=(postgresql)
    reasons+=("database tests will be skipped (or fail when REQUIRE_POSTGRES=1)")
fi

# npm bundles the Twilio Voice JavaScript SDK for the agent console (scripts/build-assets.sh).
if ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
    reasons+=("the console's browser phone bundle cannot be built" "(npm comes with nodejs)")
fi

if (( ${#missing[@]} == 0 )); then
    exit 0
fi

# --- Not root (or not Debian): explain and carry on --------------------------
# We deliberately don't call sudo: it may prompt for a password in the middle
# of `make test`. The user can decide.
if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    for i in "${!missing[@]}"; do
        echo "system-deps: '${missing[$i]}' is not installed: ${reasons[$i]}." \
             "Install it with: sudo apt-get install --no-install-recommends ${missing[$i]}" >&2
    done
    exit 0
fi

# --- Root: install what is missing -------------------------------------------
echo "system-deps: installing missing packages: ${missing[*]}" >&2

# Installing postgresql would normally start the distribution's default
# cluster via invoke-rc.d. In containers there is no init system (the start
# fails and can make dpkg fail), and on CI VMs we don't want a stray server on
# port 5432. A policy-rc.d that exits 101 tells invoke-rc.d (and
# deb-systemd-invoke) "don't start services". Docker images usually ship one;
# if not, add one just for this install and remove it again afterwards.
# (The default cluster may still be *created*; that is harmless, we never use it.)
policy=/usr/sbin/policy-rc.d
created_policy=0
remove_policy() {
    if (( created_policy )); then
        rm -f "$policy"
    fi
}
trap remove_policy EXIT
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# Temporary, created by scripts/system-deps.sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    created_policy=1
fi

# Another apt/dpkg (unattended-upgrades, a parallel job) may hold the lock;
# wait for it for a while instead of failing immediately.
apt_opts=(-o DPkg::Lock::Timeout=300)

export DEBIAN_FRONTEND=noninteractive
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"

# Double-check: a package name that installs but doesn't provide what the
# tests need (e.g. a transitional package) should be loud here, not later.
if [[ " ${missing[*]} " == *" postgresql "* ]] && ! have_pg_server; then
    echo "system-deps: installed postgresql but found no server binaries under /usr/lib/postgresql/*/bin" >&2
    exit 1
fi
if [[ " ${missing[*]} " == *" chromium "* && ! -x /usr/bin/chromium ]]; then
    echo "system-deps: installed chromium but /usr/bin/chromium is missing" >&2
    exit 1
fi
