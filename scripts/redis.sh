# shellcheck shell=bash
# Start/stop a local redis-server for run.sh and test.sh (Debian does not start the service for us).
# Sourced; needs env.sh. A Redis that already answers PING on the port is used as is and never stopped (with a
# warning when it runs without its append-only file).
# Redis holds the engine's live state, not a cache: it runs with its append-only file, fsynced every second
# (every acknowledged write is in the file before the reply, so a killed redis-server loses nothing; a power
# loss at most a second). REDIS_ARGS: the flags the engine's Redis needs (tests and benchmarks reuse them).
REDIS_ARGS=(--appendonly yes --appendfsync everysec)

REDIS_STARTED_PIDFILE=""

# redis_port URL -> the port of a redis:// URL (6379 when it names none)
redis_port() {
    local rest="${1#*://}"
    rest="${rest#*@}"          # drop user:password@
    rest="${rest%%/*}"         # drop /db
    if [[ "$rest" == *:* ]]; then echo "${rest##*:}"; else echo 6379; fi
}

# redis_start PORT DIR -> a daemonized redis-server keeping its files in DIR
redis_start() {
    local port="$1" dir="$2"
    if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
        echo "[redis] already answering on port $port: using it" >&2
        if ! redis-cli -p "$port" config get appendonly 2>/dev/null | grep -qx yes; then
            echo "[redis] WARNING: the Redis on port $port runs without its append-only file: a restart loses" \
                 "running rounds (they end Abnormal End). Start it with: ${REDIS_ARGS[*]}" >&2
        fi
        return 0
    fi
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" "${REDIS_ARGS[@]}" \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
    REDIS_STARTED_PIDFILE="$dir/redis.pid"
    for _ in $(seq 1 50); do
        redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && {
            echo "[redis] started on port $port (pid $(cat "$REDIS_STARTED_PIDFILE"))" >&2
            return 0
        }
        sleep 0.1
    done
    echo "[redis] did not start on port $port; see $dir/redis.log" >&2
    return 1
}

# redis_stop -> stop the server redis_start started (by its pid), if any
redis_stop() {
    [[ -n "$REDIS_STARTED_PIDFILE" && -f "$REDIS_STARTED_PIDFILE" ]] || return 0
    local pid
    pid="$(cat "$REDIS_STARTED_PIDFILE")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "[redis] stopped (pid $pid)" >&2
    REDIS_STARTED_PIDFILE=""
}
