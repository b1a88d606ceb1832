#!/usr/bin/env bash
# THE run command: install what is missing, start Redis, migrate, load demo data, serve the app.
#   FRONTEND_PORT (default 3000): the one port of prod mode (page, /ping and websocket).
#   BACKEND_PORT: prod mode serves the backend on the same port; if set it must equal FRONTEND_PORT.
#   REDIS_URL (default redis://127.0.0.1:6379/0), DATABASE_URL (default sqlite:///data/marketing.db).
#   DEMO: unset = demo data only into the default database; 1 = into any database; 0 = never.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$ROOT/scripts/redis.sh"
cd "$ROOT"

bash scripts/setup.sh

PORT="${FRONTEND_PORT:-3000}"
if [[ -n "${BACKEND_PORT:-}" && "$BACKEND_PORT" != "$PORT" ]]; then
    echo "In prod mode Reflex serves frontend and backend on one port: set BACKEND_PORT=$PORT or unset it." >&2
    exit 2
fi

export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
SUPERVISOR_CONF="$ROOT/deploy/supervisord.conf"
SUPERVISOR_PID=""
supervisorctl() { python -m supervisor.supervisorctl -c "$SUPERVISOR_CONF" "$@"; }
cleanup() {
    if [[ -n "$SUPERVISOR_PID" ]]; then  # stop every supervised program (each by its stopsignal), then Redis
        supervisorctl shutdown >/dev/null 2>&1 || kill "$SUPERVISOR_PID" 2>/dev/null || true
        wait "$SUPERVISOR_PID" 2>/dev/null || true
        echo "[run] engine stopped" >&2
    fi
    redis_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM
redis_start "$(redis_port "$REDIS_URL")" "$ROOT/data"

python -m engine.migrate --bind-redis  # a Redis holding another database's state is cleared here
# The demo (known passwords) only into the embedded default database or with DEMO=1: engine/demo_gate.py.
DEMO_LOADED=0
if python -m engine.demo_gate; then
    python -m engine.demo
    DEMO_LOADED=1
fi

# The engine under supervisord (deploy/supervisord.conf): Dramatiq worker processes (one program each, so a
# killed one restarts alone), the scheduler, the HTTP API (behaviour events, receipts, short links), the
# provider simulator (SMS / WeChat / push / Kafka stand-in) and a local SMTP sink for email; and the demo's
# outside world: shoppers posting behaviour events and a CRM receiving webhooks (DEMO_TRAFFIC=0: not started;
# DEMO_TRAFFIC_RATE sessions/s, default 0.5). Every program is restarted when it exits (with backoff when it
# dies at start); logs in data/<program>.log, restarts in data/supervisord.log.
export LOG_DIR="$ROOT/data" RUN_DIR="$ROOT/data"
export WORKER_PROCESSES="${WORKER_PROCESSES:-2}"
export WORKER_THREADS="${WORKER_THREADS:-4}"
export SMTP_HOST="${SMTP_HOST:-127.0.0.1}"
export SMTP_PORT="${SMTP_PORT:-8025}"
if [[ -S "$RUN_DIR/supervisor.sock" ]] && supervisorctl pid >/dev/null 2>&1; then
    echo "[run] a supervisord of this checkout is already running (pid $(supervisorctl pid)): stop it first" >&2
    exit 2
fi
python -m supervisor.supervisord -c "$SUPERVISOR_CONF" >"$LOG_DIR/supervisord.out" 2>&1 &
SUPERVISOR_PID=$!
for _ in $(seq 1 100); do supervisorctl pid >/dev/null 2>&1 && break; sleep 0.1; done
if [[ "$DEMO_LOADED" == "1" && "${DEMO_TRAFFIC:-1}" != "0" ]]; then  # the demo's shoppers need the demo's key
    supervisorctl start demo-traffic >/dev/null || echo "[run] demo traffic did not start: data/demo-traffic.log" >&2
fi
supervisorctl status >&2 || true
echo "[run] engine supervised by supervisord (pid $SUPERVISOR_PID, log data/supervisord.log); from another" \
    "shell: .venv/bin/python -m supervisor.supervisorctl -s unix://$RUN_DIR/supervisor.sock status" >&2

echo "[run] starting Automated Marketing (first build takes a minute); open http://localhost:$PORT" >&2
if [[ "$DEMO_LOADED" != "1" ]]; then
    echo "[run] no demo logins on this database: make the first admin with" \
        "'python -m engine.admin create-admin --username <name>' (password prompted)" >&2
fi
reflex run --env prod --frontend-port "$PORT" --backend-port "$PORT"
