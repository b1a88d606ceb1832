"""The canvas's graph edits as pure functions, without Reflex: one coarse action of the React Flow canvas
(assets/canvas/flow_canvas.jsx: {kind: "add", ...}) on the present flow gives an `Edit` — the new flow, what
to select, a message, or a question to ask first (delete, cut). CanvasState applies it to its undo history;
the unit tests call these directly.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.flow import ops
from marketing_app.states import canvas_model as model

Flow = dict[str, Any]


@dataclass
class Note:
    """A toast: level "info", "success" or "error"."""

    level: str
    text: str


@dataclass
class Question:
    """A confirmation asked before the edit (`pending` is what `confirmed` applies on OK)."""

    kind: str
    title: str
    body: str
    pending: dict[str, Any] = field(default_factory=dict)


@dataclass
class Edit:
    flow: Flow | None = None  # the new present flow; None leaves it as it was
    select: str | None = None  # the component selected afterwards (None: the selection stays)
    note: Note | None = None
    question: Question | None = None
    step: bool = True  # an undo step and an unsaved change; False: the canvas's own layout of an opened flow
    panel: bool = True  # the configuration panel follows (False: only positions moved)


def _after_add(flow: Flow, node_id: str, component_type: str) -> Edit:
    return Edit(flow=flow, select="" if model.terminal(component_type) else node_id)


def add_first(flow: Flow, a: dict[str, Any], _clip: ops.Clipboard | None) -> Edit:
    t = str(a.get("type"))
    new, nid = ops.add_node(flow, t, config=model.starter_config(t))
    return _after_add(new, nid, t)


def add(flow: Flow, a: dict[str, Any], _clip: ops.Clipboard | None) -> Edit:
    """Dropped on a "+" stub (or a free link): at the drop point, else where model.place puts it."""
    t, source, branch = str(a.get("type")), str(a.get("source")), str(a.get("branch") or "out")
    if isinstance(a.get("x"), int | float) and isinstance(a.get("y"), int | float):
        position = {"x": float(a["x"]), "y": float(a["y"])}
    else:
        position = model.place(flow, source, branch)
    new, nid = ops.add_node(flow, t, after=(source, branch), config=model.starter_config(t), position=position)
    return _after_add(model.unclutter(new, [nid]), nid, t)


def insert(flow: Flow, a: dict[str, Any], _clip: ops.Clipboard | None) -> Edit:
    t = str(a.get("type"))
    new, nid = ops.insert_on_link(flow, source=str(a.get("source")), branch=str(a.get("branch")),
                                  target=str(a.get("target")), component_type=t, config=model.starter_config(t))
    return _after_add(new, nid, t)


def connect(flow: Flow, a: dict[str, Any], _clip: ops.Clipboard | None) -> Edit:
    return Edit(flow=ops.connect(flow, source=str(a.get("source")), branch=str(a.get("branch") or "out"),
                                 target=str(a.get("target"))))


def move(flow: Flow, a: dict[str, Any], _clip: ops.Clipboard | None) -> Edit:
    return Edit(flow=ops.move_node(flow, str(a.get("id")), {"x": float(a.get("x", 0)), "y": float(a.get("y", 0))}),
                panel=False)


def tidy(flow: Flow, a: dict[str, Any], _clip: ops.Clipboard | None) -> Edit:
    """Tidy up: the layout the canvas computed (elkjs), as one undoable step."""
    return Edit(flow=model.with_positions(flow, a.get("positions")))


def layout(flow: Flow, a: dict[str, Any], _clip: ops.Clipboard | None) -> Edit:
    """A flow opened without saved positions, laid out by the canvas: kept as the present flow (not an undo
    step, not an unsaved change) so moves and saves start from what the marketer sees."""
    return Edit(flow=model.with_positions(flow, a.get("positions")), step=False, panel=False)


def add_ends(flow: Flow, _a: dict[str, Any], _clip: ops.Clipboard | None) -> Edit:
    new, added = ops.add_end_to_open_links(flow)
    if not added:
        return Edit(note=Note("info", "Every link already ends in a component."))
    return Edit(flow=model.unclutter(new, added),
                note=Note("success", f"Added {len(added)} End component{'s' if len(added) != 1 else ''}."))


def paste(flow: Flow, a: dict[str, Any], clip: ops.Clipboard | None) -> Edit:
    if clip is None:
        return Edit(note=Note("info", "Copy a component first (the copy icon above it, or Ctrl+C)."))
    new, mapping = ops.paste(flow, clip, after=(str(a.get("source")), str(a.get("branch"))))
    if len(mapping) == 1:
        new = model.unclutter(new, list(mapping.values()))
    return Edit(flow=new, select=mapping.get(clip.root, ""))


def paste_link(flow: Flow, a: dict[str, Any], clip: ops.Clipboard | None) -> Edit:
    if clip is None:
        return Edit()
    root = next(n for n in clip.nodes if str(n["id"]) == clip.root)
    new, nid = ops.insert_on_link(flow, source=str(a.get("source")), branch=str(a.get("branch")),
                                  target=str(a.get("target")), component_type=str(root.get("type")),
                                  config=dict(root.get("config") or {}))
    return Edit(flow=new, select=nid)


def paste_selected(flow: Flow, a: dict[str, Any], clip: ops.Clipboard | None) -> Edit:
    if clip is None:
        return Edit()
    node_id = str(a.get("id") or "")
    free = [b for n, b in ops.open_links(flow) if n == node_id]
    if not free:
        return Edit(note=Note("info", "Select a component with a free link, or click a + to paste."))
    return paste(flow, {"source": node_id, "branch": free[0]}, clip)


def delete(flow: Flow, a: dict[str, Any], _clip: ops.Clipboard | None) -> Edit:
    node_id = str(a.get("id") or "")
    _, doomed = ops.delete_with_subsequent(flow, node_id)
    labels = model.node_labels(flow)
    others = len(doomed) - 1
    body = ("It is removed with " + (f"the {others} components on its subsequent links." if others > 1
                                     else "the component on its subsequent link." if others == 1
                                     else "no subsequent components.") + " You can undo this.")
    return Edit(question=Question("delete", f"Delete {labels.get(node_id, node_id)}?", body,
                                  {"kind": "delete", "id": node_id}))


def cut(flow: Flow, a: dict[str, Any], _clip: ops.Clipboard | None) -> Edit:
    source, branch, target = str(a.get("source")), str(a.get("branch") or "out"), str(a.get("target"))
    _, doomed = ops.cut_link(flow, source=source, branch=branch, target=target)
    labels = model.node_labels(flow)
    body = (f"The line from {labels.get(source, source)} to {labels.get(target, target)} is removed"
            + (f", with the {len(doomed)} components after it that no other line reaches." if doomed else ".")
            + " You can undo this.")
    return Edit(question=Question("cut", "Cut this line?", body,
                                  {"kind": "cut", "source": source, "branch": branch, "target": target}))


EDITS: dict[str, Callable[[Flow, dict[str, Any], ops.Clipboard | None], Edit]] = {
    "add_first": add_first, "add": add, "insert": insert, "connect": connect, "move": move, "tidy": tidy,
    "layout": layout, "add_ends": add_ends, "paste": paste, "paste_link": paste_link,
    "paste_selected": paste_selected, "delete": delete, "cut": cut,
}


def edit(flow: Flow, action: dict[str, Any], clip: ops.Clipboard | None) -> Edit | None:
    """The edit of one canvas action; None for a kind that is not a graph edit. A refusal of engine.flow.ops
    (a cycle, a taken link...) comes back as an error note and leaves the flow as it was."""
    fn = EDITS.get(str(action.get("kind") or ""))
    if fn is None:
        return None
    try:
        return fn(flow, action, clip)
    except ops.FlowError as err:
        return Edit(note=Note("error", str(err)))


def confirmed(flow: Flow, pending: dict[str, Any]) -> Flow | None:
    """The flow after an answered question (`Question.pending`); None when there is nothing to apply. Raises
    ops.FlowError when the flow no longer allows it."""
    if pending.get("kind") == "delete":
        return ops.delete_with_subsequent(flow, str(pending["id"]))[0]
    if pending.get("kind") == "cut":
        return ops.cut_link(flow, source=pending["source"], branch=pending["branch"], target=pending["target"])[0]
    return None
