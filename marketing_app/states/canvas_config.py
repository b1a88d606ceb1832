"""The configuration panel's edits: each field change is one configure step on the canvas's flow
(CanvasState.configure: an undo step; the panel then shows the new config). The field logic itself is
canvas_form's pure functions. Secret fields are write-only: a typed value goes straight to the secret service
and only its marker enters the flow, so the value never travels back to the page."""

from collections.abc import Callable
from typing import Any

import reflex as rx

from engine.services import secrets as secret_service
from marketing_app.states import canvas_form as form
from marketing_app.states.canvas import CanvasState
from marketing_app.states.canvas_panel import CanvasPanelState
from marketing_app.states.service import run

Config = dict[str, Any]


class CanvasConfigState(rx.State):
    """No vars: the events of the panel's fields (what the panel shows is CanvasPanelState)."""

    async def _edit(self, change: Callable[[str, Config], Config], *, renew: bool = False) -> None:
        """`change(type, config)` → the selected component's new config; `renew` re-creates the panel's inputs
        (an item added or removed: the rows move)."""
        doc = await self.get_state(CanvasState)
        got = doc.selected_config()
        if got is not None:
            await doc.configure(change(*got), renew=renew)

    @rx.event
    async def set_field(self, path: str, text: str):
        await self._edit(lambda kind, config: form.set_text(kind, config, path, text))

    @rx.event
    async def set_switch(self, path: str, checked: bool):
        await self._edit(lambda _, config: form.set_at(config, path, bool(checked)))

    @rx.event
    async def toggle_choice(self, path: str, choice: str):
        await self._edit(lambda _, config: form.toggle_choice(config, path, choice))

    @rx.event
    async def add_item(self, path: str):
        await self._edit(lambda kind, config: form.add_item(kind, config, path), renew=True)

    @rx.event
    async def remove_item(self, path: str):
        await self._edit(lambda _, config: form.remove_item(config, path), renew=True)

    @rx.event
    async def add_pair(self, path: str):
        await self._edit(lambda _, config: form.add_pair(config, path), renew=True)

    @rx.event
    async def set_pair(self, path: str, index: int, value: str):
        await self._edit(lambda _, config: form.set_pair_value(config, path, int(index), value))

    @rx.event
    async def remove_pair(self, path: str, index: int):
        await self._edit(lambda _, config: form.remove_pair(config, path, int(index)), renew=True)

    @rx.event
    async def insert_variable(self, path: str, variable: str):
        await self._edit(lambda _, config: form.insert_variable(config, path, variable), renew=True)

    @rx.event
    async def rename_pair(self, path: str, index: int, key: str):
        doc = await self.get_state(CanvasState)
        got = doc.selected_config()
        if got is None:
            return
        renamed = form.rename_pair(got[1], path, int(index), key)
        if renamed == got[1]:  # refused (empty or taken): the box shows the name kept
            (await self.get_state(CanvasPanelState)).renew()
        await doc.configure(renamed)

    @rx.event
    async def replace_secret(self, path: str, index: int):
        """"set · replace": show the write-only input of a secret that is set (its value is never shown)."""
        doc = await self.get_state(CanvasState)
        if doc.selected_config() is None:
            return
        panel = await self.get_state(CanvasPanelState)
        panel._replacing = panel._replacing | {f"{doc.selected}:{form.secret_key(path, int(index))}"}
        await doc.refresh_panel()

    @rx.event
    async def set_secret(self, path: str, index: int, value: str):
        """A value typed into a write-only field: stored encrypted at once by the secret service; only its
        marker enters the flow (and the state), so the value never travels back to the page."""
        doc = await self.get_state(CanvasState)
        got = doc.selected_config()
        if got is None:
            return None
        panel = await self.get_state(CanvasPanelState)
        handle = f"{doc.selected}:{form.secret_key(path, int(index))}"
        field_path = form.secret_field_path(got[1], path, int(index))
        if not str(value or "").strip() or field_path is None:  # left empty: the secret set stays as it was
            if handle in panel._replacing:
                panel._replacing = panel._replacing - {handle}
                await doc.refresh_panel(renew=True)
            return None
        aid, node_id, node_type, typed = doc.activity_id, doc.selected, got[0], str(value)
        out = await run(self, lambda s, u: secret_service.set_secret(
            session=s, actor=u, activity_id=aid, node_id=node_id, node_type=node_type, path=field_path,
            value=typed), write=True)
        if not out.ok or out.value is None:
            return out.problem()
        panel._replacing = panel._replacing - {handle}
        await doc.configure(form.set_secret_marker(got[1], path, int(index), out.value), renew=True)
        return None

    @rx.event
    async def close_panel(self):
        doc = await self.get_state(CanvasState)
        await doc.select("")
        await doc.flush_panel()
