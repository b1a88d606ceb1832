"""The "Transactional" switch of an activity's basic information (issue 16): its touches are exempt from the
workspace's frequency caps and do not count towards them. One field, included by each basics dialog (New
activity, Modify, New from Template, the canvas's Basic information)."""

import reflex as rx

from marketing_app import styles

LABEL = "Transactional — exempt from frequency caps"
HINT = ("For messages a customer expects (order confirmations, password resets): they are always sent and do not "
        "count towards the workspace's caps.")


def cap_exempt_field(checked: rx.Var[bool], on_change: rx.EventHandler, field_id: str) -> rx.Component:
    return rx.vstack(
        rx.checkbox(LABEL, checked=checked, on_change=on_change, id=field_id, size="2"),
        rx.text(HINT, size="1", color=styles.MUTED, padding_left="24px"),
        spacing="1", width="100%",
    )
