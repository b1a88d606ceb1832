"""/settings/channels (admins): per channel its settings over the environment's defaults (secrets write-only:
"set · replace"), a test message, and below them the outbound allow-list. Anyone else gets the service's refusal
(also when they type the URL)."""

import reflex as rx

from engine.channels.config import FIELDS, GROUPS, FieldSpec
from engine.services.channel_settings import TEST_TARGETS
from marketing_app import styles
from marketing_app.components.settings_nav import settings_nav
from marketing_app.states.settings_channels import ROUTE
from marketing_app.states.settings_channels import ChannelSettingsState as S
from marketing_app.templates import template
from marketing_app.views.channel_limits import channel_limits_section

_INTRO = {
    "email": "Email components send through this SMTP server.",
    "provider": "Text SMS, digital SMS, WeChat, template messages and app push go to this provider.",
    "webhook": "What a Webhook component uses unless it sets its own.",
    "kafka": "The brokers and credentials of Push Kafka components that name no servers of their own.",
}


def _source(name: str) -> rx.Component:
    return rx.cond(
        S.sources[name] == "workspace",
        rx.badge("this workspace", color_scheme="blue", variant="soft", size="1"),
        rx.badge("default", color_scheme="gray", variant="soft", size="1"),
    )


def _label(spec: FieldSpec) -> rx.Component:
    return rx.hstack(rx.text(spec.label, size="2", weight="medium"), _source(spec.name), spacing="2",
                     align="center")


def _help(spec: FieldSpec) -> rx.Component:
    return rx.text(spec.help, size="1", color=styles.MUTED) if spec.help else rx.fragment()


def _secret(spec: FieldSpec) -> rx.Component:
    """Write-only: "set · replace" (the box opens on replace) or an empty password box; no value is bound to it."""
    box = rx.input(type="password", default_value="", auto_complete="new-password",
                   placeholder=rx.cond(S.secret_states[spec.name] == "set",
                                       "new value (the one set is kept if left empty)", "not set"),
                   id=f"field-{spec.name}", width="100%", key=S.form_key.to_string() + spec.name)
    is_set = S.secret_states[spec.name] == "set"
    return rx.vstack(
        _label(spec),
        rx.cond(is_set, rx.hstack(
            rx.text("set", size="2", color="var(--green-11)", class_name="secret-set",
                    id=f"secret-state-{spec.name}"),
            rx.text("·", size="2", color=styles.MUTED),
            rx.link("replace", size="2", on_click=S.replace_secret(spec.name), cursor="pointer",
                    id=f"replace-{spec.name}"),
            spacing="1", align="center"),
            rx.text("not set", size="2", color=styles.MUTED, id=f"secret-state-{spec.name}")),
        rx.cond(~is_set | S.replacing.contains(spec.name), box),
        _help(spec),
        spacing="1", width="100%",
    )


def _plain(spec: FieldSpec) -> rx.Component:
    key = S.form_key.to_string() + spec.name
    if spec.kind == "bool":
        control: rx.Component = rx.switch(default_checked=S.values[spec.name] == "true",
                                           key=key, id=f"field-{spec.name}")
    elif spec.kind == "choice":
        control = rx.el.select(
            *[rx.el.option(choice or "(default of the client)", value=choice) for choice in spec.choices],
            default_value=S.values[spec.name], key=key, id=f"field-{spec.name}", class_name="native-select",
            style={"height": "32px", "border": styles.BORDER, "border_radius": "6px", "padding": "0 8px",
                   "background": styles.PANEL_BG, "width": "100%"},
        )
    else:
        control = rx.input(default_value=S.values[spec.name], key=key, id=f"field-{spec.name}",
                           type="number" if spec.kind in ("int", "float") else "text",
                           step="any" if spec.kind == "float" else None, width="100%")
    return rx.vstack(_label(spec), control, _help(spec), spacing="1", width="100%")


def _field(spec: FieldSpec) -> rx.Component:
    return _secret(spec) if spec.secret else _plain(spec)


def _test(group: str) -> rx.Component:
    targets = [t for t in TEST_TARGETS.values() if t.group == group]
    picker: rx.Component = rx.fragment()
    if len(targets) > 1:
        picker = rx.el.select(
            *[rx.el.option(t.label, value=t.key) for t in targets],
            value=S.test_target[group], on_change=lambda v: S.set_test_target(group, v),
            id=f"test-target-{group}",
            style={"height": "32px", "border": styles.BORDER, "border_radius": "6px", "padding": "0 8px",
                   "background": styles.PANEL_BG},
        )
    result = S.test_results[group]
    return rx.vstack(
        rx.text("Send a test message", size="2", weight="medium"),
        rx.hstack(
            picker,
            rx.input(placeholder=" / ".join(t.to_label for t in targets), value=S.test_to[group],
                     on_change=lambda v: S.set_test_to(group, v), id=f"test-to-{group}", flex="1"),
            rx.button("Send test", on_click=S.send_test(group), loading=S.testing == group, variant="soft",
                      id=f"test-send-{group}"),
            spacing="2", width="100%", align="center",
        ),
        rx.cond(result != "", rx.callout(result, icon=rx.cond(S.test_ok[group], "circle_check", "triangle_alert"),
                                         color_scheme=rx.cond(S.test_ok[group], "green", "red"), size="1",
                                         id=f"test-result-{group}", width="100%")),
        spacing="2", width="100%", padding_top="12px", border_top=styles.BORDER,
    )


def _group(key: str, label: str) -> rx.Component:
    specs = [f for f in FIELDS if f.group == key]
    error = S.errors[key]
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.vstack(rx.heading(label, size="4"), rx.text(_INTRO[key], size="2", color=styles.MUTED),
                          spacing="1"),
                rx.spacer(),
                rx.button("Reset to defaults", variant="ghost", color_scheme="gray", size="1",
                          on_click=S.reset_group(key), id=f"reset-{key}"),
                width="100%", align="start",
            ),
            rx.form(
                rx.el.input(type="hidden", name="group", value=key),
                rx.grid(*[_field(spec) for spec in specs], columns="2", spacing="4", width="100%"),
                rx.cond(error != "", rx.callout(error, icon="triangle_alert", color_scheme="red", size="1",
                                                id=f"save-error-{key}", width="100%", margin_top="12px")),
                rx.hstack(rx.button("Save", type="submit", id=f"save-{key}"), justify="end", width="100%",
                          margin_top="12px"),
                on_submit=S.save, reset_on_submit=False, width="100%", id=f"form-{key}",
            ),
            _test(key),
            spacing="3", width="100%",
        ),
        id=f"channel-{key}", width="100%", padding="16px", style=styles.panel_style,
    )


def _allow_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(row["entry"])),
        rx.table.cell(row["note"]),
        rx.table.cell(row["added"]),
        rx.table.cell(rx.button("Remove", size="1", variant="ghost", color_scheme="red",
                                on_click=S.remove_allow(row["id"]))),
        custom_attrs={"data-entry": row["entry"]}, class_name="allow-row",
    )


def _allow_list() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.heading("Outbound allow-list", size="4"),
            rx.text("Webhooks, Kafka producers and the hosts above never reach loopback, private, link-local or "
                    "cloud-metadata addresses, unless the host is listed here (a name, an address or a network, "
                    "optionally with :port). Entries from OUTBOUND_ALLOW in the environment apply too.",
                    size="2", color=styles.MUTED),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h)
                                               for h in ("Host / network", "Note", "Added (UTC)", "")])),
                rx.table.body(rx.foreach(S.allow_rows, _allow_row)),
                width="100%", id="allow-table",
            ),
            rx.cond(S.allow_rows.length() == 0, rx.text("Nothing allow-listed.", size="2", color=styles.MUTED)),
            rx.form(
                rx.hstack(
                    rx.input(name="entry", placeholder="crm.internal, 10.20.0.0/16 or 127.0.0.1:8099",
                             id="allow-entry", flex="1", key=S.allow_key.to_string() + "entry"),
                    rx.input(name="note", placeholder="Why (optional)", id="allow-note", flex="1",
                             key=S.allow_key.to_string() + "note"),
                    rx.button("Allow", type="submit", id="allow-add"),
                    spacing="2", width="100%",
                ),
                on_submit=S.add_allow, reset_on_submit=False, width="100%",
            ),
            rx.cond(S.allow_error != "", rx.callout(S.allow_error, icon="triangle_alert", color_scheme="red",
                                                    size="1", id="allow-error")),
            spacing="3", width="100%",
        ),
        id="outbound-allow", width="100%", padding="16px", style=styles.panel_style,
    )


@template(route=ROUTE, title="Channels", on_load=S.load)
def settings_channels() -> rx.Component:
    return rx.vstack(
        rx.heading("Settings", size="6", id="page-title"),
        settings_nav(),
        rx.cond(
            ~S.loaded,
            rx.center(rx.spinner(size="3"), padding="40px", width="100%"),
            rx.cond(
                S.refused != "",
                rx.callout(S.refused, icon="lock", color_scheme="red", id="channels-refused", width="100%"),
                rx.vstack(
                    rx.text("Each workspace may override the channel settings of the environment; a workspace "
                            "value shows “this workspace”, the environment's “default”. Secrets are never shown "
                            "again once saved. Workers pick a change up within a few seconds.",
                            size="2", color=styles.MUTED),
                    *[_group(key, label) for key, label in GROUPS],
                    channel_limits_section(),
                    _allow_list(),
                    spacing="4", width="100%", id="channels",
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )
