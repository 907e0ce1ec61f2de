#!/usr/bin/env bash
# `make run`: prepare the database, load demo data, start the app, and say where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}

"$BIN/flask" --app app init-db
"$BIN/flask" --app app demo

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

SANDBOX_PORT=${SANDBOX_PORT:-5010}
SANDBOX_URL="http://$HOST:$SANDBOX_PORT"
# The sandbox stands in for Twilio unless TWILIO_API_BASE points somewhere else (or is empty: real Twilio).
if [ "${TWILIO_API_BASE:-}" = "$SANDBOX_URL" ]; then
  "$BIN/flask" --app app sandbox --host "$HOST" --port "$SANDBOX_PORT" &
  pids+=($!)
  # The demo agents' virtual phones take their calls as a person would: answer, hear the screen,
  # press 1, talk for a minute and a half. Play an agent by hand on the softphone page instead.
  "$BIN/python" scripts/demo_phones.py "$SANDBOX_URL"
  SOFTPHONE="    Softphone (sandbox):  $SANDBOX_URL/sandbox/   (play customer or agent by hand)"
else
  SOFTPHONE="    Telephony:            ${TWILIO_API_BASE:-real Twilio}"
fi

cat <<MSG

  Callme is running (development mode, SQLite in instance/, demo data loaded).
    Callback form:        http://$HOST:$PORT/callback
    JSON API (OpenAPI):   http://$HOST:$PORT/api/openapi.json
    Admin API token:      ${ADMIN_API_TOKEN:-dev-admin-token}   (curl -H 'Authorization: Bearer ...' http://$HOST:$PORT/api/agents)
    Health:               http://$HOST:$PORT/healthz
    Metrics:              http://$HOST:$PORT/metrics   (Prometheus; this machine only unless METRICS_TOKEN is set)
    Staff sign-in:        http://$HOST:$PORT/login   (development accounts below)
      agent@example.com       agent-dev-password        (agent: Alice Moreau's calls, console at /agent)
      supervisor@example.com  supervisor-dev-password   (supervisor: the live board at /board, requests and figures under /admin)
      admin@example.com       admin-dev-password        (admin: staff, queues, do-not-call under /admin)
$SOFTPHONE
  Press Ctrl-C to stop.

MSG
# /metrics adds up the counters of every gunicorn worker and dispatcher process through files in
# this directory (prometheus_client's multi-process mode). Emptied now, before any of them starts and
# never while one runs: files left by a previous run would be counted again. A `flask scheduler`
# process started by hand must be given the same PROMETHEUS_MULTIPROC_DIR.
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$PWD/instance/prometheus}
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete
# One worker: SQLite is for one process (PostgreSQL for more), and it runs the in-process dispatcher.
# The access log leaves out the pages' polls (/agent/state, /board/state, the status page's refresh,
# the softphone's): ops/gunicorn_conf.py; LOG_POLLING_REQUESTS=1 keeps them.
"$BIN/gunicorn" --config ops/gunicorn_conf.py --bind "$HOST:$PORT" --workers 1 --threads 8 --access-logfile - \
  "app:create_app()" &
pids+=($!)
wait -n
