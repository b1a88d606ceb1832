"""The page controls under every list (activities, audiences, customers, message templates, Reach Tasks): total,
page size, previous / numbered / next buttons and "Page n of m", wired to a state that mixes in
`marketing_app.states.paged_list.PagedList`. One component, so the lists page alike and a fix reaches all of
them; the browser tests find the controls by these ids."""

from typing import Any

import reflex as rx

from marketing_app import styles
from marketing_app.states.paged_list import PAGE_SIZES


def _page_button(state: Any, item: rx.Var[str]) -> rx.Component:
    current = item == state.page.to_string()
    return rx.cond(
        item == "…",
        rx.text("…", size="2", color=styles.MUTED, padding_x="4px"),
        rx.button(item, size="1", variant=rx.cond(current, "solid", "ghost"),
                  color_scheme=rx.cond(current, "indigo", "gray"), on_click=state.go_to(item),
                  class_name="page-number", min_width="28px"),
    )


def page_controls(state: Any, total: Any = None) -> rx.Component:
    """The controls alone (the activity list puts its batch actions on the same line). `total` is what
    "Total" shows: the state's `total` unless given (the customers' search caps its count)."""
    return rx.hstack(
        rx.text("Total ", state.total if total is None else total, size="2", color=styles.MUTED, id="total-count",
                white_space="nowrap"),
        rx.select(PAGE_SIZES, value=state.page_size.to_string(), on_change=state.set_page_size, size="1",
                  id="page-size"),
        rx.text("per page", size="2", color=styles.MUTED, white_space="nowrap"),
        rx.icon_button(rx.icon("chevron_left", size=14), on_click=state.prev_page, disabled=state.page <= 1,
                       size="1", variant="soft", color_scheme="gray", id="prev-page", aria_label="Previous page"),
        rx.foreach(state.page_items, lambda item: _page_button(state, item)),
        rx.icon_button(rx.icon("chevron_right", size=14), on_click=state.next_page,
                       disabled=state.page >= state.pages, size="1", variant="soft", color_scheme="gray",
                       id="next-page", aria_label="Next page"),
        rx.text("Page ", state.page, " of ", state.pages, size="2", id="page-info", white_space="nowrap",
                color=styles.MUTED),
        align="center",
        spacing="2",
    )


def pager(state: Any, total: Any = None) -> rx.Component:
    """The controls as a list's footer bar, right-aligned under its table."""
    return rx.hstack(rx.spacer(), page_controls(state, total), align="center", width="100%",
                     padding="10px 16px", border_top=styles.BORDER)
