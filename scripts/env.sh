# shellcheck shell=bash
# Project-local tool locations, sourced by setup.sh, run.sh and test.sh.
# Everything Reflex and bun would put in $HOME goes under .tools/, so a fresh clone is self-contained
# and nothing is fetched from GitHub (bun comes from the npm registry, see setup.sh).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

export REFLEX_DIR="$ROOT/.tools/reflex"
export BUN_INSTALL_CACHE_DIR="$ROOT/.tools/bun-cache"
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_USE_SYSTEM_BUN=1                       # use the npm-installed bun below, never download one
export NPM_CONFIG_REGISTRY="${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}"
export PATH="$ROOT/.venv/bin:$ROOT/.tools/bun/node_modules/.bin:$PATH"
export PYTHONUNBUFFERED=1
# Bytecode caches. These machines' environment sets PYTHONDONTWRITEBYTECODE=1, so every Python process (each
# engine worker, the API, the web app, every subprocess of the tests) compiled everything it imports from source:
# 4.1 s of start-up for an engine process (1.35 s with caches), 6.0 s for the web app (2.9 s). The caches go to
# .tools/pycache (one tree for the venv and the project), never beside the sources.
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="$ROOT/.tools/pycache"
