"""The Reflex app: it only collects the pages (each page module registers itself with @rx.page)."""

import reflex as rx

from marketing_app.pages import activities, login  # noqa: F401  (importing registers the pages)

app = rx.App()
