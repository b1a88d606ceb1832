"""/customers: search the workspace's customers; /customers/<id>: one customer's profile (issue 15)."""

import reflex as rx

from marketing_app.states.customer_consent import ConsentState
from marketing_app.states.customer_profile import CustomerProfileState as P
from marketing_app.states.customers import ROUTE
from marketing_app.states.customers import CustomersState as S
from marketing_app.templates import template
from marketing_app.views import customer_consent
from marketing_app.views import customer_profile as profile
from marketing_app.views.customer_table import customer_table, search_box

STYLESHEET = "/customers/customers.css"


def _loading(loading_id: str) -> rx.Component:
    return rx.center(rx.spinner(size="3"), class_name="panel empty-state", id=loading_id)


def _error(var: rx.Var[str], error_id: str) -> rx.Component:
    return rx.cond(var != "", rx.callout(var, icon="triangle_alert", color_scheme="red", id=error_id, width="100%"))


@template(route=ROUTE, title="Customers", on_load=S.load)
def customers() -> rx.Component:
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        rx.vstack(
            rx.heading("Customers", size="6", id="page-title"),
            rx.text("Find a customer by the beginning of their QAID, name, phone or email, and open their profile.",
                    size="2", class_name="muted"),
            spacing="1",
        ),
        search_box(),
        _error(S.error, "customers-error"),
        rx.cond(S.loaded, customer_table(), _loading("customers-loading")),
        spacing="4",
        width="100%",
        id="customers",
    )


@template(route=ROUTE + "/[customer_id]", title="Customer", on_load=[P.load, ConsentState.load])
def customer() -> rx.Component:
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        rx.cond(
            P.loaded,
            rx.cond(
                P.error != "",
                rx.vstack(rx.link("← Customers", href=ROUTE), _error(P.error, "customer-error"), width="100%"),
                rx.vstack(
                    profile.header(),
                    profile.contact(),
                    customer_consent.section(),
                    rx.grid(profile.attributes(), profile.tags(), columns="2", spacing="4", width="100%"),
                    profile.entries(),
                    profile.messages(),
                    profile.behaviour(),
                    profile.tag_dialog(),
                    profile.attribute_dialog(),
                    profile.delete_dialog(),
                    spacing="4",
                    width="100%",
                ),
            ),
            _loading("customer-loading"),
        ),
        spacing="4",
        width="100%",
        id="customer",
    )
