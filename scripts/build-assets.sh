#!/usr/bin/env bash
# Build the staff pages' browser code from npm packages, bundled by esbuild into static/vendor/ (served by
# the app, never from a CDN): the Twilio Voice JavaScript SDK for the agent console's browser phone
# (twilio-voice.min.js) and Chart.js for the figures page's charts (chart.min.js).
#
# Neither is needed to run: against the sandbox the console embeds the sandbox's softphone, and the
# figures page shows its tables without charts. So without npm this warns and carries on, except in CI
# (CI=true), where the bundles and their tests are required.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each bundle and the entry point it is built from.
bundles=(
    "static/vendor/twilio-voice.min.js web/twilio-voice.js"
    "static/vendor/chart.min.js web/chart.js"
)
if ! command -v npm >/dev/null 2>&1; then
    if [[ "${CI:-}" == "true" ]]; then
        echo "build-assets: npm is required in CI (scripts/system-deps.sh installs it as root)" >&2
        exit 1
    fi
    echo "build-assets: npm not found; the console's browser phone for real Twilio and the figures page's" \
         "charts are not built (install Node.js and npm, then run 'make assets')" >&2
    exit 0
fi
# Rebuild only when a bundle is missing, or the lock file or its entry point changed since it was built.
stale=false
for bundle in "${bundles[@]}"; do
    read -r out entry <<<"$bundle"
    if [[ ! -f "$out" || ! "$out" -nt package-lock.json || ! "$out" -nt "$entry" ]]; then
        stale=true
    fi
done
if [[ "$stale" == "false" ]]; then
    exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
