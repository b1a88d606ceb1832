"""The canvas header's version: the one shown, its note, and the dropdown of every version (opening one shows
it read-only; the current one opens for editing). Filled by CanvasState.load from the canvas view."""

from dataclasses import dataclass

import reflex as rx

from engine.services.canvas import CanvasView
from marketing_app.routes import canvas_route


@dataclass
class VersionChoice:
    id: str = ""
    label: str = ""
    note: str = ""
    current: bool = False
    shown: bool = False


class CanvasVersionsState(rx.State):
    activity_id: int = 0
    version: str = ""  # "V3"
    version_note: str = ""
    editing_note: str = ""  # "Saving creates V4; …" (the service's decision)
    versions: list[VersionChoice] = []

    def show(self, view: CanvasView) -> None:
        self.activity_id, self.version, self.version_note = view.activity_id, view.version_label, view.version_note
        self.editing_note = view.editing_note
        self.versions = [VersionChoice(id=str(v.id), label=v.label, note=v.note, current=v.current, shown=v.shown)
                         for v in view.versions]

    @rx.event
    def open_version(self, version_id: str):
        choice = next((v for v in self.versions if v.id == version_id), None)
        if choice is None or choice.shown:
            return None
        if choice.current:
            return rx.redirect(canvas_route(self.activity_id, mode="edit"))
        return rx.redirect(canvas_route(self.activity_id, version=version_id))
