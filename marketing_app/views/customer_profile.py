"""A customer's profile sections: contact fields (consent per channel: views/customer_consent.py), attributes
and tags (editable by admins), behaviour events, the rounds entered with route and result, the messages sent,
and the admins' delete (the right to be forgotten), each dialog a small form."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.guarded import guarded_button
from marketing_app.states.customer_profile import CustomerProfileState

S = CustomerProfileState

STATUS_COLORS = {"success": "green", "failure": "red", "in_flow": "blue"}
RESULT_COLORS = {"success": "green", "failed": "red", "pending": "amber", "opted_out": "gray"}


def _section(title: str, *children: rx.Component, action: rx.Component | None = None,
             section_id: str = "", hint: rx.Component | None = None) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading(title, size="3"), rx.spacer(), *([action] if action is not None else []),
                  align="center", width="100%"),
        *([hint] if hint is not None else []),
        *children,
        class_name="panel section",
        spacing="3",
        width="100%",
        id=section_id,
    )


def _field(label: str, value: rx.Var[str], field_id: str, note: rx.Var[str] | None = None) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", class_name="muted"),
        rx.text(value, size="2", weight="medium", id=field_id, class_name="field-value"),
        *([rx.cond(note != "", rx.text(note, size="1", class_name="muted"))] if note is not None else []),
        spacing="1",
        min_width="0",
    )


def _empty(text: str | rx.Var[str], empty_id: str) -> rx.Component:
    return rx.text(text, size="2", class_name="muted", id=empty_id)


def header() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.link(rx.hstack(rx.icon("arrow_left", size=14), rx.text("Customers", size="2"), align="center",
                              spacing="1"), href="/customers", class_name="back-link", id="back-to-customers"),
            rx.heading(S.head["qaid"], size="6", id="page-title"),
            rx.text(S.head["name"], size="2", class_name="muted", id="customer-name"),
            spacing="1",
        ),
        rx.spacer(),
        guarded_button("Delete customer", reason=S.edit_refusal, on_click=S.ask_delete, action="delete",
                       icon="trash_2", color="red", variant="soft", size="2"),
        align="end",
        width="100%",
    )


def contact() -> rx.Component:
    return _section(
        "Profile",
        rx.grid(
            _field("Phone", S.head["phone"], "customer-phone", S.head["phone_note"]),
            _field("Email", S.head["email"], "customer-email"),
            _field("WeChat OpenID", S.head["wechat"], "customer-wechat"),
            _field("Push token", S.head["push"], "customer-push"),
            _field("Time zone", S.head["timezone"], "customer-timezone"),
            _field("Created (UTC)", S.head["created"], "customer-created"),
            columns="3",
            spacing="4",
            width="100%",
        ),
        section_id="profile-contact",
    )


def attributes() -> rx.Component:
    def row(a: rx.Var[list[str]]) -> rx.Component:
        return rx.el.tr(
            rx.el.td(rx.text(a[0], weight="medium")),
            rx.el.td(rx.text(a[1], class_name="truncate", title=a[1])),
            rx.el.td(rx.cond(S.edit_refusal == "",
                             rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", color_scheme="gray",
                                            on_click=S.remove_attribute(a[0]), aria_label="Remove attribute",
                                            class_name="remove-attribute"))),
            class_name="attribute-row", custom_attrs={"data-name": a[0]},
        )
    return _section(
        "Attributes",
        rx.cond(S.attributes.length() > 0,
                rx.el.table(rx.el.tbody(rx.foreach(S.attributes, row)), class_name="plain-table attribute-table"),
                _empty("No attributes.", "attributes-empty")),
        action=guarded_button("Add attribute", reason=S.edit_refusal, on_click=S.open_attribute,
                              action="add-attribute", icon="plus", variant="soft"),
        section_id="profile-attributes",
    )


def tags() -> rx.Component:
    def tag(t: rx.Var[list[str]]) -> rx.Component:
        return rx.badge(
            rx.text(t[0], weight="medium"), rx.text("= ", t[1]),
            rx.cond(S.edit_refusal == "",
                    rx.el.button(rx.icon("x", size=11), on_click=S.remove_tag(t[0]), class_name="tag-remove",
                                 aria_label="Remove tag")),
            variant="soft", color_scheme="indigo", radius="full", size="2", class_name="tag-badge",
            title="Set " + t[2] + " UTC", custom_attrs={"data-tag": t[0], "data-value": t[1]},
        )
    return _section(
        "Tags",
        rx.cond(S.tags.length() > 0, rx.hstack(rx.foreach(S.tags, tag), spacing="2", wrap="wrap", id="tag-list"),
                _empty("No tags.", "tags-empty")),
        action=guarded_button("Add tag", reason=S.edit_refusal, on_click=S.open_tag, action="add-tag", icon="plus",
                              variant="soft"),
        section_id="profile-tags",
    )


def behaviour() -> rx.Component:
    def row(e: rx.Var[dict[str, str]]) -> rx.Component:
        return rx.el.tr(rx.el.td(e["at"], class_name="muted"), rx.el.td(rx.text(e["name"], weight="medium")),
                        rx.el.td(rx.text(e["properties"], class_name="truncate mono", title=e["properties"])),
                        class_name="event-row")
    return _section(
        "Last behaviour events",
        rx.cond(S.events.length() > 0,
                rx.el.table(rx.el.thead(rx.el.tr(rx.el.th("Time (UTC)", style={"width": "150px"}),
                                                 rx.el.th("Event", style={"width": "180px"}), rx.el.th("Properties"))),
                            rx.el.tbody(rx.foreach(S.events, row)), class_name="plain-table"),
                _empty("No behaviour events.", "events-empty")),
        section_id="profile-events",
    )


def entries() -> rx.Component:
    def row(e: rx.Var[dict[str, str]]) -> rx.Component:
        status = rx.badge(e["status_label"], color_scheme=rx.match(e["status"], *STATUS_COLORS.items(), "gray"),
                          variant="soft", radius="full", size="1")
        return rx.el.tr(
            rx.el.td(rx.link(e["activity"], href=e["href"], class_name="truncate", title=e["activity"]),
                     rx.cond(e["private"] != "", rx.text("private", size="1", class_name="muted"))),
            rx.el.td(e["round"]),
            rx.el.td(e["entered"], class_name="muted"),
            rx.el.td(rx.cond(e["reason"] != "", rx.tooltip(rx.el.span(status, class_name="status-why"),
                                                          content=e["reason"]), status)),
            rx.el.td(rx.text(e["route"], size="1", class_name="route", title=e["route"])),
            class_name="entry-row", custom_attrs={"data-record": e["record"], "data-status": e["status"]},
        )
    return _section(
        "Activities entered",
        rx.cond(S.entries.length() > 0,
                rx.el.table(rx.el.thead(rx.el.tr(rx.el.th("Activity", style={"width": "220px"}),
                                                 rx.el.th("Round", style={"width": "70px"}),
                                                 rx.el.th("Entered (UTC)", style={"width": "150px"}),
                                                 rx.el.th("Result", style={"width": "110px"}), rx.el.th("Route"))),
                            rx.el.tbody(rx.foreach(S.entries, row)), class_name="plain-table"),
                _empty("No round you can see holds this customer's details.", "entries-empty")),
        hint=rx.text("Rounds of the activities you can see, with the route taken and the result; details are kept ",
                     S.retention_days, " days.", size="1", class_name="muted"),
        section_id="profile-entries",
    )


def messages() -> rx.Component:
    def row(m: rx.Var[dict[str, str]]) -> rx.Component:
        result = rx.badge(m["result_label"], color_scheme=rx.match(m["result"], *RESULT_COLORS.items(), "gray"),
                          variant="soft", radius="full", size="1")
        return rx.el.tr(
            rx.el.td(m["at"], class_name="muted"),
            rx.el.td(rx.text(m["channel"], weight="medium")),
            rx.el.td(rx.link(m["activity"], " ", m["round"], href=m["href"], class_name="truncate")),
            rx.el.td(result),
            rx.el.td(rx.text(m["reason"], size="1", class_name="truncate", title=m["reason"])),
            class_name="message-row", custom_attrs={"data-result": m["result"], "data-node": m["node"]},
        )
    return _section(
        "Messages sent",
        rx.cond(S.messages.length() > 0,
                rx.el.table(rx.el.thead(rx.el.tr(rx.el.th("Time (UTC)", style={"width": "150px"}),
                                                 rx.el.th("Channel", style={"width": "140px"}),
                                                 rx.el.th("Activity · round", style={"width": "240px"}),
                                                 rx.el.th("Result", style={"width": "130px"}), rx.el.th("Reason"))),
                            rx.el.tbody(rx.foreach(S.messages, row)), class_name="plain-table"),
                _empty("No message you can see was sent to this customer.", "messages-empty")),
        section_id="profile-messages",
    )


def _dialog_error() -> rx.Component:
    return rx.cond(S.dialog_error != "", rx.callout(S.dialog_error, icon="triangle_alert", color_scheme="red",
                                                    size="1", id="dialog-error"))


def _buttons(label: str, button_id: str, color: str = "indigo") -> rx.Component:
    return rx.hstack(rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
                     rx.button(label, type="submit", color_scheme=color, id=button_id),
                     justify="end", spacing="3", margin_top="8px")


def tag_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Add or change a tag"),
            rx.form(rx.vstack(
                rx.input(name="tag", placeholder="Tag (e.g. membership level)", id="tag-name", width="100%"),
                rx.input(name="value", placeholder="Value (e.g. VIP)", id="tag-value", width="100%"),
                _dialog_error(), _buttons("Save", "tag-save"), spacing="3"), on_submit=S.save_tag),
            max_width="420px", id="tag-dialog",
        ),
        open=S.tag_open, on_open_change=S.set_tag_open,
    )


def attribute_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Add or change an attribute"),
            rx.dialog.description("A number, true / false or null is stored as such; anything else as text.",
                                  size="2", color=styles.MUTED, margin_bottom="8px"),
            rx.form(rx.vstack(
                rx.input(name="name", placeholder="Name (e.g. age)", id="attribute-name", width="100%"),
                rx.input(name="value", placeholder="Value", id="attribute-value", width="100%"),
                _dialog_error(), _buttons("Save", "attribute-save"), spacing="3"), on_submit=S.save_attribute),
            max_width="420px", id="attribute-dialog",
        ),
        open=S.attribute_open, on_open_change=S.set_attribute_open,
    )


def delete_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Delete this customer?"),
            rx.dialog.description(
                "The right to be forgotten: the customer, their tags, attributes, behaviour events, audience "
                "memberships and every route and message row go, and cannot be restored. The activities' "
                "counters stay. Type the QAID ", rx.code(S.head["qaid"]), " to confirm.",
                size="2", color=styles.MUTED, margin_bottom="8px"),
            rx.form(rx.vstack(
                rx.input(name="confirm", placeholder=S.head["qaid"], id="delete-confirm", width="100%",
                         auto_complete="off"),
                _dialog_error(), _buttons("Delete", "delete-ok", color="red"), spacing="3"), on_submit=S.delete),
            max_width="460px", id="delete-dialog",
        ),
        open=S.delete_open, on_open_change=S.set_delete_open,
    )
