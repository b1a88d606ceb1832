"""The Message templates page (`/templates/messages`): one page of the templates the user may see
(engine.services.message_templates: search, channel tab, sort, paging — all in the engine), the create / edit
dialog with a live preview for a customer picked by QAID (debounced inputs: one service call after typing
stops, rendering with the engine's renderer), the SMS segment count and the moderation status, and Delete.
`?channel=<component type>` opens a channel's tab (the canvas's "Create template" link)."""

from collections.abc import Collection
from typing import ClassVar

import reflex as rx

from engine.errors import NotFound
from engine.services import message_templates as svc
from engine.services.message_templates import Preview, TemplatePage, TemplateRow
from engine.services.moderation import banned_words
from marketing_app.states.paged_list import PagedList
from marketing_app.states.service import events, run

ROUTE = "/templates/messages"
#: [key, label] of the channel tabs ("" = every channel)
CHANNEL_TABS: list[list[str]] = [["", "All"]] + [[c.key, c.label] for c in svc.CHANNELS.values()]
_DESCENDING_FIRST = {"updated_at", "created_at"}


def row(r: TemplateRow) -> dict[str, str]:
    return {"id": str(r.id), "name": r.name, "channel": r.channel, "channel_label": r.channel_label,
            "subject": r.subject, "content": r.content, "owner": r.owner_name,
            "visibility": "Public" if r.is_public else "Private",
            "updated": r.updated_at.strftime("%Y-%m-%d %H:%M"), "segments": r.moderation.segment_label,
            "moderation": "passed" if r.moderation.passed else "failed",
            "reasons": "; ".join(r.moderation.reasons), "why_not": r.why_not}


class MessageTemplatesState(PagedList, rx.State):
    SORTABLE: ClassVar[Collection[str]] = svc.SORTS
    DESCENDING_FIRST: ClassVar[frozenset[str]] = frozenset(_DESCENDING_FIRST)
    channel: str = ""
    query: str = ""
    sort: str = "updated_at"
    total: int = 0
    rows: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    can_create: bool = False
    create_why_not: str = ""
    error: str = ""
    loaded: bool = False
    # the create / edit dialog
    form_open: bool = False
    editing: int = 0  # the template edited (0: a new one)
    read_only: str = ""  # why the dialog's template cannot be saved by this user ("" = it can)
    f_channel: str = "text_sms"
    f_name: str = ""
    f_subject: str = ""
    f_content: str = ""
    f_public: bool = True
    f_qaid: str = ""
    form_error: str = ""
    preview_customer: str = ""
    preview_subject: str = ""
    preview_content: str = ""
    preview_error: str = ""
    preview_segments: str = ""
    segments: str = ""  # the template's own count (before variables are filled in)
    moderation: str = ""  # "passed" / "failed" ("" before the first check)
    reasons: list[str] = []
    # delete
    delete_id: int = 0
    delete_name: str = ""

    @rx.var
    def tabs(self) -> list[list[str]]:
        """[key, label, count] of the channel tabs."""
        total = sum(self.counts.values())
        return [[k, label, str(self.counts.get(k, 0) if k else total)] for k, label in CHANNEL_TABS]

    @rx.var
    def subject_label(self) -> str:
        spec = svc.CHANNELS.get(self.f_channel)
        return spec.subject_label if spec else ""

    @rx.var
    def content_label(self) -> str:
        spec = svc.CHANNELS.get(self.f_channel)
        if spec is None:
            return "Content"
        return f"{spec.content_label} (one “key: value” per line)" if spec.pairs else spec.content_label

    @rx.var
    def name_count(self) -> str:
        return f"{len(self.f_name)} / 60"

    @rx.var
    def content_count(self) -> str:
        spec = svc.CHANNELS.get(self.f_channel)
        return f"{len(self.f_content):,} / {spec.content_max:,}" if spec and not spec.pairs else ""

    def _show(self, data: TemplatePage) -> None:
        self.rows = [row(r) for r in data.rows]
        self.total, self.pages, self.page, self.counts = data.total, data.pages, data.page, data.counts
        self.can_create, self.create_why_not = data.can_create, data.create_why_not
        self.error, self.loaded = "", True

    async def _refresh(self):
        query, channel, sort, descending = self.query, self.channel, self.sort, self.descending
        page, size = self.page, self.page_size
        out = await run(self, lambda s, u: svc.list_templates(session=s, actor=u, query=query, channel=channel,
                                                               sort=sort, descending=descending, page=page,
                                                               page_size=size))
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.rows, self.total, self.pages, self.page = [], 0, 1, 1
            self.error, self.loaded = out.error or "Not found.", True
            return None
        self._show(out.value)
        return None

    @rx.event
    async def load(self):
        wanted = str(self.router.url.query_parameters.get("channel", "") or "")
        self.reset()
        self.channel = wanted if wanted in svc.CHANNELS else ""
        return await self._refresh()

    @rx.event
    async def set_channel(self, channel: str):
        self.channel, self.page = (channel if channel in svc.CHANNELS else ""), 1
        return await self._refresh()

    @rx.event
    async def submit_search(self, form: dict[str, str]):
        self.query, self.page = (form.get("query") or "").strip(), 1
        return await self._refresh()

    @rx.event
    async def clear_search(self):
        self.query, self.page = "", 1
        return await self._refresh()

    # ------------------------------------------------------------------------------------------- dialog

    def _clear_preview(self) -> None:
        self.preview_customer = self.preview_subject = self.preview_content = self.preview_error = ""
        self.preview_segments = self.segments = self.moderation = self.form_error = ""
        self.reasons = []

    @rx.event
    async def open_new(self):
        if not self.can_create:
            return rx.toast.error(self.create_why_not or "You cannot create templates.")
        self.editing, self.read_only = 0, ""
        self.f_channel = self.channel or "text_sms"
        self.f_name = self.f_subject = self.f_content = self.f_qaid = ""
        self.f_public = True
        self._clear_preview()
        self.form_open = True
        return None

    @rx.event
    async def open_edit(self, template_id: str):
        tid = int(template_id) if str(template_id).isdigit() else 0
        out = await run(self, lambda s, u: svc.template_row(session=s, actor=u, template_id=tid))
        if not out.ok or out.value is None:
            return out.problem()
        t = out.value
        self.editing, self.read_only = t.id, t.why_not
        self.f_channel, self.f_name, self.f_subject, self.f_content = t.channel, t.name, t.subject, t.content
        self.f_public = t.is_public
        self._clear_preview()
        self.form_open = True
        return await self._check()

    @rx.event
    def set_form_open(self, is_open: bool):
        self.form_open = is_open

    @rx.event
    async def set_f_channel(self, value: str):
        if self.editing or value not in svc.CHANNELS:
            return None
        self.f_channel = value
        if not svc.CHANNELS[value].subject_field:
            self.f_subject = ""
        return await self._check()

    @rx.event
    def set_f_name(self, value: str):
        self.f_name = value

    @rx.event
    def set_f_public(self, value: bool):
        self.f_public = bool(value)

    @rx.event
    async def set_f_subject(self, value: str):
        self.f_subject = value
        return await self._check()

    @rx.event
    async def set_f_content(self, value: str):
        self.f_content = value
        return await self._check()

    @rx.event
    async def set_f_qaid(self, value: str):
        self.f_qaid = value
        return await self._check()

    async def _check(self):
        """The live preview, segment count and moderation status of what the dialog holds (one service call)."""
        channel, subject, content, qaid = self.f_channel, self.f_subject, self.f_content, self.f_qaid

        def check(s, u):  # noqa: ANN001, ANN202 — run's call
            found = svc.moderation_of(channel, subject, content, banned_words(s, u.workspace_id))
            try:
                shown: Preview | str = svc.preview(session=s, actor=u, channel=channel, content=content,
                                                   subject=subject, qaid=qaid)
            except NotFound as err:
                shown = err.message
            return found, shown

        out = await run(self, check)
        if not out.ok or out.value is None:
            return out.problem()
        found, shown = out.value
        self.segments = found.segment_label
        self.moderation = "passed" if found.passed else "failed"
        self.reasons = found.reasons
        if isinstance(shown, str):
            self.preview_error, self.preview_customer, self.preview_subject = shown, "", ""
            self.preview_content = self.preview_segments = ""
        else:
            self.preview_error = ""
            self.preview_customer = shown.customer or "Sample values (enter a QAID to preview for a customer)"
            self.preview_subject, self.preview_content = shown.subject, shown.content
            self.preview_segments = shown.segment_label
        return None

    @rx.event
    async def save(self):
        if self.read_only:
            return rx.toast.error(self.read_only)
        editing, channel, name, subject = self.editing, self.f_channel, self.f_name, self.f_subject
        content, public = self.f_content, self.f_public

        def write(s, u):  # noqa: ANN001, ANN202 — run's call
            if editing:
                return svc.edit_template(session=s, actor=u, template_id=editing, name=name, content=content,
                                         subject=subject, is_public=public)
            return svc.create_template(session=s, actor=u, channel=channel, name=name, content=content,
                                       subject=subject, is_public=public)

        out = await run(self, write, write=True)
        if out.signed_out:
            return out.problem()
        if out.error:
            self.form_error = out.error
            return None
        self.form_open = False
        message = f"Template “{' '.join(name.split())}” {'saved' if editing else 'created'}."
        return events(await self._refresh(), rx.toast.success(message))

    # ------------------------------------------------------------------------------------------- delete

    @rx.event
    def ask_delete(self, template_id: str, name: str):
        self.delete_id, self.delete_name = int(template_id), name

    @rx.event
    def cancel_delete(self):
        self.delete_id, self.delete_name = 0, ""

    @rx.event
    async def confirm_delete(self):
        tid, name = self.delete_id, self.delete_name
        self.delete_id, self.delete_name = 0, ""
        out = await run(self, lambda s, u: svc.delete_template(session=s, actor=u, template_id=tid), write=True)
        if not out.ok:
            return out.problem()
        return events(await self._refresh(), rx.toast.success(f"Template “{name}” deleted."))
