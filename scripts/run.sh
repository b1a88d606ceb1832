#!/usr/bin/env bash
# THE run command: install what is missing, start Redis, migrate, load demo data, serve the app.
#   FRONTEND_PORT (default 3000): the one port of prod mode (page, /ping and websocket).
#   BACKEND_PORT: prod mode serves the backend on the same port; if set it must equal FRONTEND_PORT.
#   REDIS_URL (default redis://127.0.0.1:6379/0), DATABASE_URL (default sqlite:///data/marketing.db).
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
ENGINE_PIDS=()
cleanup() {
    local pid
    for pid in "${ENGINE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${ENGINE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    redis_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM
redis_start "$(redis_port "$REDIS_URL")" "$ROOT/data"

python -m engine.migrate --bind-redis  # a Redis holding another database's state is cleared here
if python -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("engine.demo") is None)'; then
    python -m engine.demo
else
    echo "[run] engine.demo not found: no demo data loaded" >&2
fi

# The engine: Dramatiq workers, the scheduler, the HTTP API (behaviour events, receipts, short links), the
# provider simulator (SMS / WeChat / push / Kafka stand-in) and a local SMTP sink for email; and the demo's
# outside world: shoppers posting behaviour events and a CRM receiving webhooks (DEMO_TRAFFIC=0: not started;
# DEMO_TRAFFIC_RATE sessions/s, default 0.5). Logs in data/.
WORKER_PROCESSES="${WORKER_PROCESSES:-2}"
WORKER_THREADS="${WORKER_THREADS:-4}"
start_bg() {  # name, command...
    local name="$1"; shift
    "$@" >"$ROOT/data/$name.log" 2>&1 &
    ENGINE_PIDS+=($!)
    echo "[run] $name started (pid $!, log data/$name.log)" >&2
}
start_bg smtp-sink bash scripts/smtp_sink.sh "${SMTP_HOST:-127.0.0.1}:${SMTP_PORT:-8025}"
start_bg simulator python -m engine.simulator
start_bg api python -m engine.api
start_bg workers dramatiq engine.actors --processes "$WORKER_PROCESSES" --threads "$WORKER_THREADS"
start_bg scheduler python -m engine.scheduler
if [[ "${DEMO_TRAFFIC:-1}" != "0" ]]; then
    start_bg demo-traffic python -m engine.demo_traffic
fi

echo "[run] starting Automated Marketing (first build takes a minute); open http://localhost:$PORT" >&2
reflex run --env prod --frontend-port "$PORT" --backend-port "$PORT"
