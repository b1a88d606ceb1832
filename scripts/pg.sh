# shellcheck shell=bash
# A throwaway PostgreSQL cluster for the tests (sourced by test.sh; needs env.sh). Debian's `postgresql` package
# (installed by setup.sh) provides the binaries; its own system cluster, running or not, is never touched: ours
# lives in a directory of its own, listens on 127.0.0.1 on a free port (and a Unix socket in the same directory),
# trusts local connections, and runs without fsync (its data is worth nothing after the run).
#   pg_start DIR   -> initdb DIR/<pid of this shell> afresh, start it, export
#                     TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/postgres; first it stops and
#                     removes the clusters of earlier runs in DIR whose shell is gone (a killed run's leftovers),
#                     while a run still going keeps its own
#   pg_stop        -> stop the server pg_start started (fast shutdown) and remove its files
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` OS user the package creates.

PG_STARTED=""

# pg_bin -> the directory of initdb / pg_ctl (PG_BIN, else the newest /usr/lib/postgresql/*/bin, else PATH)
pg_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return 0; fi
    local newest
    newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    if [[ -n "$newest" && -x "$newest/initdb" ]]; then echo "$newest"; return 0; fi
    local initdb
    initdb="$(command -v initdb 2>/dev/null)" || { echo "[pg] initdb not found: install postgresql" >&2; return 1; }
    dirname "$(readlink -f "$initdb")"
}

# _pg_as_owner CMD... -> run CMD as the cluster's owner (postgres when we are root, else ourselves)
_pg_as_owner() {
    if [[ "$(id -u)" == 0 ]]; then "$(command -v runuser || echo /usr/sbin/runuser)" -u postgres -- "$@"; else "$@"; fi
}

_pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# _pg_discard ENTRY -> stop the server of a cluster (if it runs) and remove it; ENTRY is its directory, or a
# link to it (see pg_start)
_pg_discard() {
    local entry="$1" cluster
    cluster="$(readlink -f "$entry")"
    if [[ -f "$cluster/data/postmaster.pid" ]]; then
        _pg_as_owner "$(pg_bin)/pg_ctl" -D "$cluster/data" -m fast -w -t 60 stop >/dev/null 2>&1 \
            || _pg_as_owner "$(pg_bin)/pg_ctl" -D "$cluster/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$cluster" "$entry"
}

pg_start() {
    local dir="$1" bin port sock cluster old
    bin="$(pg_bin)" || return 1
    dir="$(mkdir -p "$dir" && cd "$dir" && pwd)"
    for old in "$dir"/*/; do
        old="${old%/}"
        [[ -d "$old" && "$(basename "$old")" =~ ^[0-9]+$ ]] || continue
        if [[ "$(basename "$old")" == "$$" ]] || ! kill -0 "$(basename "$old")" 2>/dev/null; then
            echo "[pg] removing the cluster a finished or killed run left in $old" >&2
            _pg_discard "$old"
        fi
    done
    PG_STARTED="$dir/$$"  # pg_stop removes it, whatever happens below
    cluster="$PG_STARTED"
    mkdir -p "$cluster"
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || { echo "[pg] no postgres OS user: install postgresql" >&2; return 1; }
        chown postgres: "$cluster"
        if ! _pg_as_owner test -w "$cluster"; then  # a checkout the postgres user cannot enter (/root):
            rmdir "$cluster"                                   # the cluster goes to /tmp, linked from DIR
            cluster="$(mktemp -d /tmp/automated-marketing-pg.XXXXXX)"
            chown postgres: "$cluster"
            ln -s "$cluster" "$PG_STARTED"
        fi
    fi
    if ! _pg_as_owner "$bin/initdb" -D "$cluster/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
            >"$cluster/initdb.log" 2>&1; then
        cat "$cluster/initdb.log" >&2
        return 1
    fi
    sock="$cluster"
    (( ${#sock} < 90 )) || sock=""  # a Unix socket path must stay under 108 bytes: TCP only then
    port="$(_pg_free_port)"
    # -c options: loopback only; no durability (throwaway); room for the tests' worker processes' pools
    if ! _pg_as_owner "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/postgres.log" -w -t 60 -o "-p $port \
            -c listen_addresses=127.0.0.1 -c unix_socket_directories='$sock' -c max_connections=300 \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB" \
            start >/dev/null; then
        tail -20 "$cluster/postgres.log" >&2
        return 1
    fi
    export TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    echo "[pg] PostgreSQL $("$bin/postgres" --version | awk '{print $3}') started on 127.0.0.1:$port ($cluster)" >&2
}

pg_stop() {
    [[ -n "$PG_STARTED" ]] || return 0
    _pg_discard "$PG_STARTED"
    echo "[pg] stopped" >&2
    PG_STARTED=""
}
