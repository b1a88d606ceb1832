"""Reflex configuration: the UI reads the same DATABASE_URL as the engine (engine.settings).

Plugins: only Radix Themes (the components we use). The sitemap plugin, on by default in 0.10.1, is
disabled: an internal console behind a login has nothing to index. No Tailwind (no extra npm packages).
Ports: FRONTEND_PORT / BACKEND_PORT when set; `scripts/run.sh` runs prod mode on one port.
"""

import logging
import os

import reflex as rx

from engine.settings import get_settings


def _port(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value else None


class _NodeVersionNotice(logging.Filter):
    """Drops Reflex's "Your version (20.x) of Node.js is out of date" warning. Reason: it is logged exactly when
    Reflex switches the build to `bun --bun` (reflex/utils/js_runtimes.py: get_js_package_executor), so the
    frontend is built by bun's own runtime and the system Node (Debian 13 ships 20) is never used; prod mode
    serves the built pages from Python. Any other warning of that module still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "of Node.js is out of date" not in record.getMessage()


logging.getLogger("reflex.utils.js_runtimes").addFilter(_NodeVersionNotice())

config = rx.Config(
    app_name="marketing_app",
    db_url=get_settings().database_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=_port("FRONTEND_PORT"),
    backend_port=_port("BACKEND_PORT"),
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="light", accent_color="indigo", gray_color="slate", radius="medium"),
        ),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    # Behind a reverse proxy, the hops whose X-Forwarded-For is trusted: the client address sign-in throttling
    # counts failures against (engine/services/login_throttle.py). 0 = the socket's peer address.
    trusted_proxy_hops=_port("TRUSTED_PROXY_HOPS") or 0,
)
