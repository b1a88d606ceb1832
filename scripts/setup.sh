#!/usr/bin/env bash
# Install what the project needs, only what is missing: a second run takes well under a second.
#   .venv (pip install -e '.[test]' again when pyproject.toml changes), bun from the npm registry,
#   and Debian's redis-server and chromium when absent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

BUN_VERSION=1.4.4

log() { printf '[setup] %s\n' "$*" >&2; }

if [[ ! -x .venv/bin/python ]]; then
    log "creating .venv"
    "${PYTHON:-python3.11}" -m venv .venv 2>/dev/null || python3 -m venv .venv
fi

stamp=.venv/.pyproject.sha256
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    log "installing Python packages (pyproject.toml changed; log in .venv/pip-install.log)"
    if ! .venv/bin/python -m pip install --disable-pip-version-check -e '.[test]' >.venv/pip-install.log 2>&1; then
        tail -40 .venv/pip-install.log >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi

if [[ ! -x .tools/bun/node_modules/.bin/bun ]] || ! .tools/bun/node_modules/.bin/bun --version >/dev/null 2>&1; then
    log "installing bun $BUN_VERSION from the npm registry"
    mkdir -p .tools/bun
    npm install --prefix .tools/bun --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION"
fi

if [[ ! -x /usr/bin/redis-server || ! -x /usr/bin/chromium ]]; then
    log "installing redis-server and chromium with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq redis-server chromium chromium-driver >/dev/null
fi

mkdir -p data tmp "$REFLEX_DIR" "$BUN_INSTALL_CACHE_DIR"
