"""The right-hand configuration panel of the selected component, rendered from canvas_form's rows.

One `rx.foreach` over `CanvasPanelState.rows` and an `rx.match` on each row's kind. Text fields are uncontrolled
(`default_value` + `on_blur`, keyed by the row's key), so typing sends nothing until the field is left; choices
(selects, switches, checkboxes) apply at once. Each change is one configure step on the canvas (undo-able), and
the red dot / dashed line follow live. Secret fields are write-only: "set · replace" or an empty password box
whose value goes straight to the secret service and never comes back (CanvasConfigState.set_secret).
"""

import re

import reflex as rx

from marketing_app import styles
from marketing_app.states import canvas_model as model
from marketing_app.states.canvas_config import CanvasConfigState
from marketing_app.states.canvas_form import Choice, FieldRow
from marketing_app.states.canvas_message_templates import CanvasMessageTemplateState
from marketing_app.states.canvas_panel import CanvasPanelState
from marketing_app.views.activity_pacing import touch_pacing
from marketing_app.views.template_bar import template_bar

S = CanvasConfigState  # the events: each edit is a configure step on the canvas's graph
P = CanvasPanelState  # what the panel shows (its own state: a graph change does not re-render the panel)
PANEL_WIDTH = "372px"


def _indent(row: rx.Var[FieldRow]) -> rx.Var[str]:
    return (row.depth * 14).to_string() + "px"


def _label(row: rx.Var[FieldRow]) -> rx.Component:
    return rx.hstack(
        rx.text(row.label, size="2", weight="medium"),
        rx.cond(row.required, rx.text("*", size="2", color="var(--red-9)")),
        rx.spacer(),
        rx.cond(row.count != "", rx.text(row.count, size="1", color=styles.MUTED)),
        spacing="1",
        align="center",
        width="100%",
    )


def _help_and_error(row: rx.Var[FieldRow]) -> rx.Component:
    return rx.fragment(
        rx.cond(row.error != "", rx.text(row.error, size="1", color="var(--red-11)", class_name="field-error"),
                rx.cond(row.help != "", rx.text(row.help, size="1", color=styles.MUTED))),
    )


def _wrap(row: rx.Var[FieldRow], *children: rx.Component) -> rx.Component:
    return rx.vstack(*children, spacing="1", width="100%", padding_left=_indent(row), class_name="panel-field",
                     custom_attrs={"data-path": row.path, "data-kind": row.kind})


def _text(row: rx.Var[FieldRow]) -> rx.Component:
    return _wrap(row, _label(row),
                 rx.input(default_value=row.value, key=row.key, on_blur=lambda v: S.set_field(row.path, v),
                          read_only=P.read_only, width="100%", placeholder=row.placeholder,
                          color_scheme=rx.cond(row.error != "", "red", "gray")),
                 _help_and_error(row))


def _number(row: rx.Var[FieldRow]) -> rx.Component:
    return _wrap(row, _label(row),
                 rx.input(default_value=row.value, key=row.key, on_blur=lambda v: S.set_field(row.path, v),
                          read_only=P.read_only, type="number", width="100%", placeholder=row.placeholder),
                 _help_and_error(row))


def _ratio(row: rx.Var[FieldRow]) -> rx.Component:
    return _wrap(row, rx.hstack(
        rx.text(row.label, size="2", weight="medium", flex="1"),
        rx.input(default_value=row.value, key=row.key, on_blur=lambda v: S.set_field(row.path, v),
                 read_only=P.read_only, type="number", width="84px", min="1", max="99",
                 class_name="ratio-input"),
        rx.text("%", size="2", color=styles.MUTED),
        align="center", width="100%", spacing="2",
    ), rx.cond(row.error != "", rx.text(row.error, size="1", color="var(--red-11)")))


def _time(row: rx.Var[FieldRow]) -> rx.Component:
    return _wrap(row, _label(row),
                 # a time box keeps the focus while Tab moves between its hours and minutes: apply on change
                 rx.input(default_value=row.value, key=row.key, on_change=lambda v: S.set_field(row.path, v),
                          read_only=P.read_only, type="time", width="140px"),
                 _help_and_error(row))


def _textarea(row: rx.Var[FieldRow]) -> rx.Component:
    return _wrap(row, _label(row),
                 rx.text_area(default_value=row.value, key=row.key, on_blur=lambda v: S.set_field(row.path, v),
                              read_only=P.read_only, width="100%", rows="5"),
                 _help_and_error(row))


def _chip(row: rx.Var[FieldRow], chip: rx.Var[str]) -> rx.Component:
    return rx.button(chip, size="1", variant="soft", color_scheme=rx.cond(chip == "{short_link}", "indigo", "gray"),
                     radius="full", on_click=S.insert_variable(row.path, chip), disabled=P.read_only,
                     class_name="var-chip", custom_attrs={"data-var": chip}, type="button")


def _message(row: rx.Var[FieldRow]) -> rx.Component:
    return _wrap(
        row, _label(row),
        rx.box(
            rx.text_area(default_value=row.value, key=row.key, on_blur=lambda v: S.set_field(row.path, v),
                         read_only=P.read_only, width="100%", rows="5", variant="soft", color_scheme="gray",
                         placeholder="Write the message; click a variable to add it",
                         class_name="message-input"),
            rx.hstack(rx.text("Insert", size="1", color=styles.MUTED), rx.foreach(row.chips, lambda c: _chip(row, c)),
                      spacing="1", align="center", wrap="wrap", padding="6px 8px"),
            width="100%", border=styles.BORDER, border_radius="8px", overflow="hidden",
            background="var(--gray-a2)",
        ),
        _help_and_error(row),
    )


def _select_item(choice: rx.Var[Choice]) -> rx.Component:
    return rx.select.item(choice.label, value=choice.value)


def _select(row: rx.Var[FieldRow]) -> rx.Component:
    return _wrap(row, _label(row),
                 rx.select.root(
                     rx.select.trigger(placeholder=row.placeholder, width="100%",
                                       custom_attrs={"data-select": row.path}),
                     rx.select.content(rx.foreach(row.options, _select_item), position="popper"),
                     value=row.value, on_change=lambda v: S.set_field(row.path, v), disabled=P.read_only,
                 ),
                 _help_and_error(row))


def _switch(row: rx.Var[FieldRow]) -> rx.Component:
    return _wrap(row, rx.hstack(
        rx.switch(checked=row.checked, on_change=lambda c: S.set_switch(row.path, c), disabled=P.read_only,
                  custom_attrs={"data-switch": row.path}),
        rx.text(row.label, size="2"),
        spacing="2", align="center",
    ), _help_and_error(row))


def _multi(row: rx.Var[FieldRow]) -> rx.Component:
    def choice(c: rx.Var[Choice]) -> rx.Component:
        return rx.el.label(
            rx.checkbox(checked=c.checked, on_change=lambda _v: S.toggle_choice(row.path, c.value), size="1",
                        disabled=P.read_only),
            rx.text(c.label, size="2"),
            class_name="multi-choice",
            custom_attrs={"data-choice": c.value},
        )

    return _wrap(row, _label(row), rx.flex(rx.foreach(row.options, choice), wrap="wrap", gap="6px 14px"),
                 _help_and_error(row))


def _section(row: rx.Var[FieldRow]) -> rx.Component:
    return _wrap(row, rx.hstack(
        rx.text(row.label, size="2", weight="bold"),
        rx.cond(row.required, rx.text("*", size="2", color="var(--red-9)")),
        spacing="1", align="center", margin_top="6px",
    ), rx.cond(row.error != "", rx.text(row.error, size="1", color="var(--red-11)"),
               rx.cond(row.help != "", rx.text(row.help, size="1", color=styles.MUTED))))


def _remove(on_click, label: str = "Remove") -> rx.Component:
    return rx.icon_button(rx.icon("x", size=13), size="1", variant="ghost", color_scheme="gray", on_click=on_click,
                          title=label, class_name="remove-item", type="button")


def _item(row: rx.Var[FieldRow]) -> rx.Component:
    return rx.hstack(
        rx.box(width="6px", height="6px", border_radius="2px", background="var(--accent-9)"),
        rx.text(row.label, size="1", weight="bold", color="var(--gray-11)", class_name="item-title"),
        rx.spacer(),
        rx.cond(row.removable & ~P.read_only, _remove(S.remove_item(row.path))),
        align="center", spacing="2", width="100%", padding_left=_indent(row), margin_top="8px",
        padding_top="8px", border_top="1px dashed var(--gray-a5)", class_name="panel-item",
        custom_attrs={"data-path": row.path},
    )


def _cond(row: rx.Var[FieldRow]) -> rx.Component:
    op = rx.select.root(
        rx.select.trigger(width="124px", custom_attrs={"data-select": row.path + ".op"}),
        rx.select.content(rx.foreach(row.options, _select_item), position="popper"),
        value=row.value2, on_change=lambda v: S.set_field(row.path + ".op", v), disabled=P.read_only, size="1",
    )
    return rx.vstack(
        rx.hstack(
            rx.cond(row.subject != "",
                    rx.input(default_value=row.value, key=row.key + ".s", placeholder=row.subject_label,
                             on_blur=lambda v: S.set_field(row.path + "." + row.subject, v), read_only=P.read_only,
                             size="1", flex="1", min_width="0", class_name="cond-subject")),
            op,
            rx.cond(row.value2 != "exists",
                    rx.input(default_value=row.value3, key=row.key + ".v" + row.value2, placeholder=row.placeholder,
                             on_blur=lambda v: S.set_field(row.path + ".value", v), read_only=P.read_only, size="1",
                             flex="1", min_width="0", class_name="cond-value")),
            rx.cond(row.removable & ~P.read_only, _remove(S.remove_item(row.path))),
            spacing="1", align="center", width="100%",
        ),
        rx.cond(row.error != "", rx.text(row.error, size="1", color="var(--red-11)", class_name="field-error")),
        spacing="1", width="100%", padding_left=_indent(row), class_name="panel-cond",
        custom_attrs={"data-path": row.path},
    )


def _kv(row: rx.Var[FieldRow]) -> rx.Component:
    return rx.hstack(
        rx.input(default_value=row.value, key=row.key + ".k", placeholder="name",
                 on_blur=lambda v: S.rename_pair(row.path, row.index, v), read_only=P.read_only, size="1", flex="1"),
        rx.input(default_value=row.value2, key=row.key + ".v", placeholder="value",
                 on_blur=lambda v: S.set_pair(row.path, row.index, v), read_only=P.read_only, size="1", flex="2"),
        rx.cond(~P.read_only, _remove(S.remove_pair(row.path, row.index))),
        spacing="1", align="center", width="100%", padding_left=_indent(row), class_name="panel-kv",
    )


def _secret_input(row: rx.Var[FieldRow], **props) -> rx.Component:
    """Write-only: an uncontrolled password box whose value goes to the secret service on blur and is never
    sent back (no value is bound to it; the row only knows "set", "not copied" or "", in `value3`)."""
    return rx.input(type="password", key=row.key, default_value="", auto_complete="new-password",
                    placeholder=rx.cond(row.value3 == "set", "new value (the one set is kept if left empty)",
                                        rx.cond(row.value3 == "not copied", "not copied: set your own", "not set")),
                    on_blur=lambda v: S.set_secret(row.path, row.index, v), auto_focus=row.value3 == "set",
                    class_name="secret-input", **props)


def _secret_status(row: rx.Var[FieldRow]) -> rx.Component:
    """"set · replace" for a secret that is set; "not copied" (red) for a copy's, which must set its own."""
    return rx.cond(
        row.value3 == "set",
        rx.hstack(rx.text("set", size="2", color="var(--green-11)", class_name="secret-set"),
                  rx.cond(~P.read_only, rx.fragment(
                      rx.text("·", size="2", color=styles.MUTED),
                      rx.link("replace", size="2", on_click=S.replace_secret(row.path, row.index),
                              class_name="secret-replace", cursor="pointer"))),
                  spacing="1", align="center"),
        rx.cond(P.read_only,  # editing: the box's placeholder and the field's problem say it
                rx.text(rx.cond(row.value3 == "not copied", "not copied", "not set"), size="2",
                        color=styles.MUTED)),
    )


def _secret(row: rx.Var[FieldRow]) -> rx.Component:
    return _wrap(row, _label(row), _secret_status(row),
                 rx.cond(row.checked & ~P.read_only, _secret_input(row, width="100%")),
                 _help_and_error(row))


def _kv_secret(row: rx.Var[FieldRow]) -> rx.Component:
    return rx.hstack(
        rx.input(default_value=row.value, key=row.key + ".k", placeholder="name",
                 on_blur=lambda v: S.rename_pair(row.path, row.index, v), read_only=P.read_only, size="1", flex="1"),
        rx.box(rx.cond(row.checked & ~P.read_only, _secret_input(row, size="1", width="100%"),
                       _secret_status(row)), flex="2"),
        rx.cond(~P.read_only, _remove(S.remove_pair(row.path, row.index))),
        spacing="1", align="center", width="100%", padding_left=_indent(row), class_name="panel-kv panel-kv-secret",
        custom_attrs={"data-kind": "kv-secret"},
    )


def _add(row: rx.Var[FieldRow], handler) -> rx.Component:
    return rx.cond(
        ~P.read_only,
        rx.box(rx.button(rx.icon("plus", size=13), row.label, size="1", variant="ghost", on_click=handler,
                         class_name="add-item", custom_attrs={"data-path": row.path}, type="button"),
               padding_left=_indent(row)),
    )


def _total(row: rx.Var[FieldRow]) -> rx.Component:
    return rx.hstack(
        rx.icon(rx.cond(row.ok, "circle_check", "circle_alert"), size=14,
                color=rx.cond(row.ok, "var(--green-10)", "var(--red-10)")),
        rx.text(row.label, size="2", weight="medium", color=rx.cond(row.ok, "var(--green-11)", "var(--red-11)"),
                class_name="ratio-total"),
        rx.text(row.help, size="1", color=styles.MUTED),
        spacing="2", align="center", padding_left=_indent(row), padding_y="4px",
    )


def _row(row: rx.Var[FieldRow]) -> rx.Component:
    return rx.match(
        row.kind,
        ("text", _text(row)),
        ("number", _number(row)),
        ("ratio", _ratio(row)),
        ("time", _time(row)),
        ("textarea", _textarea(row)),
        ("message", _message(row)),
        ("select", _select(row)),
        ("switch", _switch(row)),
        ("multi", _multi(row)),
        ("section", _section(row)),
        ("item", _item(row)),
        ("cond", _cond(row)),
        ("kv", _kv(row)),
        ("secret", _secret(row)),
        ("kv-secret", _kv_secret(row)),
        ("add", _add(row, S.add_item(row.path))),
        ("add-kv", _add(row, S.add_pair(row.path))),
        ("total", _total(row)),
        rx.fragment(),
    )


def _status() -> rx.Component:
    return rx.cond(
        P.issues > 0,
        rx.box(
            rx.hstack(rx.icon("circle_alert", size=15), rx.text("Not configured yet", weight="bold", size="2"),
                      rx.spacer(),
                      rx.text(P.issues, rx.cond(P.issues == 1, " thing", " things"), " to fix",
                              size="1"),
                      spacing="2", align="center", width="100%"),
            rx.el.ul(rx.foreach(P.problems, lambda p: rx.el.li(p)), class_name="panel-problems"),
            class_name="panel-status bad", id="panel-status",
        ),
        rx.cond(P.kind != "end",
                rx.hstack(rx.icon("circle_check", size=15), rx.text("Configured", weight="bold", size="2"),
                          spacing="2", align="center", class_name="panel-status good", id="panel-status")),
    )


#: rx.icon names of the lucide icons the canvas cards use (each component type's meta.icon)
_ICON_NAMES = {t: re.sub(r"(?<!^)(?=[A-Z0-9])", "_", name).lower() for t, name in model.icons().items()}
_CATEGORY_COLORS = {"trigger": "violet", "touch": "blue", "control": "amber", "judgment": "teal", "push": "orange"}


def _panel_icon() -> rx.Component:
    return rx.center(
        rx.match(P.kind, *[(t, rx.icon(name, size=18)) for t, name in _ICON_NAMES.items()], rx.icon("box")),
        width="36px", height="36px", border_radius="10px", flex="none",
        background=rx.match(P.icon, *[(k, f"var(--{c}-a3)") for k, c in _CATEGORY_COLORS.items()],
                            "var(--gray-a3)"),
        color=rx.match(P.icon, *[(k, f"var(--{c}-11)") for k, c in _CATEGORY_COLORS.items()], "var(--gray-11)"),
    )


def config_panel() -> rx.Component:
    return rx.cond(
        P.node_id != "",
        rx.vstack(
            rx.hstack(
                _panel_icon(),
                rx.vstack(
                    rx.text(P.title, weight="bold", size="3", id="panel-title"),
                    rx.text(P.category, " · ", P.node_id, size="1", color=styles.MUTED),
                    spacing="0",
                ),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", size="2",
                               on_click=S.close_panel, id="panel-close", title="Close"),
                align="center", width="100%", padding="14px 16px", border_bottom=styles.BORDER, spacing="3",
            ),
            rx.scroll_area(
                rx.vstack(
                    _status(),
                    rx.cond((P.icon == "touch") | (P.icon == "push"), touch_pacing()),
                    rx.cond(P.templates,
                            template_bar(CanvasMessageTemplateState, channel=P.kind, read_only=P.read_only)),
                    rx.cond(P.kind == "end",
                            rx.text("End has nothing to configure: customers leave the flow here.", size="2",
                                    color=styles.MUTED)),
                    rx.foreach(P.rows, _row),
                    spacing="3", width="100%", padding="16px", padding_bottom="40px",
                ),
                type="auto", scrollbars="vertical", flex="1", min_height="0",
            ),
            spacing="0",
            width=PANEL_WIDTH,
            flex="none",
            height="100%",
            background=styles.PANEL_BG,
            border_left=styles.BORDER,
            id="config-panel",
            custom_attrs={"data-type": P.kind},
        ),
    )
