"""The "Not let in" part of the Incoming Users panel (issue 16): how many customers the re-entry rule refused, per
reason, and each one with the reason in words ("Entered 3 days ago — re-entry after 7 days"), 20 a page."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.incoming_refused import RefusedState

R = RefusedState
REASON_COLORS = {"once": "orange", "after": "amber", "live": "blue", "round": "gray"}


def _count(item: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.badge(item["label"], ": ", item["count"], size="1", variant="soft", radius="full",
                    color_scheme=rx.match(item["code"], *REASON_COLORS.items(), "gray"), class_name="refused-count",
                    custom_attrs={"data-reason": item["code"], "data-count": item["count"]})


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.text(row["qaid"], size="1", weight="medium", class_name="mono nowrap", title=row["qaid"])),
        rx.el.td(rx.vstack(
            rx.text(row["name"], size="2", class_name="truncate", title=row["name"]),
            rx.text(row["reason"], size="1", color="var(--orange-11)", class_name="refused-reason",
                    title=row["reason"]),
            spacing="0", align="start")),
        rx.el.td(rx.vstack(rx.text(row["day"], size="1", color=styles.MUTED), rx.text(row["time"], size="1"),
                           spacing="0"), title=row["at"]),
        class_name="refused-row",
        custom_attrs={"data-qaid": row["qaid"], "data-reason": row["code"]},
    )


def refused_section() -> rx.Component:
    """Shown when the round refused anyone (under the entrants)."""
    return rx.cond(
        R.counts.length() > 0,
        rx.vstack(
            rx.hstack(
                rx.icon("user_x", size=14, color="var(--orange-11)"),
                rx.text("Not let in", weight="bold", size="2"),
                rx.text("· ", R.total, size="2", color=styles.MUTED, id="refused-total"),
                rx.spacer(),
                rx.text("re-entry rule", size="1", color=styles.MUTED),
                align="center", width="100%", spacing="2",
            ),
            rx.flex(rx.foreach(R.counts, _count), wrap="wrap", gap="6px", id="refused-counts"),
            rx.cond(
                R.rows.length() > 0,
                rx.el.table(
                    rx.el.thead(rx.el.tr(*[rx.el.th(h) for h in ("QAID", "Name · why not let in", "Refused (UTC)")])),
                    rx.el.tbody(rx.foreach(R.rows, _row)),
                    class_name="drawer-table incoming-table", id="refused-table",
                ),
                rx.text("Nobody was refused in this time.", size="1", color=styles.MUTED),
            ),
            rx.cond(
                R.pages > 1,
                rx.hstack(
                    rx.spacer(),
                    rx.icon_button(rx.icon("chevron_left", size=14), size="1", variant="soft", color_scheme="gray",
                                   disabled=R.page <= 1, on_click=R.go(R.page - 1), id="refused-prev",
                                   aria_label="Previous page"),
                    rx.text("Page ", R.page, " of ", R.pages, size="1", id="refused-page"),
                    rx.icon_button(rx.icon("chevron_right", size=14), size="1", variant="soft", color_scheme="gray",
                                   disabled=R.page >= R.pages, on_click=R.go(R.page + 1), id="refused-next",
                                   aria_label="Next page"),
                    align="center", width="100%", spacing="2",
                ),
            ),
            spacing="2", width="100%", padding_top="14px", margin_top="10px", border_top=styles.BORDER,
            id="refused-section", custom_attrs={"data-total": R.total.to_string()},
        ),
    )
