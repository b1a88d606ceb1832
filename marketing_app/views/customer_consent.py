"""The profile's "Consent and channels" section: each touch channel with its contact field, its consent status,
since when and from where; admins change it with a select per channel, everyone else reads; the latest changes
below."""

import reflex as rx

from marketing_app.states.customer_consent import ConsentState

S = ConsentState
STYLESHEET = "/customers/consent.css"
HINT = ("Unknown means allowed: a flow sends unless the customer opted out of that channel. An opted-out "
        "customer is not sent there and counts as \"Opted out\" on the component.")


def _control(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Consent of " + row["label"], class_name="consent-select"),
        rx.select.content(rx.select.item("Opted in", value="opted_in"), rx.select.item("Opted out", value="opted_out"),
                          rx.select.item("Unknown (allowed)", value="unknown")),
        value=row["status"], on_change=lambda value: S.change(row["channel"], value), size="1",
    )


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.text(row["label"], weight="medium")),
        rx.el.td(rx.hstack(rx.cond(row["reachable"] != "", rx.icon("check", size=13, color="var(--green-11)"),
                                   rx.icon("x", size=13, color="var(--gray-9)")),
                           rx.text(row["field"], size="1", class_name="muted"), spacing="1", align="center"),
                 title=rx.cond(row["reachable"] != "", "Reachable: the contact field is set",
                               "Not reachable: no " + row["field"])),
        rx.el.td(rx.cond(S.can_edit, _control(row),
                         rx.badge(row["status_label"], color_scheme=row["color"], variant="soft", radius="full"))),
        rx.el.td(row["since"], class_name="muted"),
        rx.el.td(row["source"]),
        class_name="consent-row",
        custom_attrs={"data-channel": row["channel"], "data-status": row["status"], "data-field": row["field"],
                      "data-reachable": row["reachable"]},
    )


def _history() -> rx.Component:
    def line(h: rx.Var[dict[str, str]]) -> rx.Component:
        return rx.el.li(rx.el.span(h["at"], class_name="muted"), " · ", rx.el.strong(h["label"]), " · ",
                        h["change"], " · ", h["source"], rx.cond(h["note"] != "", rx.el.span(" · ", h["note"])),
                        class_name="consent-change")
    return rx.cond(S.history.length() > 0,
                   rx.el.details(rx.el.summary("History (", S.history.length(), ")"),
                                 rx.el.ul(rx.foreach(S.history, line), class_name="consent-history"),
                                 id="consent-history"))


def section() -> rx.Component:
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        rx.hstack(rx.heading("Consent and channels", size="3"), rx.spacer(),
                  rx.cond(~S.can_edit, rx.badge("Read-only", variant="soft", color_scheme="gray", title=S.refusal,
                                                id="consent-readonly")),
                  align="center", width="100%"),
        rx.text(HINT, size="1", class_name="muted", id="consent-note"),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle_alert", color_scheme="red", width="100%")),
        rx.el.table(
            rx.el.thead(rx.el.tr(rx.el.th("Channel"), rx.el.th("Contact"), rx.el.th("Consent"), rx.el.th("Since (UTC)"),
                                 rx.el.th("Source"))),
            rx.el.tbody(rx.foreach(S.rows, _row)),
            class_name="plain-table consent-table",
        ),
        _history(),
        class_name="panel section",
        spacing="3",
        width="100%",
        id="profile-consent",
    )
