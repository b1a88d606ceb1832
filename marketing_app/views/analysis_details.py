"""Customer details of the action analysis panel: one page of the customers at the component (User ID = the
QAID, name, result, reason, time), filtered by the chosen result label and period; a note when the details
have expired (they are kept 7 days) instead of a silently empty table."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.analysis import AnalysisState

S = AnalysisState


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.text(row["qaid"], size="2", weight="medium", class_name="mono")),
        rx.el.td(rx.text(row["name"], size="2", class_name="truncate", title=row["name"])),
        rx.el.td(rx.badge(row["label"], size="1", variant="soft", radius="full", color_scheme=row["color"],
                          class_name="analysis-result")),
        rx.el.td(rx.text(row["reason"], size="1", class_name="analysis-reason", title=row["reason"],
                         color=rx.cond(row["result"] == "failed", "var(--red-11)", styles.MUTED))),
        rx.el.td(rx.text(row["at"], size="1", color=styles.MUTED)),
        class_name="analysis-row",
        custom_attrs={"data-qaid": row["qaid"], "data-result": row["result"], "data-customer": row["customer"]},
    )


def _note() -> rx.Component:
    """Expired or partly expired details: said in words (the numbers above remain)."""
    return rx.cond(
        S.details_note != "",
        rx.callout(S.details_note, icon="archive_x", color_scheme=rx.cond(S.details_state == "expired", "amber",
                                                                          "gray"),
                   size="1", width="100%", id="analysis-details-note",
                   custom_attrs={"data-state": S.details_state}),
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.cond(S.details_state == "expired", rx.icon("archive_x", size=26, color="var(--gray-8)"),
                    rx.icon("users", size=26, color="var(--gray-8)")),
            rx.text(rx.cond(S.details_state == "expired", "Details expired",
                            rx.cond(S.period == "last_5_minutes", "Nobody in the last 5 minutes",
                                    rx.cond(S.selected != "", "Nobody with this result yet", "No data yet"))),
                    size="2", weight="medium"),
            rx.text(rx.cond(S.details_state == "expired",
                            "Customer details are kept for 7 days; the numbers above remain.",
                            "Customers appear here as they pass this component."),
                    size="1", color=styles.MUTED),
            align="center", spacing="1",
        ),
        padding_y="32px", width="100%", id="analysis-details-empty",
        custom_attrs={"data-state": S.details_state},
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text("Total ", S.total, size="1", color=styles.MUTED, id="analysis-total",
                custom_attrs={"data-total": S.total.to_string()}),
        rx.spacer(),
        rx.icon_button(rx.icon("chevron_left", size=14), size="1", variant="soft", color_scheme="gray",
                       disabled=S.page <= 1, on_click=S.go(S.page - 1), id="analysis-prev", aria_label="Previous page"),
        rx.text("Page ", S.page, " of ", S.pages, size="1", id="analysis-page"),
        rx.icon_button(rx.icon("chevron_right", size=14), size="1", variant="soft", color_scheme="gray",
                       disabled=S.page >= S.pages, on_click=S.go(S.page + 1), id="analysis-next",
                       aria_label="Next page"),
        align="center", width="100%", spacing="2",
    )


def details_section() -> rx.Component:
    table = rx.el.table(
        rx.el.thead(rx.el.tr(*[rx.el.th(h) for h in ("User ID (QAID)", "Name", "Result", "Reason",
                                                      "Time (UTC)")])),
        rx.el.tbody(rx.foreach(S.rows, _row)),
        class_name="drawer-table analysis-table",
        id="analysis-details",
    )
    return rx.vstack(
        rx.hstack(
            rx.text("Customer details", class_name="analysis-section-title"),
            rx.spacer(),
            rx.text("Kept 7 days · newest first", size="1", color=styles.MUTED),
            align="center", width="100%",
        ),
        _note(),
        rx.cond(S.rows.length() > 0, table, _empty()),
        _pager(),
        spacing="2", width="100%", id="analysis-details-section",
    )
