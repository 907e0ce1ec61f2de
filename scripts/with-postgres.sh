#!/usr/bin/env bash
# Run a command against a private, throw-away PostgreSQL server.
#
# Usage: scripts/with-postgres.sh CMD [ARGS...]
#
# Starts a fresh server (own data folder in /tmp, own free port on 127.0.0.1),
# creates database "callme_test", runs CMD with
#
#   TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/callme_test
#
# exported, then stops the server, deletes the data folder and exits with
# CMD's exit code. The server is stopped even if CMD fails or on Ctrl-C.
#
# Environment:
#   REQUIRE_POSTGRES=1  fail if no PostgreSQL server binaries are installed
#                       (default: warn and run CMD without starting a server)
#   PG_BINDIR=DIR       use the server binaries in DIR instead of searching
#
# Why a private server instead of the system one: tests can create/drop
# whatever they like, parallel runs (other checkouts, CI jobs) don't collide,
# no passwords or pg_hba.conf edits are needed, and nothing is left behind.
set -euo pipefail

log() { echo "with-postgres: $*" >&2; }

if (( $# == 0 )); then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

# --- Find the server binaries -------------------------------------------------
# Debian keeps them in /usr/lib/postgresql/<major>/bin (not on PATH); take the
# newest major version. Elsewhere (e.g. a source build) pg_config knows.
find_bindir() {
    local dir
    if [[ -n "${PG_BINDIR:-}" ]]; then
        echo "$PG_BINDIR"
        return 0
    fi
    # `sort -V` so that 10 sorts after 9.6.
    while IFS= read -r dir; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
    # pg_config may come from libpq-dev alone, which reports a bindir without
    # a server in it, hence the check for initdb.
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    fi
    return 1
}

if ! bindir="$(find_bindir)"; then
    if [[ "${REQUIRE_POSTGRES:-}" == 1 ]]; then
        log "ERROR: REQUIRE_POSTGRES=1 but no PostgreSQL server binaries were found" \
            "(looked in /usr/lib/postgresql/*/bin and pg_config --bindir)." \
            "Install them with: sudo apt-get install postgresql (or run scripts/system-deps.sh as root)."
        exit 1
    fi
    log "WARNING: no PostgreSQL server binaries found; running without TEST_DATABASE_URL," \
        "so database tests will be skipped. Install with: sudo apt-get install postgresql"
    # exec: nothing to clean up, and CMD's exit code becomes ours directly.
    exec "$@"
fi

# --- Who runs the server --------------------------------------------------------
# initdb/postgres refuse to run as root, so as root we hand the folder to the
# `postgres` user and run the server tools as that user.
as_pg=()
if [[ "$(id -u)" -eq 0 ]]; then
    if ! id -u postgres >/dev/null 2>&1; then
        log "ERROR: running as root, but there is no 'postgres' user to run the server as" \
            "(installing the postgresql package creates it)."
        exit 1
    fi
    as_pg=(runuser -u postgres --)
fi

# Run a server tool, as `postgres` when we are root. `cd /` first because the
# caller's working directory may not be readable by `postgres`, which makes
# initdb/pg_ctl print errors.
pg() {
    (cd / && "${as_pg[@]}" "$@")
}

# --- Throw-away folder and cleanup ----------------------------------------------
# Layout:  $tmp/data        the cluster (PGDATA)
#          $tmp/.s.PGSQL.*  unix socket (kept out of /var/run/postgresql, which
#                           may not exist or not be writable)
#          $tmp/server.log  server output
#          $tmp/initdb.log  initdb output
tmp="$(mktemp -d /tmp/callme-pg.XXXXXX)"
pgdata="$tmp/data"
server_log="$tmp/server.log"

# Runs on every exit path (normal, error under `set -e`, and the signal traps
# below). It must not depend on how far start-up got, so it looks at the
# postmaster.pid file rather than at a flag.
# shellcheck disable=SC2317  # only called via trap, which shellcheck 0.9 does not see
cleanup() {
    local rc=$?
    set +e
    if [[ -f "$pgdata/postmaster.pid" ]]; then
        # "immediate" skips the shutdown checkpoint: the data is thrown away
        # anyway, and it is the quickest way to get rid of open connections
        # that CMD may have leaked.
        if ! pg "$bindir/pg_ctl" -D "$pgdata" -m immediate -w -t 30 stop >/dev/null 2>&1; then
            # pg_ctl failed (e.g. server already died): kill by pid as a fallback
            # so we never leave a postmaster behind.
            local pid
            pid="$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null)"
            if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
                log "pg_ctl stop failed; killing postmaster $pid"
                kill -QUIT "$pid" 2>/dev/null
                for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$pid" 2>/dev/null
            fi
        fi
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
# On Ctrl-C/kill, exit with the conventional 128+signal status; `exit` then
# fires the EXIT trap above. (Bash runs these after the foreground CMD has
# finished handling the same Ctrl-C, so tests get to clean up first.)
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if (( ${#as_pg[@]} )); then
    chown postgres: "$tmp"
fi

# --- initdb ---------------------------------------------------------------------
# -A trust:    no passwords; the server only listens on 127.0.0.1 and a private
#              socket directory, and lives only for this run.
# --no-sync:   don't fsync the new cluster; it is thrown away.
# --locale:    independent of the caller's LANG (which may name a locale that
#              isn't generated, making initdb fail). C.UTF-8 keeps upper()/lower()
#              and ILIKE Unicode-aware; fall back to C where it doesn't exist.
locale_opt=C
if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then
    locale_opt=C.UTF-8
fi
if ! pg "$bindir/initdb" -D "$pgdata" -A trust -U postgres --no-sync -E UTF8 \
        --locale="$locale_opt" >"$tmp/initdb.log" 2>&1; then
    log "ERROR: initdb failed:"
    tail -n 30 "$tmp/initdb.log" >&2
    exit 1
fi

# Settings for speed: durability is irrelevant for a throw-away test database.
# max_connections: parallel test workers each hold a connection pool.
cat >>"$pgdata/postgresql.conf" <<EOF

# --- added by scripts/with-postgres.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF

# --- Start the server on a free port --------------------------------------------
# Ask the kernel for a free port by binding to port 0. Someone else can grab it
# before the server binds it (parallel test runs), so retry a few times when
# the server reports the address is in use.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    else
        echo $(( 20000 + RANDOM % 30000 ))
    fi
}

port=""
for attempt in 1 2 3 4 5; do
    candidate="$(free_port)"
    # Start each attempt with an empty log so the check below only sees this
    # attempt's errors. (Truncate, don't recreate: it may belong to postgres.)
    if [[ -f "$server_log" ]]; then : >"$server_log"; fi
    # -w waits until the server accepts connections (not just until the
    # process exists), so no separate pg_isready polling is needed.
    if pg "$bindir/pg_ctl" -D "$pgdata" -l "$server_log" -w -t 60 \
            -o "-p $candidate" start >/dev/null 2>&1; then
        port="$candidate"
        break
    fi
    if grep -qE 'could not bind|Address already in use' "$server_log" 2>/dev/null && (( attempt < 5 )); then
        log "port $candidate was taken, retrying with another port"
        continue
    fi
    break
done
if [[ -z "$port" ]]; then
    log "ERROR: PostgreSQL failed to start. Last lines of $server_log:"
    tail -n 30 "$server_log" >&2 || true
    exit 1
fi

# --- Create the test database -----------------------------------------------------
# Connect over TCP as the tests will; this doubles as a check that the URL we
# export actually works. (Any OS user may do this: auth is "trust".)
if ! "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres callme_test; then
    log "ERROR: could not create database callme_test. Last lines of $server_log:"
    tail -n 30 "$server_log" >&2 || true
    exit 1
fi

export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/callme_test"

# --- Run the command ----------------------------------------------------------------
# Not `exec`: we must stay around to stop the server afterwards.
set +e
"$@"
rc=$?
set -e
exit "$rc"
