"""The page shell decorator: `@template(route=, title=, on_load=)` for every page behind the login."""

from marketing_app.templates.template import template

__all__ = ["template"]
