"""Under the table: multi-select with Batch Stop, Batch Delete and Move; totals, page size and page buttons."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.pager import page_controls
from marketing_app.states.activities import ActivitiesState

S = ActivitiesState


def _batch_button(label: str, icon: str, on_click, action: str, color: str = "gray") -> rx.Component:
    none = S.selected.length() == 0
    reason = rx.cond(S.write_refusal != "", S.write_refusal, "Select activities in the list first.")
    button = rx.button(rx.icon(icon, size=14), label, size="2", variant="soft", color_scheme=color,
                       disabled=none | (S.write_refusal != ""), on_click=on_click, class_name="guarded",
                       custom_attrs={"data-batch": action})
    return rx.cond(
        none | (S.write_refusal != ""),
        rx.tooltip(rx.el.span(button, class_name="tip-wrap"), content=reason),
        button,
    )


def _batch() -> rx.Component:
    return rx.hstack(
        _batch_button("Batch Stop", "circle_stop", S.ask_batch_stop, "stop"),
        _batch_button("Batch Delete", "trash_2", S.ask_batch_delete, "delete", color="red"),
        _batch_button("Move", "folder_input", S.open_batch_move, "move"),
        rx.cond(
            S.selected.length() > 0,
            rx.hstack(
                rx.text(S.selected.length(), " selected", size="2", weight="medium", id="selected-count"),
                rx.button("Clear", size="1", variant="ghost", color_scheme="gray", on_click=S.clear_selection,
                          id="clear-selection"),
                align="center",
                spacing="2",
            ),
        ),
        align="center",
        spacing="2",
    )


def list_footer() -> rx.Component:
    return rx.hstack(
        _batch(),
        rx.spacer(),
        page_controls(S),
        align="center",
        spacing="3",
        width="100%",
        padding="10px 16px",
        border_top=styles.BORDER,
        wrap="wrap",
    )
