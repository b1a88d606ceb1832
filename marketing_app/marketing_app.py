"""The Reflex app: it only collects the pages (each page module registers itself with @rx.page)."""

import reflex as rx
from reflex_base.registry import RegistrationContext

from marketing_app.pages import (  # noqa: F401  (importing registers the pages)
    activities,
    approval,
    audience_builder,
    audience_import,
    audiences,
    canvas,
    customers,
    dashboard,
    login,
    message_templates,
    reach,
    reach_task,
    settings,
    settings_caps,
    settings_channels,
)

app = rx.App(
    stylesheets=["/console.css"],
    toaster=rx.toast.provider(position="top-center", rich_colors=True, close_button=True, duration=5000),
)

# Each @rx.page is added here, once. Reflex 0.10.1 re-adds decorated pages on every compile, and in prod mode the
# backend worker compiles again in the process that compiled the frontend, logging "Page … is being redefined
# with the same component" for every page; with the list emptied here, later compiles have nothing to re-add.
_decorated = RegistrationContext.ensure_context().decorated_pages
for _render, _kwargs in _decorated:
    app.add_page(_render, **_kwargs)
_decorated.clear()
