"""The In Progress activities of the Dashboard: one row each, a click opens its canvas (Details)."""

import reflex as rx

from marketing_app.states.dashboard import DashboardState as S

#: (key, header, width px, numeric)
COLUMNS: list[tuple[str, str, int, bool]] = [
    ("name", "Activity", 0, False), ("channels", "Channels", 220, False), ("sends", "Sends · 24 h", 120, True),
    ("success_rate", "Success rate", 116, True), ("failed", "Failures", 100, True),
    ("started", "Started (UTC)", 150, False),
]


def _header() -> rx.Component:
    return rx.el.thead(rx.el.tr(*[
        rx.el.th(label, class_name="num" if numeric else "", style={"width": f"{width}px"} if width else {})
        for _key, label, width, numeric in COLUMNS
    ]))


def _channels(value: rx.Var[str]) -> rx.Component:
    return rx.cond(
        value != "",
        rx.hstack(rx.foreach(value.split(","), lambda c: rx.badge(c, variant="soft", color_scheme="gray",
                                                                  size="1")),
                  spacing="1", wrap="wrap"),
        rx.text("no sends", size="1", class_name="muted"),
    )


def _row(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(
            rx.link(r["name"], href=r["href"], class_name="activity-link truncate", title=r["name"],
                    on_click=rx.stop_propagation),
            rx.text(r["owner"] + " · " + r["visibility"], size="1", class_name="muted truncate"),
        ),
        rx.el.td(_channels(r["channels"])),
        rx.el.td(r["sends"], class_name="num", custom_attrs={"data-col": "sends"}),
        rx.el.td(r["success_rate"], class_name="num", custom_attrs={"data-col": "success_rate"}),
        rx.el.td(r["failed"], class_name=rx.cond(r["raw_failed"] != "0", "num failed", "num"),
                 custom_attrs={"data-col": "failed"}),
        rx.el.td(r["started"], class_name="muted-cell"),
        on_click=rx.redirect(r["href"]),
        class_name="pulse-row",
        custom_attrs={"data-id": r["id"], "data-name": r["name"], "data-sends": r["raw_sends"]},
    )


def activity_table() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("In Progress activities", size="4"),
            rx.text("click one to open its canvas", size="2", class_name="muted"),
            align="baseline",
            spacing="2",
        ),
        rx.box(
            rx.el.table(_header(), rx.el.tbody(rx.foreach(S.rows, _row)), class_name="pulse-table"),
            class_name="panel table-scroll",
        ),
        spacing="3",
        width="100%",
        id="pulse-table",
    )
