"""Admin Settings (issue 15): /settings → /settings/users; /settings/users, /settings/keys, /settings/workspace,
each a page with the shared tab bar (components/settings_nav.py). A non-admin gets the service's refusal in place
of the tab (the sidebar shows Settings to admins only)."""

import reflex as rx

from engine.services.users import DISPLAY_NAME_MAX, PASSWORD_MIN, USERNAME_MAX
from engine.services.workspace_settings import CAP_MAX, CAP_MIN, time_zones
from marketing_app.components.confirm_dialog import confirm_dialog
from marketing_app.components.settings_nav import settings_nav
from marketing_app.components.settings_table import settings_table
from marketing_app.states.settings import KEYS_ROUTE, ROLES, USERS_ROUTE, WORKSPACE_ROUTE, SettingsRedirectState
from marketing_app.states.settings import KeysSettingsState as K
from marketing_app.states.settings import UsersSettingsState as U
from marketing_app.states.settings import WorkspaceSettingsState as W
from marketing_app.templates import template

STYLESHEET = "/settings/settings.css"


def _frame(loaded: rx.Var[bool], refused: rx.Var[str], intro: str, *content: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        rx.heading("Settings", size="6", id="page-title"),
        rx.cond(
            loaded,
            rx.cond(
                refused != "",
                rx.callout(refused, icon="lock", color_scheme="red", id="settings-refused", width="100%"),
                rx.vstack(settings_nav(), rx.text(intro, size="2", class_name="muted"), *content,
                          spacing="4", width="100%"),
            ),
            rx.center(rx.spinner(size="3"), padding="56px", width="100%"),
        ),
        spacing="4",
        width="100%",
        id="settings",
    )


def _dialog_error(var: rx.Var[str]) -> rx.Component:
    return rx.cond(var != "", rx.callout(var, icon="triangle_alert", color_scheme="red", size="1",
                                         id="settings-dialog-error"))


def _buttons(label: str, button_id: str, color: str = "indigo") -> rx.Component:
    return rx.hstack(rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
                     rx.button(label, type="submit", color_scheme=color, id=button_id),
                     justify="end", spacing="3", margin_top="8px")


def _label(text: str, field: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(rx.text(text, size="2", weight="medium"), field,
                     rx.cond(hint != "", rx.text(hint, size="1", class_name="muted")), spacing="1", width="100%")


def _secret(title: str, intro: rx.Var[str] | str, value: rx.Var[str], on_copy: rx.EventHandler,
            on_open_change: rx.EventHandler, dialog_id: str) -> rx.Component:
    """A password or key shown once, with a copy button."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(intro, size="2", class_name="muted", margin_bottom="10px"),
            rx.text(value, class_name="shown-secret", id=f"{dialog_id}-value"),
            rx.hstack(
                rx.button(rx.icon("copy", size=14), "Copy", variant="soft", on_click=on_copy, id=f"{dialog_id}-copy"),
                rx.dialog.close(rx.button("Done", id=f"{dialog_id}-done")),
                justify="end", spacing="3", margin_top="12px",
            ),
            max_width="520px", id=dialog_id,
        ),
        open=value != "",
        on_open_change=on_open_change,
    )


# ---------------------------------------------------------------- /settings


@rx.page(route="/settings", title="Settings", on_load=SettingsRedirectState.to_first_tab)
def settings_root() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh")


# ---------------------------------------------------------------- users


def _role_options() -> list[rx.Component]:
    return [rx.el.option(label, value=value) for value, label in ROLES]


def _user_row(r: rx.Var[dict[str, str]]) -> rx.Component:
    active = r["active"] != ""
    return rx.el.tr(
        rx.el.td(rx.hstack(rx.text(r["name"], weight="medium", title=r["name"], trim="both", truncate=True),
                           rx.cond(r["self"] != "", rx.badge("You", size="1", variant="soft")),
                           spacing="2", align="center")),
        rx.el.td(r["username"], class_name="mono"),
        rx.el.td(rx.el.select(*_role_options(), value=r["role"], class_name="role-select",
                              on_change=lambda value: U.change_role(r["id"], value),
                              custom_attrs={"aria-label": "Role"})),
        rx.el.td(rx.cond(active, rx.badge("Active", color_scheme="green", variant="soft"),
                         rx.badge("Deactivated", color_scheme="gray", variant="soft")), class_name="user-status"),
        rx.el.td(r["last_login"], class_name="muted"),
        rx.el.td(r["contact"], class_name="user-contact muted", title=r["contact"]),
        rx.el.td(rx.hstack(
            rx.button("Contact", size="1", variant="soft", color_scheme="gray",
                      on_click=U.open_contact(r["id"], r["name"], r["phone"], r["email"]), class_name="edit-contact"),
            rx.button("Reset password", size="1", variant="soft", color_scheme="gray",
                      on_click=U.open_reset(r["id"], r["name"]), class_name="reset-password"),
            rx.cond(active,
                    rx.button("Deactivate", size="1", variant="soft", color_scheme="red",
                              on_click=U.set_active(r["id"], False), class_name="deactivate"),
                    rx.button("Reactivate", size="1", variant="soft", color_scheme="green",
                              on_click=U.set_active(r["id"], True), class_name="reactivate")),
            spacing="2", justify="end")),
        class_name=rx.cond(active, "user-row", "user-row inactive"),
        custom_attrs={"data-username": r["username"]},
    )


def _create_user_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New user"),
            rx.form(rx.vstack(
                _label("Username", rx.input(name="username", id="new-user-username", width="100%",
                                            auto_complete="off"),
                       f"What they type to sign in: up to {USERNAME_MAX} letters, digits, . _ @ -"),
                _label("Name", rx.input(name="display_name", id="new-user-name", width="100%", auto_complete="off"),
                       f"Shown in the console (up to {DISPLAY_NAME_MAX} characters; empty: the username)."),
                _label("Role", rx.el.select(*_role_options(), name="role", default_value="marketer",
                                            class_name="field-select", id="new-user-role")),
                _label("Initial password", rx.input(name="password", type="password", id="new-user-password",
                                                    width="100%", auto_complete="new-password"),
                       f"At least {PASSWORD_MIN} characters; leave it empty to generate one, shown once."),
                _dialog_error(U.dialog_error), _buttons("Create user", "new-user-submit"), spacing="3"),
                on_submit=U.create, reset_on_submit=False),
            max_width="460px", id="new-user-dialog",
        ),
        open=U.create_open, on_open_change=U.set_create_open,
    )


def _reset_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Reset the password of ", U.reset_name),
            rx.dialog.description("Their sessions end; they sign in with the new password.", size="2",
                                  class_name="muted", margin_bottom="8px"),
            rx.form(rx.vstack(
                _label("New password", rx.input(name="password", type="password", id="reset-password-input",
                                                width="100%", auto_complete="new-password"),
                       "Leave it empty to generate one, shown once."),
                _dialog_error(U.dialog_error), _buttons("Reset password", "reset-password-submit"), spacing="3"),
                on_submit=U.submit_reset),
            max_width="460px", id="reset-password-dialog",
        ),
        open=U.reset_open, on_open_change=U.set_reset_open,
    )


def _contact_dialog() -> rx.Component:
    """Issue 14: a user's staff contact, which lets a marketer add them as a tester (Add staff)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Staff contact of ", U.contact_name),
            rx.dialog.description("With a phone or an email, they can be added as a tester of an activity: its test "
                                  "messages reach them, marked “[Test]”.", size="2", class_name="muted",
                                  margin_bottom="8px"),
            rx.form(rx.vstack(
                _label("Phone", rx.input(name="phone", id="contact-phone", width="100%", auto_complete="off",
                                         default_value=U.contact_phone, key=U.contact_id + "-phone"),
                       "E.g. +86 138 0013 8000; empty: none."),
                _label("Email", rx.input(name="email", id="contact-email", width="100%", auto_complete="off",
                                         default_value=U.contact_email, key=U.contact_id + "-email"),
                       "Empty: none."),
                _dialog_error(U.dialog_error), _buttons("Save contact", "contact-submit"), spacing="3"),
                on_submit=U.submit_contact, reset_on_submit=False),
            max_width="460px", id="contact-dialog",
        ),
        open=U.contact_open, on_open_change=U.set_contact_open,
    )


@template(route=USERS_ROUTE, title="Settings · Users", on_load=U.load)
def settings_users() -> rx.Component:
    return _frame(
        U.loaded, U.refused,
        "Who signs in, and with which role. A deactivated user cannot sign in; the workspace always keeps an "
        "active admin.",
        rx.hstack(rx.spacer(), rx.button(rx.icon("user_plus", size=14), "New user", on_click=U.open_create,
                                         id="new-user"), width="100%"),
        settings_table(columns=[("Name", ""), ("Username", "130px"), ("Role", "130px"), ("Status", "100px"),
                                ("Last sign-in (UTC)", "150px"), ("Staff contact", "170px"), ("", "280px")],
                       rows=U.rows, row=_user_row, table_id="users-table"),
        _create_user_dialog(),
        _reset_dialog(),
        _contact_dialog(),
        _secret("Password for " + U.shown_for,
                "Hand it over now: it is shown only this once (they can be given a new one with Reset password).",
                U.shown_password, U.copy_password, U.set_password_open, "shown-password"),
    )


# ---------------------------------------------------------------- API keys


def _key_row(r: rx.Var[dict[str, str]]) -> rx.Component:
    revoked = r["revoked"] != ""
    return rx.el.tr(
        rx.el.td(rx.text(r["name"], weight="medium", title=r["name"])),
        rx.el.td(r["prefix"], class_name="mono"),
        rx.el.td(r["created_by"]),
        rx.el.td(r["created"], class_name="muted"),
        rx.el.td(r["last_used"], class_name="muted key-last-used"),
        rx.el.td(rx.cond(revoked, rx.badge("Revoked ", r["revoked"], color_scheme="gray", variant="soft"),
                         rx.badge("Active", color_scheme="green", variant="soft")), class_name="key-status"),
        rx.el.td(rx.cond(revoked, rx.fragment(),
                         rx.button("Revoke", size="1", variant="soft", color_scheme="red",
                                   on_click=K.ask_revoke(r["id"], r["name"]), class_name="revoke-key"))),
        class_name=rx.cond(revoked, "key-row inactive", "key-row"),
        custom_attrs={"data-name": r["name"]},
    )


def _create_key_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New API key"),
            rx.form(rx.vstack(
                _label("Name", rx.input(name="name", id="new-key-name", width="100%", auto_complete="off"),
                       "What uses it (e.g. Web shop events): up to 60 characters."),
                _dialog_error(K.dialog_error), _buttons("Create key", "new-key-submit"), spacing="3"),
                on_submit=K.create, reset_on_submit=False),
            max_width="460px", id="new-key-dialog",
        ),
        open=K.create_open, on_open_change=K.set_create_open,
    )


def _revoke_dialog() -> rx.Component:
    return confirm_dialog(
        title=["Revoke “", K.revoke_name, "”?"],
        description=["The API refuses it at once; whatever sends with it stops. This cannot be undone (create a new "
                     "key instead)."],
        action="Revoke", on_confirm=K.revoke, action_id="revoke-key-confirm",
        open=K.revoke_id != "", on_open_change=K.set_revoke_open)


@template(route=KEYS_ROUTE, title="Settings · API keys", on_load=K.load)
def settings_keys() -> rx.Component:
    return _frame(
        K.loaded, K.refused,
        "Systems send behaviour events and audience imports to the HTTP API with one of these keys "
        "('Authorization: Bearer <key>'). A key is shown once, when created; revoke one that leaked.",
        rx.hstack(
            rx.link(rx.hstack(rx.icon("book_open", size=14), rx.text("Events API documentation"), spacing="1",
                              align="center"), href=K.docs_url, is_external=True, id="api-docs-link", size="2"),
            rx.spacer(),
            rx.button(rx.icon("key_round", size=14), "New key", on_click=K.open_create, id="new-key"),
            width="100%", align="center",
        ),
        settings_table(columns=[("Name", ""), ("Key", "150px"), ("Created by", "130px"), ("Created (UTC)", "150px"),
                                ("Last used (UTC)", "150px"), ("Status", "220px"), ("", "90px")],
                       rows=K.rows, row=_key_row, table_id="keys-table",
                       empty="No API key yet: the API refuses every request until you create one."),
        _create_key_dialog(),
        _revoke_dialog(),
        _secret("API key “" + K.new_key_name + "”",
                "Copy it now into the system that will use it: it is shown only this once, then only its "
                "beginning.", K.new_key, K.copy_key, K.set_key_open, "new-key-shown"),
    )


# ---------------------------------------------------------------- workspace


@template(route=WORKSPACE_ROUTE, title="Settings · Workspace", on_load=W.load)
def settings_workspace() -> rx.Component:
    return _frame(
        W.loaded, W.refused,
        "The workspace's name, the time zone every date and time is typed in, and how many activities may run "
        "at once.",
        rx.box(
            rx.form(rx.vstack(
                _label("Name", rx.input(name="name", default_value=W.name, key=W.version.to_string() + "n",
                                        id="workspace-name", width="100%", auto_complete="off"),
                       "Up to 60 characters."),
                _label("Time zone", rx.input(name="time_zone", default_value=W.time_zone,
                                             key=W.version.to_string() + "z", id="workspace-time-zone",
                                             width="100%", auto_complete="off", list="time-zones"),
                       "An IANA name, e.g. Europe/Paris, Asia/Shanghai, UTC. Stored times stay UTC."),
                rx.el.datalist(*[rx.el.option(value=z) for z in time_zones()], id="time-zones"),
                _label("In-progress cap", rx.input(name="cap", default_value=W.cap, key=W.version.to_string() + "c",
                                                   id="workspace-cap", width="160px", auto_complete="off",
                                                   input_mode="numeric"),
                       f"Activities In Progress at once ({CAP_MIN}–{CAP_MAX}). Lowering it stops nothing: new "
                       "starts wait until enough have ended."),
                rx.text(W.running, " in progress now.", size="2", class_name="muted", id="workspace-running"),
                rx.cond(W.error != "", rx.callout(W.error, icon="triangle_alert", color_scheme="red", size="1",
                                                  id="workspace-error", width="100%")),
                rx.hstack(rx.button("Save", type="submit", id="workspace-save"), justify="end", width="100%"),
                spacing="4", width="100%"),
                on_submit=W.save, reset_on_submit=False),
            class_name="panel settings-form",
        ),
    )
