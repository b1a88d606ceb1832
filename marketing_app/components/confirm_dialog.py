"""The "are you sure?" before a destructive action (delete a cap, a template, a task; revoke a key): one shape, so
every such question reads, sits and answers the same — Cancel on the left, the red action on the right."""

from typing import Any

import reflex as rx


def confirm_dialog(*, title: list[Any], description: list[Any], action: str, on_confirm: Any, action_id: str,
                   open: Any, on_open_change: Any = None, on_cancel: Any = None,
                   max_width: str = "440px") -> rx.Component:
    """`title` and `description` are the pieces of their text (strings and state vars)."""
    cancel = rx.button("Cancel", variant="soft", color_scheme="gray",
                       **({"on_click": on_cancel} if on_cancel is not None else {}))
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(*title),
            rx.alert_dialog.description(*description, size="2"),
            rx.hstack(rx.alert_dialog.cancel(cancel),
                      rx.alert_dialog.action(rx.button(action, color_scheme="red", on_click=on_confirm,
                                                       id=action_id)),
                      justify="end", spacing="3", margin_top="12px"),
            max_width=max_width,
        ),
        open=open, **({"on_open_change": on_open_change} if on_open_change is not None else {}),
    )
