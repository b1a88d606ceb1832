#!/usr/bin/env bash
# The local SMTP peer that stands in for a mail relay: accepts every message and discards it.
#   usage: scripts/smtp_sink.sh HOST:PORT
# Postfix's smtp-sink (C, made for load-testing SMTP clients; scripts/setup.sh installs it) when present:
# aiosmtpd's Sink spends ~100 µs of Python per recipient, a quarter of the CPU of a million-customer run on two
# cores. Falls back to aiosmtpd (the same behaviour, slower). The tests use aiosmtpd in-process: they read
# the messages.
set -euo pipefail
LISTEN="${1:?usage: smtp_sink.sh HOST:PORT}"
SINK=/usr/sbin/smtp-sink
if [[ -x "$SINK" ]]; then
    args=()
    if [[ "$(id -u)" == 0 ]]; then args+=(-u nobody); fi  # smtp-sink drops root itself
    exec "$SINK" "${args[@]}" "$LISTEN" 1024
fi
exec python -m aiosmtpd -n -c aiosmtpd.handlers.Sink -l "$LISTEN"
