#!/usr/bin/env bash
# Build the agent console's browser phone: the Twilio Voice JavaScript SDK from its npm package,
# bundled by esbuild into static/vendor/twilio-voice.min.js (served by the app, never from a CDN).
#
# Only a console taking calls against real Twilio needs it; against the sandbox the console embeds the
# sandbox's softphone. So without npm this warns and carries on, except in CI (CI=true), where the
# bundle and its test are required.
set -euo pipefail
cd "$(dirname "$0")/.."
out=static/vendor/twilio-voice.min.js
if ! command -v npm >/dev/null 2>&1; then
    if [[ "${CI:-}" == "true" ]]; then
        echo "build-assets: npm is required in CI (scripts/system-deps.sh installs it as root)" >&2
        exit 1
    fi
    echo "build-assets: npm not found; the console's browser phone for real Twilio is not built" \
         "(install Node.js and npm, then run 'make assets')" >&2
    exit 0
fi
# Rebuild only when the lock file or the entry point changed since the last build.
if [[ -f "$out" && "$out" -nt package-lock.json && "$out" -nt web/twilio-voice.js ]]; then
    exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
