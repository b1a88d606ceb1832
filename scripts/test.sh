#!/usr/bin/env bash
# THE test command: install what is missing, lint, then every test on 2 xdist workers.
#   bash scripts/test.sh                  # ruff + all of tests/
#   bash scripts/test.sh tests/browser    # extra arguments go to pytest instead of "tests"
# A throwaway Redis (TEST_REDIS_URL, default port 6390, files in tmp/) runs for the duration, so tests that
# need a broker find one and a developer's own Redis on 6379 is never touched.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$ROOT/scripts/redis.sh"
cd "$ROOT"

bash scripts/setup.sh

echo "[test] ruff check" >&2
ruff check .

export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6390/0}"
trap redis_stop EXIT
redis_start "$(redis_port "$REDIS_URL")" "$ROOT/tmp/redis-test"

# --dist loadfile: one file's tests share a worker, so browser tests of one file share one running app.
# --basetemp inside the project: pytest clears it at start; browser tests keep their app/DB/logs there.
[[ $# -gt 0 ]] || set -- tests
pytest -n 2 --dist loadfile --basetemp="$ROOT/tmp/pytest" "$@"
