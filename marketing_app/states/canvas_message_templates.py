"""The touch components' message templates on the canvas panel: "Pick a template" fills the selected
component's content (and subject) from a template of its channel — one configure step, undo-able — and "Save
as template" saves its current content as a new template (engine.services.message_templates: the same apply /
read functions and rules as the Message templates page)."""

from typing import Any

import reflex as rx

from engine.services import message_templates as svc
from marketing_app.states.canvas import CanvasState
from marketing_app.states.service import events, run


class CanvasMessageTemplateState(rx.State):
    choices: list[dict[str, str]] = []  # id, name, preview text, moderation
    loading: bool = False
    save_open: bool = False
    save_name: str = ""
    save_public: bool = True
    save_error: str = ""

    async def _selected(self) -> tuple[str, dict[str, Any]] | None:
        """The selected component's type and config, also on a read-only canvas (saving a template changes no
        flow)."""
        doc = await self.get_state(CanvasState)
        node = next((n for n in doc.flow.get("nodes") or [] if str(n["id"]) == doc.selected), None)
        if node is None or str(node.get("type")) not in svc.CHANNELS:
            return None
        return str(node.get("type")), dict(node.get("config") or {})

    @rx.event
    async def load_choices(self, is_open: bool):
        if not is_open:
            return None
        got = await self._selected()
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
        doc = await self.get_state(CanvasState)
        got = doc.selected_config()  # None on a read-only canvas
        if got is None:
            return None
        kind, config = got
        tid = int(template_id)
        out = await run(self, lambda s, u: svc.get_template(session=s, actor=u, template_id=tid))
        if not out.ok or out.value is None:
            return out.problem()
        template = out.value
        if template.channel != kind:
            return rx.toast.error("That template is for another channel.")
        await doc.configure(svc.apply_to_config(kind, config, subject=template.subject, content=template.content),
                            renew=True)
        return rx.toast.success(f"Filled from the template “{template.name}” (Ctrl+Z undoes it).")

    @rx.event
    async def open_save(self):
        self.save_name, self.save_public, self.save_error = "", True, ""
        self.save_open = True

    @rx.event
    def set_save_open(self, is_open: bool):
        self.save_open = is_open

    @rx.event
    def set_save_name(self, value: str):
        self.save_name = value

    @rx.event
    def set_save_public(self, value: bool):
        self.save_public = bool(value)

    @rx.event
    async def save(self):
        got = await self._selected()
        if got is None:
            self.save_open = False
            return None
        kind, config = got
        subject, content = svc.from_config(kind, config)
        name, public = self.save_name, self.save_public
        out = await run(self, lambda s, u: svc.create_template(session=s, actor=u, channel=kind, name=name,
                                                                content=content, subject=subject,
                                                                is_public=public), write=True)
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.save_error = out.error
            return None
        self.save_open = False
        return events(rx.toast.success(f"Saved as the template “{out.value.name}”."))
