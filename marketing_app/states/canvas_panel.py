"""The canvas's configuration panel: what it shows for the selected component (CanvasPanelState), filled by
CanvasState after every change of the selection or of the flow. Its own state, so a graph change does not
re-render the panel and a field edit does not re-render the canvas; only what changed is sent.

The edits of its fields are CanvasConfigState's events (states/canvas_config.py): each one a configure step
on the canvas's flow.
"""

from typing import Any

import reflex as rx

from engine.flow.registry import get_spec
from engine.services.message_templates import CHANNELS as TEMPLATE_CHANNELS
from marketing_app.states import canvas_form as form
from marketing_app.states import canvas_model as model

Flow = dict[str, Any]
EMPTY: dict[str, Any] = {"node_id": "", "rows": [], "title": "", "kind": "", "category": "", "icon": "",
                         "problems": [], "issues": 0, "templates": False}


def clean(message: str) -> str:
    return message.replace("String should have at least 1 character", "required")


def panel_view(flow: Flow, selected: str, *, gen: int, audiences: list[tuple[int, str]],
               replacing: set[str]) -> dict[str, Any]:
    """What the panel shows for `selected` in `flow`: its field rows (canvas_form) with their errors, and the
    problems no field shows. `gen` renews the uncontrolled inputs; `replacing`: the secret rows whose
    "replace" was clicked."""
    node = next((n for n in flow.get("nodes") or [] if str(n["id"]) == selected), None)
    spec = get_spec(str(node.get("type"))) if node else None
    if node is None or spec is None:
        return dict(EMPTY)
    config = node.get("config") or {}
    problems = [clean(p) for p in spec.validate(config)]
    ctx = form.Context(spec.type, gen=gen, audiences=list(audiences),
                       sources=model.send_sources(flow, selected),
                       errors={k: clean(v) for k, v in form.problems_by_path(problems).items()},
                       replacing=replacing)
    return {"node_id": selected, "rows": form.rows(spec.type, config, ctx), "title": spec.label, "kind": spec.type,
            "category": spec.category.value, "icon": model.CATEGORY_KEY[spec.category],
            "problems": [form.humanize(spec.type, p) for p in ctx.unshown(problems)], "issues": len(problems),
            "templates": spec.type in TEMPLATE_CHANNELS}


class CanvasPanelState(rx.State):
    """The configuration panel of the selected component."""

    node_id: str = ""
    rows: list[form.FieldRow] = []
    title: str = ""
    kind: str = ""
    category: str = ""
    icon: str = ""
    problems: list[str] = []  # what no field of the panel shows next to it
    issues: int = 0
    templates: bool = False  # a touch component whose content can come from / go to a message template
    read_only: bool = True
    _gen: int = 0  # renews the panel's uncontrolled inputs (a new selection, an item added or removed...)
    _replacing: set[str] = set()  # "<node>:<secret row key>" of write-only fields whose replace was clicked

    def renew(self) -> None:
        """The next refresh re-creates the inputs (their typed text is dropped for the config's)."""
        self._gen += 1

    def replacing_of(self, node_id: str) -> set[str]:
        return {k.partition(":")[2] for k in self._replacing if k.partition(":")[0] == node_id}

    def refresh(self, flow: Flow, selected: str, *, read_only: bool, audiences: list[tuple[int, str]]) -> None:
        view = panel_view(flow, selected, gen=self._gen, audiences=audiences,
                          replacing=self.replacing_of(selected)) | {"read_only": read_only}
        for key, value in view.items():
            if getattr(self, key) != value:  # an unchanged list is not sent (nor re-rendered) again
                setattr(self, key, value)
