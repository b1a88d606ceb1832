"""Prev / Next and "Page X of Y" under the table."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.activities import ActivitiesState


def pagination() -> rx.Component:
    s = ActivitiesState
    return rx.hstack(
        rx.text(s.total, " activities", size="2", color=styles.MUTED, id="total-count"),
        rx.spacer(),
        rx.button(
            rx.icon("chevron_left", size=16), "Prev",
            on_click=s.prev_page, disabled=s.page <= 1, variant="soft", color_scheme="gray", size="2",
            id="prev-page",
        ),
        rx.text("Page ", s.page, " of ", s.pages, size="2", id="page-info", white_space="nowrap"),
        rx.button(
            "Next", rx.icon("chevron_right", size=16),
            on_click=s.next_page, disabled=s.page >= s.pages, variant="soft", color_scheme="gray", size="2",
            id="next-page",
        ),
        align="center",
        spacing="3",
        width="100%",
        padding="12px 16px",
        border_top=styles.BORDER,
    )
