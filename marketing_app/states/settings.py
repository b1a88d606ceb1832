"""Admin Settings (issue 15): /settings/users, /settings/keys, /settings/workspace, one state per tab.

Every rule is the engine's (engine/services/users.py, api_keys.py, workspace_settings.py): a non-admin's load is
refused by the service and the page shows that refusal instead of the tab. A generated password or a new API key
is held only while its dialog is open (shown once), then forgotten."""

from datetime import datetime

import reflex as rx

from engine.services import api_keys as keys_service
from engine.services import users as users_service
from engine.services import workspace_settings as ws_service
from engine.services.users import ROLE_LABELS
from marketing_app.states.admin_table import AdminTable
from marketing_app.states.service import events, run

USERS_ROUTE = "/settings/users"
KEYS_ROUTE = "/settings/keys"
WORKSPACE_ROUTE = "/settings/workspace"
#: (value, label) of the roles, in the order the pickers list them
ROLES: list[tuple[str, str]] = [(role.value, label) for role, label in ROLE_LABELS.items()]


def _time(value: datetime | None, empty: str = "—") -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else empty


class SettingsRedirectState(rx.State):
    """/settings: the first tab."""

    @rx.event
    def to_first_tab(self):
        return rx.redirect(USERS_ROUTE, replace=True)


class UsersSettingsState(AdminTable, rx.State):
    create_open: bool = False
    reset_open: bool = False
    reset_id: str = ""
    reset_name: str = ""
    dialog_error: str = ""
    #: a generated password, shown once in its own dialog; emptied when that closes
    shown_password: str = ""
    shown_for: str = ""
    #: issue 14: the staff-contact dialog (a tester can be a user with a contact)
    contact_open: bool = False
    contact_id: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""

    @rx.event
    async def load(self):
        return await self._load_rows(lambda s, u: users_service.list_users(session=s, actor=u), lambda r: {
            "id": str(r.id), "username": r.username, "name": r.display_name, "role": r.role.value,
            "role_label": ROLE_LABELS[r.role], "active": "1" if r.active else "",
            "last_login": _time(r.last_login_at, "Never"), "created": _time(r.created_at),
            "self": "1" if r.is_self else "", "phone": r.phone, "email": r.email,
            "contact": " / ".join(x for x in (r.phone, r.email) if x) or "—"})

    @rx.event
    def open_create(self):
        self.create_open, self.dialog_error = True, ""

    @rx.event
    def set_create_open(self, value: bool):
        self.create_open, self.dialog_error = value, ""

    @rx.event
    def open_reset(self, user_id: str, name: str):
        self.reset_open, self.reset_id, self.reset_name, self.dialog_error = True, user_id, name, ""

    @rx.event
    def set_reset_open(self, value: bool):
        self.reset_open, self.dialog_error = value, ""

    @rx.event
    def set_password_open(self, value: bool):
        if not value:
            self.shown_password = self.shown_for = ""

    @rx.event
    def copy_password(self):
        return [rx.set_clipboard(self.shown_password), rx.toast.success("Password copied to the clipboard.")]

    @rx.event
    async def create(self, form: dict[str, str]):
        username, name = form.get("username") or "", form.get("display_name") or ""
        role, password = form.get("role") or "", form.get("password") or ""
        out = await run(self, lambda s, u: users_service.create_user(
            session=s, actor=u, username=username, display_name=name, role=role, password=password), write=True)
        if out.signed_out:
            return out.problem()
        if not out.ok or out.value is None:
            self.dialog_error = out.error
            return None
        self.create_open, self.dialog_error = False, ""
        made = out.value
        self.shown_password, self.shown_for = made.password, made.user.username
        return events(rx.toast.success(f"User “{made.user.username}” created."), await self.load())

    @rx.event
    async def submit_reset(self, form: dict[str, str]):
        uid, password = int(self.reset_id), form.get("password") or ""
        out = await run(self, lambda s, u: users_service.reset_password(
            session=s, actor=u, user_id=uid, password=password), write=True)
        if out.signed_out:
            return out.problem()
        if not out.ok or out.value is None:
            self.dialog_error = out.error
            return None
        self.reset_open, self.dialog_error = False, ""
        self.shown_password, self.shown_for = out.value.password, out.value.user.username
        return events(rx.toast.success(f"Password of “{out.value.user.username}” reset: their sessions ended."),
                      await self.load())

    @rx.event
    def open_contact(self, user_id: str, name: str, phone: str, email: str):
        self.contact_open, self.contact_id, self.contact_name = True, user_id, name
        self.contact_phone, self.contact_email, self.dialog_error = phone, email, ""

    @rx.event
    def set_contact_open(self, value: bool):
        self.contact_open, self.dialog_error = value, ""

    @rx.event
    async def submit_contact(self, form: dict[str, str]):
        uid, phone, email = int(self.contact_id), form.get("phone") or "", form.get("email") or ""
        out = await run(self, lambda s, u: users_service.set_contact(
            session=s, actor=u, user_id=uid, phone=phone, email=email), write=True)
        if out.signed_out:
            return out.problem()
        if not out.ok or out.value is None:
            self.dialog_error = out.error
            return None
        self.contact_open, self.dialog_error = False, ""
        return events(rx.toast.success(f"Contact of “{out.value.display_name}” saved."), await self.load())

    async def _change(self, call, done: str):  # noqa: ANN001
        out = await run(self, call, write=True)
        return events(out.problem() if not out.ok else rx.toast.success(done), await self.load())

    @rx.event
    async def change_role(self, user_id: str, role: str):
        uid = int(user_id)
        return await self._change(lambda s, u: users_service.change_role(session=s, actor=u, user_id=uid, role=role),
                                  f"Role changed to {dict(ROLES).get(role, role)}.")

    @rx.event
    async def set_active(self, user_id: str, active: bool):
        uid = int(user_id)
        return await self._change(
            lambda s, u: users_service.set_active(session=s, actor=u, user_id=uid, active=active),
            "User reactivated." if active else "User deactivated: they are signed out and cannot sign in.")


class KeysSettingsState(AdminTable, rx.State):
    docs_url: str = ""
    create_open: bool = False
    dialog_error: str = ""
    #: the new key, shown once; emptied when its dialog closes
    new_key: str = ""
    new_key_name: str = ""
    revoke_id: str = ""
    revoke_name: str = ""

    @rx.event
    async def load(self):
        self.docs_url = ws_service.api_docs_url()
        return await self._load_rows(lambda s, u: keys_service.list_api_keys(session=s, actor=u), lambda k: {
            "id": str(k.id), "name": k.name, "prefix": k.prefix + "…" if k.prefix else "(made before named keys)",
            "created_by": k.created_by or "—", "created": _time(k.created_at),
            "last_used": _time(k.last_used_at, "Never"), "revoked": _time(k.revoked_at, "")})

    @rx.event
    def open_create(self):
        self.create_open, self.dialog_error = True, ""

    @rx.event
    def set_create_open(self, value: bool):
        self.create_open, self.dialog_error = value, ""

    @rx.event
    def set_key_open(self, value: bool):
        if not value:
            self.new_key = self.new_key_name = ""

    @rx.event
    def copy_key(self):
        return [rx.set_clipboard(self.new_key), rx.toast.success("Key copied to the clipboard.")]

    @rx.event
    async def create(self, form: dict[str, str]):
        name = form.get("name") or ""
        out = await run(self, lambda s, u: keys_service.create_api_key(session=s, actor=u, name=name), write=True)
        if out.signed_out:
            return out.problem()
        if not out.ok or out.value is None:
            self.dialog_error = out.error
            return None
        self.create_open, self.dialog_error = False, ""
        self.new_key, self.new_key_name = out.value.key, out.value.name
        return await self.load()

    @rx.event
    def ask_revoke(self, key_id: str, name: str):
        self.revoke_id, self.revoke_name = key_id, name

    @rx.event
    def set_revoke_open(self, value: bool):
        if not value:
            self.revoke_id = self.revoke_name = ""

    @rx.event
    async def revoke(self):
        kid, name = int(self.revoke_id), self.revoke_name
        out = await run(self, lambda s, u: keys_service.revoke_api_key(session=s, actor=u, key_id=kid), write=True)
        self.revoke_id = self.revoke_name = ""
        done = out.problem() if not out.ok else rx.toast.success(f"Key “{name}” revoked: the API refuses it now.")
        return events(done, await self.load())


class WorkspaceSettingsState(rx.State):
    loaded: bool = False
    refused: str = ""
    name: str = ""
    time_zone: str = ""
    cap: str = ""
    running: int = 0
    error: str = ""
    #: bumped on every load, so the form's uncontrolled inputs take the saved values again
    version: int = 0

    def _show(self, view: ws_service.WorkspaceSettings) -> None:
        self.name, self.time_zone, self.cap = view.name, view.time_zone, str(view.in_progress_cap)
        self.running = view.in_progress_now
        self.version += 1

    @rx.event
    async def load(self):
        out = await run(self, lambda s, u: ws_service.workspace_settings(session=s, actor=u))
        self.loaded, self.error = True, ""
        if out.signed_out:
            return out.problem()
        if not out.ok or out.value is None:
            self.refused = out.error
            return None
        self.refused = ""
        self._show(out.value)
        return None

    @rx.event
    async def save(self, form: dict[str, str]):
        name, zone, cap = form.get("name") or "", form.get("time_zone") or "", form.get("cap") or ""
        out = await run(self, lambda s, u: ws_service.save_workspace(session=s, actor=u, name=name, time_zone=zone,
                                                                     in_progress_cap=cap), write=True)
        if out.signed_out:
            return out.problem()
        if not out.ok or out.value is None:
            self.error = out.error
            return None
        self.error = ""
        self._show(out.value)
        return rx.toast.success("Workspace settings saved.")
