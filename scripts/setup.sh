#!/usr/bin/env bash
# Install what the project needs, only what is missing: a second run takes well under a second.
#   .venv (pip install -e '.[test]' again when pyproject.toml changes), bun from the npm registry,
#   and Debian's redis-server, chromium, postgresql (the tests' second database, scripts/pg.sh) and postfix (its
#   smtp-sink: the local SMTP peer, scripts/smtp_sink.sh) when absent.
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
