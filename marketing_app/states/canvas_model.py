"""What the canvas draws, computed from a flow: the component cards, their links and "+" stubs, the palette.

Pure functions (no Reflex), so they are tested without a browser. Everything about the flow itself (branches,
open links, validation) comes from engine.flow (ops, validate, registry); this module only turns it into the
props of the React Flow component: labels, summaries, red dots, dashed lines, where each "+" sits.
"""

import copy
import math
from collections.abc import Mapping
from typing import Any

from engine.components.conditions import OP_LABELS, Op
from engine.components.meta import SummaryContext, hints_of
from engine.flow import ops
from engine.flow.registry import REGISTRY, Category, get_spec
from engine.flow.validate import FlowProblem

Flow = dict[str, Any]

#: palette groups, in the order the left panel shows them
CATEGORY_ORDER = [Category.TRIGGER, Category.TOUCH, Category.CONTROL, Category.JUDGMENT, Category.DATA_PUSH]
#: CSS key of each category (colours in assets/canvas/flow_canvas.css)
CATEGORY_KEY = {
    Category.TRIGGER: "trigger", Category.TOUCH: "touch", Category.CONTROL: "control",
    Category.JUDGMENT: "judgment", Category.DATA_PUSH: "push",
}
#: the icon of a component whose type is unknown (a flow saved by a newer version)
DEFAULT_ICON = "Box"


def icons() -> dict[str, str]:
    """Type -> lucide icon (component name in lucide-react) of every component type, as each declares it."""
    return {t: spec.meta.icon for t, spec in REGISTRY.items()}


def terminal(component_type: str) -> bool:
    """Whether the type ends the route (End): drawn as a small cap, nothing to configure, not selected when added."""
    spec = get_spec(component_type)
    return spec is not None and spec.meta.terminal


def palette() -> list[dict[str, Any]]:
    """The left panel: every component type, grouped by category (palette order within a group)."""
    items = []
    for category in CATEGORY_ORDER:
        for spec in REGISTRY.values():
            if spec.category == category:
                items.append({"type": spec.type, "label": spec.label, "category": category.value,
                              "cat": CATEGORY_KEY[category], "icon": spec.meta.icon,
                              "blurb": spec.meta.blurb, "trigger": spec.is_trigger})
    return items


# ------------------------------------------------------------------------------------------------ starters


def starter_config(component_type: str) -> dict[str, Any]:
    """The configuration a new component starts with (its `meta.starter`): enough structure for its branches to
    show (one condition group, two 50/50 split groups), never a guessed value the marketer has to notice and
    correct."""
    spec = get_spec(component_type)
    return spec.meta.starter_config() if spec else {}


# ------------------------------------------------------------------------------------------------ labels


def _group_name(config: Mapping[str, Any], index: int) -> str:
    groups = config.get("groups") if isinstance(config, Mapping) else None
    if isinstance(groups, list) and index < len(groups) and isinstance(groups[index], Mapping):
        return str(groups[index].get("name") or "").strip()
    return ""


def branch_label(node: Mapping[str, Any], branch: str) -> str:
    """What the card shows next to a branch's handle ("" for the single "out")."""
    if branch == "out":
        return ""
    if branch == "others":
        return "Others"
    config = node.get("config") or {}
    if branch.startswith("group_") and branch[6:].isdigit():
        index = int(branch[6:]) - 1
        name = _group_name(config, index) or f"Group {index + 1}"
        spec = get_spec(str(node.get("type")))
        if spec is not None and spec.meta.splits:
            groups = config.get("groups") or []
            ratio = groups[index].get("ratio") if index < len(groups) and isinstance(groups[index], Mapping) else None
            return f"{name} · {ratio}%" if isinstance(ratio, int) else name
        return name
    return branch


def summary(node: Mapping[str, Any], audiences: Mapping[int, str], labels: Mapping[str, str]) -> str:
    """One line under the component's name: what it is set to do (its type's `meta.summary`)."""
    spec, config = get_spec(str(node.get("type"))), node.get("config") or {}
    if spec is None or not isinstance(config, Mapping):
        return ""
    return spec.meta.summary(config, SummaryContext(audiences=audiences, labels=labels))


def op_label(op: str) -> str:
    try:
        return OP_LABELS[Op(op)]
    except ValueError:
        return op


# ------------------------------------------------------------------------------------------------ the view


def node_labels(flow: Flow) -> dict[str, str]:
    """Node id -> "Text SMS (n4)"-style names, for pickers and messages."""
    out = {}
    for node in flow.get("nodes") or []:
        spec = get_spec(str(node.get("type")))
        out[str(node["id"])] = f"{spec.label if spec else node.get('type')} ({node['id']})"
    return out


def stub_offset(index: int, count: int) -> dict[str, float]:
    """Where the next component of branch `index` (of `count`) goes, relative to its source: the place
    engine.flow.ops puts a component added there, so the "+" sits where the new card will appear."""
    return {"x": float(ops.X_STEP), "y": (index - (count - 1) / 2) * ops.Y_STEP}


def view(flow: Flow, *, problems: list[FlowProblem] | None = None, audiences: Mapping[int, str] | None = None,
         hints: Mapping[str, Mapping[str, str]] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(nodes, edges) props of the canvas. `problems` (from a refused publish) highlight their components;
    `hints` (template key components) put a prompt above theirs."""
    audiences = audiences or {}
    hints = hints or {}
    flagged = {p.node_id for p in problems or [] if p.node_id}
    labels = node_labels(flow)
    edges = flow.get("edges") or []
    linked = {(str(e["source"]), str(e.get("branch") or "out")) for e in edges}
    configured: dict[str, bool] = {}
    nodes_out: list[dict[str, Any]] = []
    for node in flow.get("nodes") or []:
        nid = str(node["id"])
        spec = get_spec(str(node.get("type")))
        config = node.get("config") or {}
        ok = spec is not None and not spec.validate(config)
        configured[nid] = ok
        branches = ops.branches_of(node)
        pos = node.get("position") or {"x": 0, "y": 0}
        cat = spec.category if spec else Category.CONTROL
        hint = hints.get(nid)
        nodes_out.append({
            "id": nid,
            "type": str(node.get("type")),
            "label": node.get("label") or (spec.label if spec else str(node.get("type"))),
            "cat": CATEGORY_KEY[cat],
            "icon": spec.meta.icon if spec else DEFAULT_ICON,
            "summary": summary(node, audiences, labels) or ("" if ok else "Not configured"),
            "configured": ok,
            "problem": nid in flagged,
            "trigger": bool(spec and spec.is_trigger),
            "end": terminal(str(node.get("type"))),
            "position": {"x": float(pos.get("x", 0)), "y": float(pos.get("y", 0))},
            "auto": not isinstance(node.get("position"), Mapping),  # no saved place: the canvas lays it out
            "branches": [{"key": b, "label": branch_label(node, b), "open": (nid, b) not in linked,
                          "offset": stub_offset(i, len(branches))} for i, b in enumerate(branches)],
            "hint": dict(hint) if hint else None,
        })
    edges_out = [{
        "id": f"{e['source']}|{e.get('branch') or 'out'}|{e['target']}",
        "source": str(e["source"]),
        "branch": str(e.get("branch") or "out"),
        "target": str(e["target"]),
        "dashed": not configured.get(str(e["target"]), False),
    } for e in edges]
    return nodes_out, edges_out


def free_position(flow: Flow, source: str, branch: str) -> dict[str, float] | None:
    """Where a component added after (source, branch) goes when the branch already leads somewhere (a second
    successor): below the place ops would use, clear of the cards already there. None: ops' place is free."""
    nodes = {str(n["id"]): n for n in flow.get("nodes") or []}
    if source not in nodes:
        return None
    node = nodes[source]
    branches = ops.branches_of(node) or ["out"]
    index = branches.index(branch) if branch in branches else 0
    base = node.get("position") or {"x": 0, "y": 0}
    offset = stub_offset(index, len(branches))
    x, y = float(base.get("x", 0)) + offset["x"], float(base.get("y", 0)) + offset["y"]

    def taken(px: float, py: float) -> bool:
        return any(abs(float((n.get("position") or {}).get("x", 0)) - px) < ops.X_STEP * 0.8
                   and abs(float((n.get("position") or {}).get("y", 0)) - py) < ops.Y_STEP * 0.6
                   for n in nodes.values())

    if not taken(x, y):
        return None
    while taken(x, y):
        y += ops.Y_STEP
    return {"x": x, "y": y}


#: a chain wraps onto a new row after this many columns (Tidy up's ELK layout wraps long chains the same way),
#: so "Fit to screen" keeps a 10-component chain readable instead of one endless row
ROW_COLUMNS = 4
#: the gap between a wrapped row and the cards above it
ROW_GAP = 64


def place(flow: Flow, source: str, branch: str) -> dict[str, float] | None:
    """Where a component added after (source, branch) goes: next to its source (ops' place, or below it when
    taken: free_position), unless the chain has reached ROW_COLUMNS columns: then at the start of a new row under
    the whole flow. Only single-link sources wrap; a split's branches stay beside it. None: ops' place."""
    spot = free_position(flow, source, branch)
    nodes = {str(n["id"]): n for n in flow.get("nodes") or []}
    node = nodes.get(source)
    if node is None or len(ops.branches_of(node)) != 1:
        return spot
    base = node.get("position") or {"x": 0, "y": 0}
    x = spot["x"] if spot else float(base.get("x", 0)) + ops.X_STEP
    left = min(float((n.get("position") or {}).get("x", 0)) for n in nodes.values())
    if x - left < ROW_COLUMNS * ops.X_STEP:
        return spot
    bottom = max(_box(n)[3] for n in nodes.values())
    return {"x": left, "y": bottom + ROW_GAP}


#: approximate card sizes on the canvas (assets/canvas/flow_canvas.css), to keep new cards off existing ones
CARD_W, END_W, HEAD_H, BRANCH_H = 196, 112, 56, 24


def _box(node: dict[str, Any]) -> tuple[float, float, float, float]:
    pos = node.get("position") or {"x": 0, "y": 0}
    x, y = float(pos.get("x", 0)), float(pos.get("y", 0))
    if terminal(str(node.get("type"))):
        return x, y, x + END_W, y + 40
    branches = ops.branches_of(node)
    rows = len(branches) if len(branches) > 1 or any(b != "out" for b in branches) else 0
    return x, y, x + CARD_W, y + HEAD_H + rows * BRANCH_H + (8 if rows else 0)


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float], gap: float = 12) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def unclutter(flow: Flow, node_ids: list[str]) -> Flow:
    """Move the given (new) cards off the cards they landed on: down or up in half steps, nearest first.
    Only where they are drawn changes (ops.move_node); the flow itself is what ops made of it."""
    out = flow
    for nid in node_ids:
        nodes = {str(n["id"]): n for n in out.get("nodes") or []}
        node = nodes.get(nid)
        if node is None:
            continue
        others = [_box(n) for k, n in nodes.items() if k != nid]
        box = _box(node)
        if not any(_overlaps(box, o) for o in others):
            continue
        x, y = box[0], box[1]
        for k in range(1, 40):
            dy = (k + 1) // 2 * (ops.Y_STEP / 2) * (1 if k % 2 else -1)
            moved = (x, y + dy, box[2], box[3] + dy)
            if not any(_overlaps(moved, o) for o in others):
                out = ops.move_node(out, nid, {"x": x, "y": y + dy})
                break
    return out


def with_positions(flow: Flow, positions: Any) -> Flow:
    """The flow with its cards where a layout (Tidy up, assets/canvas/flow_layout.js) put them. Only finite
    numbers for components of this flow are taken; anything else in `positions` is ignored, so a stale or odd
    message cannot half-move the flow or add a card."""
    if not isinstance(positions, Mapping):
        return flow
    out = copy.deepcopy(flow)
    for node in out.get("nodes") or []:
        pos = positions.get(str(node["id"]))
        if not isinstance(pos, Mapping):
            continue
        x, y = pos.get("x"), pos.get("y")
        if all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (x, y)):
            node["position"] = {"x": float(x), "y": float(y)}
    return out


def ancestors(flow: Flow, node_id: str) -> list[str]:
    """Components on the links before `node_id` (what a Result Judgment may read)."""
    return [str(n["id"]) for n in flow.get("nodes") or []
            if str(n["id"]) != node_id and node_id in ops.descendants(flow, str(n["id"]))]


def send_sources(flow: Flow, node_id: str) -> list[tuple[str, str]]:
    """(node id, label) of the sending components before `node_id`: the choices of its field whose widget is
    "earlier_send" (Result Judgment reads their results); [] when its type has no such field."""
    nodes = {str(n["id"]): n for n in flow.get("nodes") or []}
    spec = get_spec(str(nodes.get(node_id, {}).get("type")))
    fields = spec.schema().get("properties", {}).values() if spec else []
    if not any(hints_of(f).get("widget") == "earlier_send" for f in fields):
        return []
    labels = node_labels(flow)
    return [(nid, labels[nid]) for nid in ancestors(flow, node_id)
            if (source := get_spec(str(nodes[nid].get("type")))) is not None and source.sends]
