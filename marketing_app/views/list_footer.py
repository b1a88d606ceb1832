"""Under the table: multi-select with Batch Stop, Batch Delete and Move; totals, page size and page buttons."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.activities import PAGE_SIZES, ActivitiesState

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


def _page_button(item: rx.Var[str]) -> rx.Component:
    return rx.cond(
        item == "…",
        rx.text("…", size="2", color=styles.MUTED, padding_x="4px"),
        rx.button(item, size="1", variant=rx.cond(item == S.page.to_string(), "solid", "ghost"),
                  color_scheme=rx.cond(item == S.page.to_string(), "indigo", "gray"), on_click=S.go_to(item),
                  class_name="page-number", min_width="28px"),
    )


def _pages() -> rx.Component:
    return rx.hstack(
        rx.text("Total ", S.total, size="2", color=styles.MUTED, id="total-count", white_space="nowrap"),
        rx.select(PAGE_SIZES, value=S.page_size.to_string(), on_change=S.set_page_size, size="1", id="page-size"),
        rx.text("per page", size="2", color=styles.MUTED, white_space="nowrap"),
        rx.icon_button(rx.icon("chevron_left", size=14), on_click=S.prev_page, disabled=S.page <= 1, size="1",
                       variant="soft", color_scheme="gray", id="prev-page", aria_label="Previous page"),
        rx.foreach(S.page_items, _page_button),
        rx.icon_button(rx.icon("chevron_right", size=14), on_click=S.next_page, disabled=S.page >= S.pages,
                       size="1", variant="soft", color_scheme="gray", id="next-page", aria_label="Next page"),
        rx.text("Page ", S.page, " of ", S.pages, size="2", id="page-info", white_space="nowrap",
                color=styles.MUTED),
        align="center",
        spacing="2",
    )


def list_footer() -> rx.Component:
    return rx.hstack(
        _batch(),
        rx.spacer(),
        _pages(),
        align="center",
        spacing="3",
        width="100%",
        padding="10px 16px",
        border_top=styles.BORDER,
        wrap="wrap",
    )
