"""Settings → Channels (`/settings/channels`, admins): each channel's settings over the environment's defaults,
a test message per channel, and the outbound allow-list (engine/services/channel_settings.py,
engine/services/outbound_allow.py). The service refuses anyone but an admin; the page then shows its words.

Secrets are write-only here too: the state knows only "set" / "not set" for them; a value typed into a password
box travels once, in the form's submit event, straight to the service, and is never kept in a state var (state
vars are sent to the browser)."""

import reflex as rx

from engine.channels.config import BY_NAME, FIELDS, GROUPS
from engine.services import channel_settings as svc
from engine.services import outbound_allow
from marketing_app.states.service import events, run

ROUTE = "/settings/channels"
FIELD_PREFIX = "field_"  # Reflex keys a form's data by the inputs' ids ("field-smtp_host" → field_smtp_host)
#: every group has a key in the per-group dicts (a missing key is `undefined` in the browser, not "")
_EMPTY: dict[str, str] = {key: "" for key, _label in GROUPS}
BOOLS: dict[str, list[str]] = {}
for _f in FIELDS:
    if _f.kind == "bool":
        BOOLS.setdefault(_f.group, []).append(_f.name)


class ChannelSettingsState(rx.State):
    loaded: bool = False
    refused: str = ""  # the service's refusal (not an admin): the page shows only this
    values: dict[str, str] = {}  # effective value of each plain setting, as text
    sources: dict[str, str] = {}  # "workspace" | "environment"
    secret_states: dict[str, str] = {}  # "set" | "not set"
    replacing: list[str] = []  # secrets whose password box is open although one is set
    form_key: int = 0  # changes after every load: the uncontrolled inputs remount with the stored values
    errors: dict[str, str] = dict(_EMPTY)  # group → the refusal of its last save
    test_to: dict[str, str] = dict(_EMPTY)  # group → what the test goes to
    test_target: dict[str, str] = {**_EMPTY, "provider": "text_sms"}
    test_results: dict[str, str] = dict(_EMPTY)  # group → the answer of its last test
    test_ok: dict[str, bool] = {key: False for key in _EMPTY}
    testing: str = ""  # the group whose test is on its way
    allow_rows: list[dict[str, str]] = []
    allow_error: str = ""
    allow_key: int = 0

    async def _load_all(self, keep_replacing: bool = False):
        out = await run(self, lambda s, u: svc.view(session=s, actor=u))
        if out.signed_out:
            return out.problem()
        if not out.ok or out.value is None:
            self.refused, self.loaded = out.error, True
            return None
        values, sources, secrets = {}, {}, {}
        for group in out.value:
            for field in group.fields:
                sources[field.name] = field.source
                if field.kind == "secret":
                    secrets[field.name] = field.secret_state
                else:
                    values[field.name] = field.value
        self.values, self.sources, self.secret_states = values, sources, secrets
        # a page load keeps the password boxes opened by "replace" (a click may arrive before the load's answer);
        # after a save they close
        self.replacing = [n for n in self.replacing if keep_replacing and secrets.get(n) == "set"]
        self.refused, self.form_key = "", self.form_key + 1
        problem = await self._load_allow()
        self.loaded = True
        return problem

    async def _load_allow(self):
        """Only the allow-list (an edit there keeps what is typed in the channel forms)."""
        allow = await run(self, lambda s, u: [
            {"id": str(r.id), "entry": r.entry, "note": r.note, "added": r.created_at.strftime("%Y-%m-%d %H:%M")}
            for r in outbound_allow.list_entries(session=s, actor=u)])
        self.allow_rows = allow.value or []
        return allow.problem()

    @rx.event
    async def load(self):
        self.errors, self.test_results, self.allow_error = dict(_EMPTY), dict(_EMPTY), ""
        return await self._load_all(keep_replacing=True)

    @rx.event
    def replace_secret(self, name: str):
        if name not in self.replacing:
            self.replacing = [*self.replacing, name]

    @rx.event
    async def save(self, form: dict[str, str]):
        group = str(form.get("group") or "")
        values, secrets = {}, {}
        for key, raw in form.items():  # the inputs are named by their ids: field_<setting>
            spec = BY_NAME.get(key.removeprefix(FIELD_PREFIX)) if key.startswith(FIELD_PREFIX) else None
            if spec is None:
                continue
            text = str(raw).lower() if isinstance(raw, bool) else str(raw if raw is not None else "")
            (secrets if spec.secret else values)[spec.name] = text
        for name in BOOLS.get(group, []):  # a switch gives true/false; its hidden box "on" only when checked
            values[name] = "true" if values.get(name, "").lower() in ("on", "true") else "false"
        out = await run(self, lambda s, u: svc.save(session=s, actor=u, group=group, values=values,
                                                    secrets=secrets), write=True)
        if out.signed_out:
            return out.problem()
        if not out.ok:
            self.errors = {**self.errors, group: out.error}
            return None
        self.errors = {**self.errors, group: ""}
        done = rx.toast.success("Saved." if out.value else "Nothing changed.")
        return events(done, await self._load_all())

    @rx.event
    async def reset_group(self, group: str):
        out = await run(self, lambda s, u: svc.reset(session=s, actor=u, group=group), write=True)
        if not out.ok:
            return out.problem()
        self.errors = {**self.errors, group: ""}
        return events(rx.toast.success("Back to the defaults."), await self._load_all())

    @rx.event
    def set_test_to(self, group: str, value: str):
        self.test_to = {**self.test_to, group: value}

    @rx.event
    def set_test_target(self, group: str, value: str):
        self.test_target = {**self.test_target, group: value}

    @rx.event
    async def send_test(self, group: str):
        target = self.test_target.get(group) or {"email": "email", "webhook": "webhook",
                                                 "kafka": "push_kafka"}.get(group, "")
        to = self.test_to.get(group, "")
        self.testing = group
        yield
        out = await run(self, lambda s, u: svc.send_test(session=s, actor=u, target=target, to=to))
        self.testing = ""
        if out.signed_out:
            yield out.problem()
            return
        if not out.ok or out.value is None:
            self.test_results, self.test_ok = {**self.test_results, group: out.error}, {**self.test_ok, group: False}
            return
        self.test_results = {**self.test_results, group: out.value.message}
        self.test_ok = {**self.test_ok, group: out.value.ok}

    @rx.event
    async def add_allow(self, form: dict[str, str]):
        entry, note = str(form.get("entry") or ""), str(form.get("note") or "")
        out = await run(self, lambda s, u: outbound_allow.add_entry(session=s, actor=u, entry=entry,
                                                                   note=note).entry, write=True)
        if out.signed_out:
            return out.problem()
        if not out.ok:
            self.allow_error = out.error
            return None
        self.allow_error, self.allow_key = "", self.allow_key + 1
        return events(rx.toast.success(f"{out.value} allow-listed."), await self._load_allow())

    @rx.event
    async def remove_allow(self, entry_id: str):
        out = await run(self, lambda s, u: outbound_allow.remove_entry(session=s, actor=u, entry_id=int(entry_id)),
                        write=True)
        if not out.ok:
            return out.problem()
        return events(rx.toast.success("Removed from the allow-list."), await self._load_allow())
