"""Reflex configuration: the UI reads the same DATABASE_URL as the engine (engine.settings).

Plugins: only Radix Themes (the components we use). The sitemap plugin, on by default in 0.10.1, is
disabled: an internal console behind a login has nothing to index. No Tailwind (no extra npm packages).
Ports: FRONTEND_PORT / BACKEND_PORT when set; `scripts/run.sh` runs prod mode on one port.
"""

import os

import reflex as rx

from engine.settings import get_settings


def _port(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value else None


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
)
