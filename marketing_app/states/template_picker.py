"""A message editor's templates (issue 15), one set of events for every editor that holds a touch component's
config — a touch component's panel on the canvas, a normal task's New task / Edit form on the Reach Tasks page:
"Pick a template" (the editor's channel's templates the user may see, loaded when the menu opens; a pick fills
the editor's content and subject) and "Save as template" (its current content as a new template of its channel).
The rules are engine.services.message_templates' (`template_choices`, `fill_from_template`, `save_from_config`:
visibility, the channel check, the limits); an editor's state mixes this in and says what it edits."""

from typing import Any

import reflex as rx

from engine.services import message_templates as svc
from marketing_app.states.service import events, run


class TemplatePicker(rx.State, mixin=True):
    choices: list[dict[str, str]] = []  # id, name, preview text, moderation
    loading: bool = False
    save_open: bool = False
    save_name: str = ""
    save_public: bool = True
    save_error: str = ""

    async def _edited(self, *, to_fill: bool) -> tuple[str, dict[str, Any]] | None:
        """The editor's channel (a touch component type) and its config now; None when there is none — or, with
        `to_fill`, when the editor cannot be changed."""
        raise NotImplementedError

    async def _fill(self, config: dict[str, Any], name: str):  # noqa: ANN202 — an event's return, as Reflex takes it
        """Put a picked template's config into the editor; returns the events to send (a toast)."""
        raise NotImplementedError

    @rx.event
    async def load_choices(self, is_open: bool):
        if not is_open:
            return None
        got = await self._edited(to_fill=False)
        if got is None:
            return None
        channel = got[0]
        self.loading = True
        out = await run(self, lambda s, u: svc.template_choices(session=s, actor=u, channel=channel))
        self.loading = False
        if not out.ok or out.value is None:
            return out.problem()
        self.choices = [{"id": str(t.id), "name": t.name,
                         "text": (f"{t.subject} · " if t.subject else "") + t.content[:80],
                         "moderation": "passed" if t.moderation.passed else "failed"} for t in out.value]
        return None

    @rx.event
    async def pick(self, template_id: str):
        got = await self._edited(to_fill=True)
        if got is None or not template_id.isdigit():
            return None
        channel, config = got
        tid = int(template_id)
        out = await run(self, lambda s, u: svc.fill_from_template(session=s, actor=u, template_id=tid,
                                                                  channel=channel, config=config))
        if not out.ok or out.value is None:
            return out.problem()
        filled, template = out.value
        return await self._fill(filled, template.name)

    @rx.event
    async def open_save(self):
        self.save_name, self.save_public, self.save_error = "", True, ""
        self.save_open = True

    @rx.event
    def set_save_open(self, is_open: bool):
        self.save_open = is_open

    @rx.event
    def set_save_name(self, value: str):
        self.save_name, self.save_error = value, ""

    @rx.event
    def set_save_public(self, value: bool):
        self.save_public = bool(value)

    @rx.event
    async def save(self):
        got = await self._edited(to_fill=False)
        if got is None:
            self.save_open = False
            return None
        channel, config = got
        name, public = self.save_name, self.save_public
        out = await run(self, lambda s, u: svc.save_from_config(session=s, actor=u, channel=channel, config=config,
                                                                name=name, is_public=public), write=True)
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.save_error = out.error
            return None
        self.save_open = False
        return events(rx.toast.success(f"Saved as the template “{out.value.name}”."))
