"""The Incoming Users panel on the canvas's right: the customers who entered the round through its trigger
(QAID, name, entered at, result), Last 5 Minutes / To Date, pages; a row draws that customer's route green."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.execution_incoming import WINDOWS, IncomingState
from marketing_app.views.incoming_refused import refused_section

S = IncomingState
PANEL_WIDTH = "460px"
STATUS_COLORS = {"success": "green", "failure": "red", "in_flow": "blue"}


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    chosen = S.selected == row["id"]
    return rx.el.tr(
        rx.el.td(rx.text(row["qaid"], size="1", weight="medium", class_name="mono nowrap", title=row["qaid"])),
        rx.el.td(rx.text(row["name"], size="2", class_name="truncate", title=row["name"])),
        rx.el.td(rx.vstack(rx.text(row["entered_day"], size="1", color=styles.MUTED),
                           rx.text(row["entered_time"], size="1"), spacing="0"),
                 title=row["entered_at"]),
        rx.el.td(rx.vstack(
            rx.badge(row["status_label"], size="1", variant="soft", radius="full",
                     color_scheme=rx.match(row["status"], *STATUS_COLORS.items(), "gray"),
                     class_name="incoming-status"),
            rx.cond(row["reason"] != "",
                    rx.text(row["reason"], size="1", color=rx.cond(row["status"] == "failure", "var(--red-11)",
                                                                   styles.MUTED),
                            class_name="incoming-reason", title=row["reason"])),
            spacing="1", align="start",
        )),
        on_click=S.pick(row["id"]),
        class_name=rx.cond(chosen, "incoming-row chosen", "incoming-row"),
        title="Click to draw this customer's route on the canvas",
        custom_attrs={"data-qaid": row["qaid"], "data-status": row["status"], "data-customer": row["id"]},
    )


def _filter() -> rx.Component:
    return rx.segmented_control.root(
        *[rx.segmented_control.item(label, value=key) for key, label in WINDOWS],
        value=S.window, on_change=S.set_window, size="1", id="incoming-window",
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text("Total ", S.total, size="1", color=styles.MUTED, id="incoming-total"),
        rx.spacer(),
        rx.icon_button(rx.icon("chevron_left", size=14), size="1", variant="soft", color_scheme="gray",
                       disabled=S.page <= 1, on_click=S.go(S.page - 1), id="incoming-prev", aria_label="Previous page"),
        rx.text("Page ", S.page, " of ", S.pages, size="1", id="incoming-page"),
        rx.icon_button(rx.icon("chevron_right", size=14), size="1", variant="soft", color_scheme="gray",
                       disabled=S.page >= S.pages, on_click=S.go(S.page + 1), id="incoming-next",
                       aria_label="Next page"),
        align="center", width="100%", spacing="2",
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.cond(S.expired, rx.icon("archive_x", size=28, color="var(--gray-8)"),
                    rx.icon("users", size=28, color="var(--gray-8)")),
            rx.text(rx.cond(S.expired, "The details of this round are no longer kept.",
                            rx.cond(S.window == "5m", "Nobody entered in the last 5 minutes.",
                                    "Nobody has entered this round yet.")),
                    size="2", weight="medium"),
            rx.text(rx.cond(S.expired, "User details are kept for 7 days; the numbers on the canvas remain.",
                            "Customers appear here as they enter the flow."),
                    size="1", color=styles.MUTED, text_align="center"),
            align="center", spacing="2",
        ),
        padding_y="48px", width="100%", id="incoming-empty",
        custom_attrs={"data-expired": rx.cond(S.expired, "true", "false")},
    )


def _route_note() -> rx.Component:
    route = S.route
    return rx.cond(
        S.selected != "",
        rx.hstack(
            rx.box(width="10px", height="10px", border_radius="50%", background="#30a46c", flex="none"),
            rx.text("Route of ", rx.el.b(route["qaid"].to(str)), " drawn in green on the canvas.", size="1"),
            rx.spacer(),
            rx.button("Clear", size="1", variant="ghost", on_click=S.pick(S.selected), id="incoming-clear-route"),
            align="center", width="100%", padding="6px 10px", border_radius="8px",
            background="var(--green-a2)", border="1px solid var(--green-a5)", id="incoming-route-note",
        ),
    )


def incoming_panel() -> rx.Component:
    table = rx.el.table(
        rx.el.thead(rx.el.tr(*[rx.el.th(h) for h in ("QAID", "Name", "Entered (UTC)", "Result")])),
        rx.el.tbody(rx.foreach(S.rows, _row)),
        class_name="drawer-table incoming-table",
        id="incoming-table",
    )
    return rx.cond(
        S.open,
        rx.vstack(
            rx.hstack(
                rx.box(rx.icon("users", size=16), class_name="incoming-icon"),
                rx.vstack(
                    rx.text("Incoming Users", weight="bold", size="3", id="incoming-title"),
                    rx.text("Round #", S.record_number, " · entered through ", S.trigger, size="1",
                            color=styles.MUTED),
                    spacing="0",
                ),
                rx.spacer(),
                rx.icon_button(rx.icon("refresh_cw", size=14), variant="ghost", color_scheme="gray", size="2",
                               on_click=S.refresh, id="incoming-refresh", title="Refresh"),
                rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", size="2",
                               on_click=S.close, id="incoming-close", title="Close"),
                align="center", width="100%", padding="14px 16px", border_bottom=styles.BORDER, spacing="3",
            ),
            rx.vstack(
                rx.hstack(_filter(), rx.spacer(),
                          rx.text("Details are kept ", S.retention_days, " days", size="1", color=styles.MUTED),
                          align="center", width="100%"),
                _route_note(),
                spacing="2", width="100%", padding="12px 16px 4px",
            ),
            rx.scroll_area(
                rx.box(rx.cond(S.rows.length() > 0, table, _empty()), refused_section(), padding="4px 16px 12px",
                       width="100%"),
                type="auto", scrollbars="vertical", flex="1", min_height="0",
            ),
            rx.box(_pager(), padding="10px 16px", border_top=styles.BORDER, width="100%"),
            spacing="0", width=PANEL_WIDTH, flex="none", height="100%", background=styles.PANEL_BG,
            border_left=styles.BORDER, id="incoming-panel",
            custom_attrs={"data-window": S.window, "data-total": S.total.to_string()},
        ),
    )
