"""The table of the current page of activities (rows are plain dicts from ActivitiesState)."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.status_badge import status_badge
from marketing_app.states.activities import ActivitiesState

COLUMNS: list[tuple[str, str]] = [
    ("Name", "34%"), ("Status", "13%"), ("Owner", "13%"), ("Group", "14%"), ("Visibility", "10%"),
    ("Updated (UTC)", "16%"),
]


def _visibility(value: rx.Var[str]) -> rx.Component:
    return rx.hstack(
        rx.cond(value == "Public", rx.icon("globe", size=14), rx.icon("lock", size=14)),
        rx.text(value, size="2"),
        align="center",
        spacing="1",
        color=styles.MUTED,
    )


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(row["name"], size="2", weight="medium", class_name="activity-name"),
                rx.cond(
                    row["description"] != "",
                    rx.text(row["description"], size="1", color=styles.MUTED, trim="end"),
                ),
                spacing="1",
            ),
        ),
        rx.table.cell(status_badge(row["status"], row["status_label"])),
        rx.table.cell(rx.text(row["owner_name"], size="2")),
        rx.table.cell(rx.text(row["group_name"], size="2", color=styles.MUTED)),
        rx.table.cell(_visibility(row["visibility"])),
        rx.table.cell(rx.text(row["updated_at"], size="2", color=styles.MUTED, white_space="nowrap")),
        align="center",
        class_name="activity-row",
        _hover={"background": "var(--gray-a2)"},
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("inbox", size=28, color="var(--gray-8)"),
            rx.text("No activities here yet", weight="medium"),
            rx.text("Try another status, or clear the filter.", size="2", color=styles.MUTED),
            align="center",
            spacing="2",
        ),
        padding_y="56px",
        id="activities-empty",
    )


def activity_table() -> rx.Component:
    return rx.cond(
        ActivitiesState.rows.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(name, width=width) for name, width in COLUMNS],
                ),
            ),
            rx.table.body(rx.foreach(ActivitiesState.rows, _row)),
            variant="ghost",
            size="2",
            width="100%",
            id="activity-table",
        ),
        rx.cond(ActivitiesState.loaded, _empty(), rx.center(rx.spinner(size="3"), padding_y="56px")),
    )
