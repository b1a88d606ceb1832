"""The touch components' message templates on the canvas panel (`TemplatePicker`): "Pick a template" fills the
selected component's content (and subject) — one configure step, undo-able — and "Save as template" saves its
current content as a new template, also from a read-only canvas (saving a template changes no flow)."""

from typing import Any

import reflex as rx

from engine.services import message_templates as svc
from marketing_app.states.canvas import CanvasState
from marketing_app.states.template_picker import TemplatePicker


class CanvasMessageTemplateState(TemplatePicker, rx.State):
    async def _edited(self, *, to_fill: bool) -> tuple[str, dict[str, Any]] | None:
        doc = await self.get_state(CanvasState)
        if to_fill:
            got = doc.selected_config()  # None on a read-only canvas
        else:
            node = next((n for n in doc.flow.get("nodes") or [] if str(n["id"]) == doc.selected), None)
            got = (str(node.get("type")), dict(node.get("config") or {})) if node is not None else None
        return got if got is not None and got[0] in svc.CHANNELS else None

    async def _fill(self, config: dict[str, Any], name: str):  # noqa: ANN202 — an event's return
        doc = await self.get_state(CanvasState)
        await doc.configure(config, renew=True)
        return rx.toast.success(f"Filled from the template “{name}” (Ctrl+Z undoes it).")
