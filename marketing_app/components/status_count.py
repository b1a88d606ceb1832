"""One clickable count of the status bar (a filter card with a number); `hint` becomes its tooltip."""

import reflex as rx
from reflex.event import EventSpec

from marketing_app import styles


def status_count(
    label: str, count: rx.Var[int], *, active: rx.Var[bool], on_click: EventSpec, key: str,
    color: str = "gray", hint: rx.Var[str] | None = None,
) -> rx.Component:
    card = rx.box(
        rx.hstack(
            rx.box(width="8px", height="8px", border_radius="999px", background=f"var(--{color}-9)"),
            rx.text(label, size="2", color=styles.MUTED, weight="medium", white_space="nowrap"),
            align="center",
            spacing="2",
        ),
        rx.text(count, size="6", weight="bold", margin_top="4px", class_name="count"),
        on_click=on_click,
        id=f"status-{key}",
        role="button",
        class_name=rx.cond(active, "status-count active", "status-count"),
        cursor="pointer",
        padding="12px 16px",
        flex="1",
        min_width="128px",
        border_radius=styles.RADIUS,
        background=styles.PANEL_BG,
        border=rx.cond(active, "1px solid var(--accent-8)", styles.BORDER),
        box_shadow=rx.cond(active, "0 0 0 1px var(--accent-8)", "0 1px 2px var(--black-a2)"),
        _hover={"border_color": "var(--accent-7)"},
        transition="border-color 120ms, box-shadow 120ms",
    )
    return rx.tooltip(card, content=hint) if hint is not None else card
