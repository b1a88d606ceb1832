"""The Reach Tasks page's normal tasks (every channel, issue 14): New task / Edit (name, the channel's fields —
`normal_tasks.FIELDS`: SMS content with its live segment count and signature, an email's subject and body, a
template and its keywords, ... —, audience, send now or at a time typed in the workspace's zone) and Delete, each
refused by the engine (engine.services.normal_tasks) where the 5-minute rule or moderation says so. The tasks
themselves are rows of the page's task table (`ReachState`, type Normal). The scheduler moderates and sends them;
while one is Moderating, due or sending, this state re-reads them every second (their status moves on the
scheduler's tick, which announces nothing) and has the table read again when they changed.
The form's template bar (`NormalTaskTemplateState`, the canvas panel's `TemplatePicker`) picks a message template
of the channel into the form's fields or saves them as one: the form is read as the channel component's config
(`normal_tasks.channel_config`) and written back from it (`normal_tasks.form_fields`)."""

import asyncio
from datetime import datetime
from typing import Any

import reflex as rx

from engine.clock import now
from engine.flow.moderation import segment_label, sms_text
from engine.services import audiences, local_time, normal_tasks
from engine.services.normal_tasks import NormalRow, TaskInput
from engine.services.reach_tasks import channel_key
from marketing_app.routes import segment
from marketing_app.states.auth import AuthState
from marketing_app.states.reach import ReachState
from marketing_app.states.service import run
from marketing_app.states.template_picker import TemplatePicker

POLL_S = 1.0
MOVING = ("moderating", "to_be_sent", "sending")


def _when(d: datetime | None, zone: str) -> str:
    return local_time.format_local(d, zone) if d else ""


def _row(r: NormalRow, zone: str) -> dict[str, str]:
    return {"id": str(r.id), "name": r.name, "content": r.content,
            "segments": f"{r.segments} SMS segment{'s' if r.segments != 1 else ''}", "audience": r.audience_name,
            "send_at": _when(r.send_at, zone) or "Now", "status": r.status, "status_label": r.status_label,
            "reason": r.reason, "task_id": r.task_id, "sent": f"{r.sent:,}", "success": f"{r.success:,}",
            "failed": f"{r.failed:,}", "edit_refusal": r.edit_refusal, "delete_refusal": r.delete_refusal}


class NormalTaskState(rx.State):
    channel: str = "sms"
    rows: list[dict[str, str]] = []
    time_zone: str = "UTC"
    audiences: list[list[str]] = []  # [id, name]
    form_open: bool = False
    editing: int = 0  # the task being edited (0: a new one)
    name: str = ""
    content: str = ""
    signature: str = ""
    subject: str = ""
    template_id: str = ""
    audience: str = ""
    timing: str = "now"  # now / later
    send_at: str = ""
    form_error: str = ""
    delete_id: int = 0
    delete_name: str = ""
    _polling: bool = False

    @rx.var
    def segments(self) -> str:
        if self.channel != "sms":
            return ""
        return segment_label(sms_text({"content": self.content, "signature": self.signature}))

    @rx.var
    def content_label(self) -> str:
        """The channel's form fields (normal_tasks.FIELDS): "" = the channel has no such field."""
        return normal_tasks.FIELDS.get(self.channel, {}).get("content", "")

    @rx.var
    def subject_label(self) -> str:
        return normal_tasks.FIELDS.get(self.channel, {}).get("subject", "")

    @rx.var
    def template_label(self) -> str:
        return normal_tasks.FIELDS.get(self.channel, {}).get("template_id", "")

    @rx.var
    def component(self) -> str:
        """The touch component type the channel sends with: its message templates' channel."""
        return normal_tasks.CHANNEL_COMPONENTS.get(self.channel, "")

    @rx.var
    def has_signature(self) -> bool:
        return "signature" in normal_tasks.FIELDS.get(self.channel, {})

    @rx.var
    def utc(self) -> str:
        return local_time.utc_hint(self.send_at, self.time_zone) if self.timing == "later" else ""

    @rx.var
    def moving(self) -> bool:
        return any(r["status"] in MOVING for r in self.rows)

    async def _reload(self):
        channel = self.channel

        def read(s, u):  # noqa: ANN001, ANN202 — run's call
            zone = local_time.workspace_time_zone(session=s, actor=u)
            found = normal_tasks.list_normal(session=s, actor=u, channel=channel)
            choices = [[str(a.id), a.name] for a in audiences.list_audiences(session=s, actor=u)]
            return zone, [_row(r, zone) for r in found], choices

        out = await run(self, read)
        if not out.ok or out.value is None:
            return out.problem()
        self.time_zone, rows, self.audiences = out.value
        changed = rows != self.rows
        if changed:
            self.rows = rows
        if self.moving and not self._polling:
            return [NormalTaskState.poll, ReachState.refresh_now] if changed else NormalTaskState.poll
        return ReachState.refresh_now if changed else None

    @rx.event
    async def load(self):
        self.reset()
        channel = segment(self.router.url.path, 1) or "sms"
        known = channel_key(channel)
        if known and known != channel:  # /reach/text_sms: ReachState.load sends the page to /reach/sms, which loads
            return None
        self.channel = channel
        return await self._reload()

    @rx.event
    async def refresh(self):
        return await self._reload()

    @rx.event(background=True)
    async def poll(self):
        async with self:
            if self._polling:
                return
            self._polling = True
        try:
            while True:
                await asyncio.sleep(POLL_S)
                async with self:
                    if not (await self.get_state(AuthState)).session_token:
                        return  # signed out (the logout left the page): nobody's tasks to follow
                    follow = await self._reload()
                    moving = self.moving
                if follow is not None:  # polling already: only "the table reads the new statuses" comes back
                    yield ReachState.refresh_now
                if not moving:
                    return
        finally:
            async with self:
                self._polling = False

    # ------------------------------------------------------------------ New task / Edit

    @rx.event
    def open_new(self):
        self.editing, self.name, self.content, self.signature = 0, "", "", ""
        self.subject, self.template_id = "", ""
        self.audience = self.audiences[0][0] if self.audiences else ""
        self.timing, self.send_at, self.form_error, self.form_open = "now", "", "", True

    @rx.event
    async def open_edit(self, task_id: str):
        tid = int(task_id) if task_id.isdigit() else 0
        out = await run(self, lambda s, u: normal_tasks.form_of(normal_tasks.get_normal(session=s, actor=u,
                                                                                        task_id=tid)))
        if not out.ok or out.value is None:
            return out.problem()
        t = out.value
        self.editing, self.name, self.content, self.signature = tid, t.name, t.content, t.signature
        self.subject, self.template_id = t.subject, t.template_id
        self.audience = str(t.audience_id)
        self.timing = "later" if t.send_at else "now"
        self.send_at = local_time.format_local(t.send_at, self.time_zone)
        self.form_error, self.form_open = "", True
        return None

    @rx.event
    def set_form_open(self, value: bool):
        self.form_open = value

    @rx.event
    def set_name(self, value: str):
        self.name, self.form_error = value, ""

    @rx.event
    def set_content(self, value: str):
        self.content, self.form_error = value, ""

    @rx.event
    def set_signature(self, value: str):
        self.signature, self.form_error = value, ""

    @rx.event
    def set_subject(self, value: str):
        self.subject, self.form_error = value, ""

    @rx.event
    def set_template_id(self, value: str):
        self.template_id, self.form_error = value, ""

    @rx.event
    def set_audience(self, value: str):
        self.audience = value

    @rx.event
    def set_timing(self, value: str):
        self.timing = "later" if value == "later" else "now"

    @rx.event
    def set_send_at(self, value: str):
        self.send_at, self.form_error = value, ""

    def _fields(self) -> TaskInput:
        """The form's channel fields (and name), as the service reads them."""
        return TaskInput(name=self.name, content=self.content, signature=self.signature, subject=self.subject,
                         template_id=self.template_id)

    def _set_fields(self, data: TaskInput) -> None:
        self.content, self.signature, self.subject, self.template_id = (data.content, data.signature, data.subject,
                                                                        data.template_id)
        self.form_error = ""

    @rx.event
    async def save(self):
        zone, editing, channel = self.time_zone, self.editing, self.channel
        try:
            when = local_time.parse_local(self.send_at, zone, label="Send time") if self.timing == "later" else None
        except Exception as err:  # noqa: BLE001 — the service's Invalid carries the message
            self.form_error = getattr(err, "message", str(err))
            return None
        if self.timing == "later" and when is None:
            self.form_error = "Send time: enter when to send it, or choose Send now."
            return None
        data = self._fields().model_copy(update={"audience_id": int(self.audience) if self.audience.isdigit() else None,
                                                 "send_at": when})

        def go(s, u):  # noqa: ANN001, ANN202 — run's call
            if editing:
                return normal_tasks.update(session=s, actor=u, task_id=editing, data=data).name
            return normal_tasks.create(session=s, actor=u, channel=channel, data=data).name

        out = await run(self, go, write=True)
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.form_error = out.error or "The task could not be saved."
            return None
        self.form_open = False
        follow = await self._reload()
        toast = rx.toast.success(f"“{out.value}” is being moderated{'' if when else ', then sent at once'}.")
        return [toast, *(follow if isinstance(follow, list) else [follow] if follow is not None else []),
                ReachState.refresh_now]

    # ------------------------------------------------------------------ Delete

    @rx.event
    def ask_delete(self, task_id: str, name: str):
        self.delete_id, self.delete_name = int(task_id) if task_id.isdigit() else 0, name

    @rx.event
    def cancel_delete(self):
        self.delete_id = 0

    @rx.event
    async def confirm_delete(self):
        tid, name = self.delete_id, self.delete_name
        self.delete_id = 0
        out = await run(self, lambda s, u: normal_tasks.delete(session=s, actor=u, task_id=tid, now=now()),
                        write=True)
        if not out.ok:
            return out.problem()
        await self._reload()
        return [rx.toast.success(f"Deleted “{name}”."), ReachState.refresh_now]


class NormalTaskTemplateState(TemplatePicker, rx.State):
    """The New task / Edit form's template bar: the form's fields as the channel component's config."""

    async def _edited(self, *, to_fill: bool) -> tuple[str, dict[str, Any]] | None:
        form = await self.get_state(NormalTaskState)
        if not form.form_open or form.channel not in normal_tasks.CHANNEL_COMPONENTS:
            return None
        return normal_tasks.CHANNEL_COMPONENTS[form.channel], normal_tasks.channel_config(form.channel, form._fields())

    async def _fill(self, config: dict[str, Any], name: str):  # noqa: ANN202 — an event's return
        form = await self.get_state(NormalTaskState)
        form._set_fields(normal_tasks.form_fields(form.channel, config, form._fields()))
        return rx.toast.success(f"Filled from the template “{name}”.")
