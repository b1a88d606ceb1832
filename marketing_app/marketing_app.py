"""The Reflex app: it only collects the pages (each page module registers itself with @rx.page)."""

import reflex as rx

from marketing_app.pages import activities, canvas, dashboard, login  # noqa: F401  (importing registers the pages)

app = rx.App(
    stylesheets=["/console.css"],
    toaster=rx.toast.provider(position="top-center", rich_colors=True, close_button=True, duration=5000),
)
