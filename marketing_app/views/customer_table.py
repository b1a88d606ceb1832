"""The Customers page's sections: the search box, the table (sortable headers; a row opens the profile) and the
pager."""

import reflex as rx

from marketing_app.components.pager import pager
from marketing_app.states.customers import CustomersState

S = CustomersState

#: (key, header, width px, sort key or "")
COLUMNS: list[tuple[str, str, int, str]] = [
    ("qaid", "QAID", 170, "qaid"), ("name", "Name", 200, "name"), ("phone", "Phone", 170, ""),
    ("email", "Email", 0, ""), ("created", "Created (UTC)", 160, "created_at"),
]


def search_box() -> rx.Component:
    return rx.hstack(
        rx.form(
            rx.input(
                rx.input.slot(rx.icon("search", size=15)),
                name="query",
                key=S.query,
                default_value=S.query,
                placeholder="Start of a QAID, name, phone or email, then Enter",
                size="2",
                width="420px",
                id="customer-search",
                auto_complete="off",
            ),
            on_submit=S.submit_search,
            reset_on_submit=False,
            width="auto",
        ),
        rx.cond(S.query != "", rx.button("Clear", size="2", variant="ghost", color_scheme="gray",
                                         on_click=S.clear_search, id="clear-search")),
        align="center",
        spacing="3",
    )


def _th(key: str, label: str, width: int, sort: str) -> rx.Component:
    style = {"width": f"{width}px"} if width else {}
    if not sort:
        return rx.el.th(label, style=style)
    active = S.sort == sort
    arrow = rx.cond(active, rx.cond(S.descending, rx.icon("arrow_down", size=12), rx.icon("arrow_up", size=12)),
                    rx.icon("chevrons_up_down", size=12, class_name="sort-idle"))
    return rx.el.th(
        rx.el.button(label, arrow, on_click=S.sort_by(sort), class_name="sort-button",
                     custom_attrs={"data-sort": sort}),
        class_name=rx.cond(active, "sorted", ""), style=style,
        custom_attrs={"aria-sort": rx.cond(active, rx.cond(S.descending, "descending", "ascending"), "none")},
    )


def _row(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.link(r["qaid"], href=r["href"], class_name="qaid-link truncate", weight="medium")),
        rx.el.td(rx.text(r["name"], class_name="truncate", title=r["name"])),
        rx.el.td(rx.text(r["phone"], class_name="phone"), custom_attrs={"data-col": "phone"}),
        rx.el.td(rx.text(r["email"], class_name="truncate", title=r["email"])),
        rx.el.td(rx.text(r["created"], class_name="muted")),
        class_name="customer-row",
        custom_attrs={"data-id": r["id"], "data-qaid": r["qaid"]},
    )


def customer_table() -> rx.Component:
    return rx.box(
        rx.el.table(
            rx.el.thead(rx.el.tr(*[_th(*c) for c in COLUMNS])),
            rx.el.tbody(rx.foreach(S.rows, _row)),
            class_name="customer-table",
        ),
        rx.cond(S.rows.length() == 0,
                rx.center(rx.text(rx.cond(S.query != "", "No customer's QAID, name, phone or email begins with '"
                                          + S.query + "'.", "No customers yet: import a CSV or send events."),
                                  size="2", class_name="muted"),
                          padding="40px", id="customers-empty")),
        pager(S, S.total_label),
        class_name="panel table-scroll",
        id="customer-table",
    )
