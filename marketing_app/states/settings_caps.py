"""Settings → Frequency caps (`/settings/caps`, admins, issue 16): the workspace's rules, added and edited in one
dialog, deleted after a confirmation. Every rule and refusal is the engine's (engine/services/frequency_caps.py):
a non-admin's load is refused and the page shows that refusal instead of the tab."""

import reflex as rx

from engine.models.frequency_cap import ANY_CHANNEL
from engine.services import frequency_caps as svc
from marketing_app.states.admin_table import AdminTable
from marketing_app.states.service import events, run

ROUTE = "/settings/caps"
#: (value, label) of what a rule can cap, in the dialog's order
CHANNELS: list[tuple[str, str]] = svc.channel_choices()


class CapsSettingsState(AdminTable, rx.State):
    dialog_open: bool = False
    editing: str = ""  # the rule being edited ("": a new rule)
    channel: str = ANY_CHANNEL
    most: str = ""
    days: str = ""
    dialog_error: str = ""
    form_key: int = 0  # remounts the dialog's inputs with the values of the rule opened
    delete_id: str = ""
    delete_text: str = ""

    @rx.event
    async def load(self):
        return await self._load_rows(lambda s, u: svc.list_caps(session=s, actor=u), lambda r: {
            "id": str(r.id), "channel": r.channel, "channel_label": r.channel_label, "most": str(r.max_messages),
            "days": str(r.window_days), "text": r.text[0].upper() + r.text[1:]})

    @rx.event
    def open_new(self):
        self.editing, self.channel, self.most, self.days = "", ANY_CHANNEL, "", "7"
        self.dialog_error, self.dialog_open, self.form_key = "", True, self.form_key + 1

    @rx.event
    def open_edit(self, cap_id: str, channel: str, most: str, days: str):
        self.editing, self.channel, self.most, self.days = cap_id, channel, most, days
        self.dialog_error, self.dialog_open, self.form_key = "", True, self.form_key + 1

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open, self.dialog_error = value, ""

    @rx.event
    def set_channel(self, value: str):
        self.channel, self.dialog_error = value, ""

    @rx.event
    async def save(self, form: dict[str, str]):
        channel, most, days = self.channel, form.get("most") or "", form.get("days") or ""
        editing = int(self.editing) if self.editing else None
        if editing is None:
            out = await run(self, lambda s, u: svc.create_cap(session=s, actor=u, channel=channel, max_messages=most,
                                                              window_days=days), write=True)
        else:
            out = await run(self, lambda s, u: svc.update_cap(session=s, actor=u, cap_id=editing, channel=channel,
                                                              max_messages=most, window_days=days), write=True)
        if out.signed_out:
            return out.problem()
        if not out.ok or out.value is None:
            self.dialog_error = out.error
            return None
        self.dialog_open, self.dialog_error = False, ""
        said = "saved" if editing is not None else "added"
        return events(rx.toast.success(f"Frequency cap {said}: {out.value.text}."), await self.load())

    @rx.event
    def ask_delete(self, cap_id: str, text: str):
        self.delete_id, self.delete_text = cap_id, text

    @rx.event
    def set_delete_open(self, value: bool):
        if not value:
            self.delete_id = self.delete_text = ""

    @rx.event
    async def delete(self):
        cap_id = int(self.delete_id)
        out = await run(self, lambda s, u: svc.delete_cap(session=s, actor=u, cap_id=cap_id), write=True)
        self.delete_id = self.delete_text = ""
        done = out.problem() if not out.ok else rx.toast.success("Frequency cap deleted.")
        return events(done, await self.load())
