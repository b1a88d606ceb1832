#!/usr/bin/env bash
# Install what the project needs, only what is missing: a second run takes well under a second.
#   .venv with exactly the versions in uv.lock (synced again when uv.lock or pyproject.toml changes), bun from
#   the npm registry,
#   and Debian's redis-server, chromium, postgresql (the tests' second database, scripts/pg.sh) and postfix (its
#   smtp-sink: the local SMTP peer, scripts/smtp_sink.sh) when absent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

BUN_VERSION=1.4.4
UV_VERSION=0.13.9

log() { printf '[setup] %s\n' "$*" >&2; }

if [[ ! -x .venv/bin/python ]]; then
    log "creating .venv"
    "${PYTHON:-python3.11}" -m venv .venv 2>/dev/null || python3 -m venv .venv
fi

# uv (a tool of its own under .tools/, pinned) installs exactly the versions in uv.lock, the ones tested:
# `--locked` refuses a uv.lock that no longer matches pyproject.toml (re-lock: README "Dependencies").
if [[ "$(.tools/uv/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION"* ]]; then
    log "installing uv $UV_VERSION from PyPI"
    "${PYTHON:-python3.11}" -m venv .tools/uv 2>/dev/null || python3 -m venv .tools/uv
    .tools/uv/bin/python -m pip install --disable-pip-version-check -q "uv==$UV_VERSION"
fi

stamp=.venv/.uv-lock.sha256
want="$(cat pyproject.toml uv.lock | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    log "installing the locked Python packages (uv.lock or pyproject.toml changed; log in .venv/uv-sync.log)"
    if ! UV_PROJECT_ENVIRONMENT=.venv UV_PYTHON_DOWNLOADS=never .tools/uv/bin/uv sync --locked --extra test \
            --python .venv/bin/python >.venv/uv-sync.log 2>&1; then
        tail -40 .venv/uv-sync.log >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi

if [[ ! -x .tools/bun/node_modules/.bin/bun ]] || ! .tools/bun/node_modules/.bin/bun --version >/dev/null 2>&1; then
    log "installing bun $BUN_VERSION from the npm registry"
    mkdir -p .tools/bun
    npm install --prefix .tools/bun --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION"
fi

missing=()
[[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
[[ -x /usr/bin/chromium ]] || missing+=(chromium chromium-driver)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)  # the tests' second database
# Postfix only for its smtp-sink, the local SMTP peer (scripts/smtp_sink.sh); "No configuration": no mail daemon
[[ -x /usr/sbin/smtp-sink ]] || missing+=(postfix)
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

mkdir -p data tmp "$REFLEX_DIR" "$BUN_INSTALL_CACHE_DIR"
