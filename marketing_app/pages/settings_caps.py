"""/settings/caps (admins, issue 16): the workspace's frequency caps — a table of rules with add / edit / delete.
Anyone else gets the service's refusal (also when they type the URL)."""

import reflex as rx

from engine.services.frequency_caps import MAX_MESSAGES_MAX, WINDOW_DAYS_MAX
from marketing_app.components.confirm_dialog import confirm_dialog
from marketing_app.components.settings_table import settings_table
from marketing_app.pages.settings import _buttons, _dialog_error, _frame, _label
from marketing_app.states.settings_caps import CHANNELS, ROUTE
from marketing_app.states.settings_caps import CapsSettingsState as C
from marketing_app.templates import template


def _row(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.text(r["channel_label"], weight="medium")),
        rx.el.td(r["most"], class_name="cap-most"),
        rx.el.td(r["days"], class_name="cap-days"),
        rx.el.td(r["text"], class_name="muted cap-text", title=r["text"]),
        rx.el.td(rx.hstack(
            rx.button("Edit", size="1", variant="soft", color_scheme="gray", class_name="edit-cap",
                      on_click=C.open_edit(r["id"], r["channel"], r["most"], r["days"])),
            rx.button("Delete", size="1", variant="soft", color_scheme="red", class_name="delete-cap",
                      on_click=C.ask_delete(r["id"], r["text"])),
            spacing="2", justify="end")),
        class_name="cap-row", custom_attrs={"data-channel": r["channel"]},
    )


def _dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(C.editing != "", "Edit frequency cap", "New frequency cap")),
            rx.form(rx.vstack(
                _label("Channel", rx.el.select(*[rx.el.option(label, value=value) for value, label in CHANNELS],
                                               value=C.channel, on_change=C.set_channel, class_name="field-select",
                                               id="cap-channel"),
                       "Any channel counts every Marketing Touch together; Data Push is never capped."),
                rx.hstack(
                    _label("At most", rx.input(name="most", default_value=C.most, key=C.form_key.to_string() + "m",
                                               id="cap-most", width="100%", auto_complete="off",
                                               input_mode="numeric"),
                           f"messages per customer (1–{MAX_MESSAGES_MAX})"),
                    _label("In", rx.input(name="days", default_value=C.days, key=C.form_key.to_string() + "d",
                                          id="cap-days", width="100%", auto_complete="off", input_mode="numeric"),
                           f"days, a sliding window (1–{WINDOW_DAYS_MAX})"),
                    spacing="3", width="100%",
                ),
                _dialog_error(C.dialog_error),
                _buttons(rx.cond(C.editing != "", "Save", "Add cap"), "cap-submit"),
                spacing="3"),
                on_submit=C.save, reset_on_submit=False),
            max_width="480px", id="cap-dialog",
        ),
        open=C.dialog_open, on_open_change=C.set_dialog_open,
    )


def _delete_dialog() -> rx.Component:
    return confirm_dialog(
        title=["Delete this frequency cap?"],
        description=[C.delete_text, ". Touches sent from now on no longer check it."],
        action="Delete", on_confirm=C.delete, action_id="delete-cap-confirm",
        open=C.delete_id != "", on_open_change=C.set_delete_open)


@template(route=ROUTE, title="Settings · Frequency caps", on_load=C.load)
def settings_caps() -> rx.Component:
    return _frame(
        C.loaded, C.refused,
        "Limit how many messages a customer receives: every rule holds at once, counted over all activities of "
        "the workspace. A capped message is not sent; the customer is counted “capped” and goes on along the "
        "flow. Transactional activities (their Basic information) are exempt.",
        rx.hstack(rx.spacer(), rx.button(rx.icon("plus", size=14), "New cap", on_click=C.open_new, id="new-cap"),
                  width="100%"),
        settings_table(columns=[("Channel", "170px"), ("At most", "90px"), ("Days", "80px"), ("Rule", ""),
                                ("", "150px")], rows=C.rows, row=_row, table_id="caps-table",
                       empty="No frequency cap: customers receive every message their activities send."),
        _dialog(),
        _delete_dialog(),
    )
