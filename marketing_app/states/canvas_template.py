"""The template details window of a canvas made from a template: its key components (configured yet or not)
and their hints ("View rules" / "View content" on the card opens the hint dialog). Filled by CanvasState after
every change of the flow; "Don't show again" is CanvasState.hide_template (it re-draws the cards)."""

from dataclasses import dataclass
from typing import Any

import reflex as rx

from engine.flow.templates import KeyComponent, get_template
from engine.services.canvas import CanvasView
from marketing_app.states import canvas_model as model

Flow = dict[str, Any]


@dataclass
class KeyItem:
    node_id: str = ""
    label: str = ""
    hint: str = ""
    action: str = ""
    configured: bool = False


def key_components(template_key: str, flow: Flow) -> list[KeyComponent]:
    """The template's key components still in the flow (same id, same type as the template placed)."""
    template = get_template(template_key) if template_key else None
    if template is None:
        return []
    preset = {str(n["id"]): n.get("type") for n in template.flow["nodes"]}
    here = {str(n["id"]): n.get("type") for n in flow.get("nodes") or []}
    return [k for k in template.key_components if k.node_id in here and here[k.node_id] == preset.get(k.node_id)]


class CanvasTemplateState(rx.State):
    template_name: str = ""
    key_items: list[KeyItem] = []
    template_open: bool = True
    template_visible: bool = False
    hint_open: bool = False
    hint_title: str = ""
    hint_action: str = ""
    hint_detail: str = ""
    _template_key: str = ""  # "" when none or hidden for good

    def show(self, view: CanvasView) -> None:
        self._template_key = view.template_key
        self.template_name = view.template_name
        self.template_visible = bool(view.template_key) and not view.read_only
        self.template_open = True

    def hide(self) -> None:
        self.template_visible, self._template_key = False, ""

    def hints(self, flow: Flow) -> dict[str, dict[str, str]]:
        """The hint of each key component, as its card shows it."""
        return {k.node_id: {"text": k.hint, "action": k.action} for k in key_components(self._template_key, flow)}

    def refresh(self, flow: Flow, nodes: list[dict[str, Any]]) -> None:
        if not self._template_key:
            return
        done = {n["id"]: n["configured"] for n in nodes}
        labels = model.node_labels(flow)
        self.key_items = [KeyItem(node_id=k.node_id, label=labels.get(k.node_id, k.node_id), hint=k.hint,
                                  action=k.action, configured=done.get(k.node_id, False))
                          for k in key_components(self._template_key, flow)]

    def open_hint(self, flow: Flow, node_id: str) -> None:
        key = next((k for k in key_components(self._template_key, flow) if k.node_id == node_id), None)
        if key is None:
            return
        self.hint_title = f"{key.action} · {model.node_labels(flow).get(node_id, node_id)}"
        self.hint_action, self.hint_detail = key.action, key.detail
        self.hint_open = True

    @rx.event
    def toggle_template(self):
        self.template_open = not self.template_open

    @rx.event
    def set_hint_open(self, is_open: bool):
        self.hint_open = is_open

    @rx.event
    def copy_hint(self):
        return [rx.set_clipboard(self.hint_detail), rx.toast.success("Copied to the clipboard.")]
