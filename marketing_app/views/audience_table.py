"""The Audiences list's sections: filters, the table (sortable headers, used-by links to the canvas, Edit and
Delete) and the pager, and the delete confirmation that shows the service's refusal."""

import reflex as rx

from marketing_app.components.pager import pager
from marketing_app.states.audiences import KINDS
from marketing_app.states.audiences import AudiencesState as S
from marketing_app.states.auth import AuthState

KIND_COLORS = {"rule": "indigo", "imported": "cyan", "generated": "amber"}
#: (key, header, width px, sort key or "", numeric)
COLUMNS: list[tuple[str, str, int, str, bool]] = [
    ("name", "Name", 0, "name", False), ("kind", "Kind", 110, "kind", False), ("size", "Size", 150, "", True),
    ("creator", "Creator", 130, "creator", False), ("used", "Used by", 260, "", False),
    ("updated", "Updated", 140, "updated", False), ("actions", "", 130, "", False),
]


def filters() -> rx.Component:
    return rx.hstack(
        rx.form(
            rx.input(rx.input.slot(rx.icon("search", size=15)), name="search", key=S.search, default_value=S.search,
                     placeholder="Search audience names, press Enter", size="2", width="280px",
                     id="audience-search", auto_complete="off"),
            on_submit=S.submit_search, reset_on_submit=False, width="auto",
        ),
        rx.select.root(
            rx.select.trigger(id="kind-filter", min_width="150px"),
            rx.select.content(*[rx.select.item(label, value=key) for key, label in KINDS]),
            value=S.kind, on_change=S.set_kind, size="2",
        ),
        rx.cond(S.filtered, rx.button("Reset", size="2", variant="ghost", color_scheme="gray",
                                      on_click=S.reset_filters, id="reset-filters")),
        align="center", spacing="3", wrap="wrap",
    )


def _th(key: str, label: str, width: int, sort: str, numeric: bool) -> rx.Component:
    style = {"width": f"{width}px"} if width else {}
    css = "num" if numeric else ""
    if not sort:
        return rx.el.th(label, class_name=css, style=style)
    active = S.sort == sort
    arrow = rx.cond(active, rx.cond(S.descending, rx.icon("arrow_down", size=12), rx.icon("arrow_up", size=12)),
                    rx.icon("chevrons_up_down", size=12, class_name="sort-idle"))
    return rx.el.th(
        rx.el.button(label, arrow, on_click=S.sort_by(sort), class_name="sort-button",
                     custom_attrs={"data-sort": sort}),
        class_name=rx.cond(active, f"{css} sorted", css), style=style,
        custom_attrs={"aria-sort": rx.cond(active, rx.cond(S.descending, "descending", "ascending"), "none")},
    )


def _used_by(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.box(
        rx.foreach(S.used, lambda u: rx.cond(
            u[0] == r["id"],
            rx.tooltip(rx.link(u[3], href=u[2], size="2", class_name="used-link", custom_attrs={"data-activity": u[1]}),
                       content=u[4]),
        )),
        rx.cond(r["used_hidden"] != "", rx.text(r["used_hidden"], size="1", class_name="muted", as_="span")),
        rx.cond(r["used_count"] == "0", rx.text("—", class_name="muted", as_="span")),
        class_name="used-by",
    )


def _row(r: rx.Var[dict[str, str]]) -> rx.Component:
    writer = AuthState.role != "manager"
    return rx.el.tr(
        rx.el.td(rx.text(r["name"], class_name="truncate", title=r["name"], weight="medium", size="2"),
                 rx.text(r["source"], size="1", class_name="muted truncate", title=r["source"])),
        rx.el.td(rx.badge(r["kind_label"], color_scheme=rx.match(r["kind"], *KIND_COLORS.items(), "gray"),
                          variant="soft", radius="full", class_name="kind-badge")),
        rx.el.td(rx.text(r["size"], size="2"), rx.text(r["size_note"], size="1", class_name="muted"),
                 class_name="num", custom_attrs={"data-col": "size"}),
        rx.el.td(rx.text(r["creator"], size="2", class_name="truncate")),
        rx.el.td(_used_by(r), custom_attrs={"data-col": "used"}),
        rx.el.td(rx.text(r["updated"], size="2")),
        rx.el.td(rx.hstack(
            rx.cond(r["editable"] != "",
                    rx.link(rx.button(rx.cond(writer, "Edit", "View"), size="1", variant="soft", class_name="edit"),
                            href="/audiences/" + r["id"])),
            rx.cond(writer, rx.button("Delete", size="1", variant="soft", color_scheme="red", class_name="delete",
                                      on_click=S.ask_delete(r["id"], r["name"]))),
            spacing="2")),
        class_name="audience-row",
        custom_attrs={"data-id": r["id"], "data-name": r["name"], "data-kind": r["kind"],
                      "data-size": r["raw_size"]},
    )


def audience_table() -> rx.Component:
    return rx.box(
        rx.el.table(
            rx.el.thead(rx.el.tr(*[_th(*c) for c in COLUMNS])),
            rx.el.tbody(rx.foreach(S.rows, _row)),
            class_name="audience-table",
        ),
        rx.cond(S.rows.length() == 0,
                rx.center(rx.text(rx.cond(S.filtered, "No audience matches these filters.",
                                          "No audience yet: build a rule or import a CSV."),
                                  size="2", class_name="muted"), padding="40px", id="audiences-empty")),
        pager(S),
        class_name="panel",
        id="audience-table",
    )


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete audience"),
            rx.alert_dialog.description("Delete “", S.deleting_name, "”? Its members list goes too."),
            rx.cond(S.delete_error != "",
                    rx.callout(S.delete_error, icon="triangle_alert", color_scheme="red", id="delete-error",
                               margin_top="12px")),
            rx.hstack(
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.cancel_delete,
                          id="cancel-delete"),
                rx.button("Delete", color_scheme="red", on_click=S.confirm_delete, id="confirm-delete",
                          disabled=S.delete_error != ""),
                justify="end", spacing="3", margin_top="16px",
            ),
            id="delete-dialog",
        ),
        open=S.deleting != "",
    )
