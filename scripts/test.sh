#!/usr/bin/env bash
# THE test command: install what is missing, check the lock, lint, then every test on 2 xdist workers.
#   bash scripts/test.sh                  # ruff + mypy + all of tests/
#   bash scripts/test.sh tests/browser    # extra arguments go to pytest instead of "tests"
# Tests that need Redis start their own redis-server on a free port (tests/conftest.py: redis_server), so a
# developer's Redis on 6379 is never touched. The engine's integration tests (tests/engine/{runtime,services,api})
# run on SQLite and again on PostgreSQL: a throwaway cluster in tmp/pg on a free port (scripts/pg.sh), stopped
# at the end; set TEST_POSTGRES_URL to use a server of your own instead.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

bash scripts/setup.sh

# Every dependency is locked: a dependency added to pyproject.toml without `uv lock` fails here (offline check)
echo "[test] uv.lock matches pyproject.toml" >&2
.tools/uv/bin/uv lock --check --offline || { echo "[test] run .tools/uv/bin/uv lock (README: Dependencies)" >&2; exit 1; }

echo "[test] ruff check" >&2
ruff check .

# strict on engine/ ([tool.mypy] in pyproject.toml): a type error fails the tests like a lint error
echo "[test] mypy (strict, engine/)" >&2
mypy

source scripts/pg.sh
if [[ -z "${TEST_POSTGRES_URL:-}" ]]; then
    trap pg_stop EXIT
    trap 'exit 130' INT TERM  # Ctrl-C / a kill stop PostgreSQL too (through the EXIT trap)
    pg_start "$ROOT/tmp/pg"
fi

# --dist loadfile: one file's tests share a worker, so browser tests of one file share one running app.
# --basetemp inside the project: pytest clears it at start; browser tests keep their app/DB/logs there.
[[ $# -gt 0 ]] || set -- tests
# --durations: the slowest tests and fixtures (browser files start an app each) are listed at the end of every run
pytest -n 2 --dist loadfile --basetemp="$ROOT/tmp/pytest" --durations=30 "$@"
