"""Pure operations on a flow, the canvas's verbs: add, insert on a link, connect, add End to every open link,
delete a component with its subsequent links, cut a link, copy / paste a component or a subtree, undo / redo.

Every function takes a flow dict and returns a NEW flow (inputs are never mutated), so undo is just keeping
the previous value. Node ids are "n<k>" and never contain ":" (message ids use it as a separator).
"""

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.flow.registry import get_spec

Flow = dict[str, Any]
X_STEP, Y_STEP = 260, 140


class FlowError(ValueError):
    """An operation the canvas must refuse (the message is shown as is)."""


def empty() -> Flow:
    return {"nodes": [], "edges": []}


def _clone(flow: Flow) -> Flow:
    return {"nodes": copy.deepcopy(list(flow.get("nodes") or [])),
            "edges": copy.deepcopy(list(flow.get("edges") or []))}


def _nodes(flow: Flow) -> dict[str, dict[str, Any]]:
    return {str(n["id"]): n for n in flow["nodes"]}


def new_id(flow: Flow, taken: Iterable[str] = ()) -> str:
    used = {str(n["id"]) for n in flow.get("nodes") or []} | set(taken)
    k = len(used) + 1
    while f"n{k}" in used:
        k += 1
    return f"n{k}"


def children(flow: Flow, node_id: str) -> list[str]:
    return [str(e["target"]) for e in flow.get("edges") or [] if str(e["source"]) == node_id]


def parents(flow: Flow, node_id: str) -> list[str]:
    return [str(e["source"]) for e in flow.get("edges") or [] if str(e["target"]) == node_id]


def roots(flow: Flow) -> list[str]:
    targets = {str(e["target"]) for e in flow.get("edges") or []}
    return [str(n["id"]) for n in flow.get("nodes") or [] if str(n["id"]) not in targets]


def descendants(flow: Flow, node_id: str) -> list[str]:
    """Every component on the links after `node_id` (breadth first, without it)."""
    seen: list[str] = []
    queue = children(flow, node_id)
    while queue:
        nxt = queue.pop(0)
        if nxt not in seen and nxt != node_id:
            seen.append(nxt)
            queue.extend(children(flow, nxt))
    return seen


def branches_of(node: dict[str, Any]) -> list[str]:
    spec = get_spec(str(node.get("type")))
    if spec is None:
        return []
    try:
        return spec.branches(node.get("config") or {})
    except Exception:  # noqa: BLE001 — a half-configured judgment still shows its known branches
        return []


def open_links(flow: Flow) -> list[tuple[str, str]]:
    """(node, branch) pairs with no component after them: where "+" shows and End is required."""
    linked = {(str(e["source"]), str(e.get("branch") or "out")) for e in flow.get("edges") or []}
    return [(str(n["id"]), b) for n in flow.get("nodes") or [] for b in branches_of(n)
            if (str(n["id"]), b) not in linked]


def _position_after(flow: Flow, source: str | None, branch: str) -> dict[str, float]:
    nodes = _nodes(flow)
    if source is None or source not in nodes:
        return {"x": 0.0, "y": 0.0}
    base = nodes[source].get("position") or {"x": 0, "y": 0}
    branches = branches_of(nodes[source]) or ["out"]
    index = branches.index(branch) if branch in branches else 0
    offset = (index - (len(branches) - 1) / 2) * Y_STEP
    return {"x": float(base.get("x", 0)) + X_STEP, "y": float(base.get("y", 0)) + offset}


def add_node(flow: Flow, component_type: str, *, after: tuple[str, str] | None = None,
             config: dict[str, Any] | None = None, position: dict[str, float] | None = None) -> tuple[Flow, str]:
    """Add a component, at the end of a link (`after` = (node, branch)) or as the first component."""
    spec = get_spec(component_type)
    if spec is None:
        raise FlowError(f"Unknown component type '{component_type}'.")
    out = _clone(flow)
    if after is None:
        if out["nodes"]:
            raise FlowError("Add a component at the end of a link (the \"+\"), or insert it on a line.")
        if not spec.is_trigger:
            raise FlowError("The first component must be a trigger: Target Audience or Behaviour Event.")
    else:
        source, branch = after
        if source not in _nodes(out):
            raise FlowError("That component no longer exists.")
        if spec.is_trigger:
            raise FlowError("A trigger can only be the first component.")
        if branch not in branches_of(_nodes(out)[source]):
            raise FlowError(f"{_nodes(out)[source].get('type')} has no '{branch}' link.")
    node_id = new_id(out)
    out["nodes"].append({"id": node_id, "type": component_type, "config": copy.deepcopy(config or {}),
                         "position": position or _position_after(out, after[0] if after else None,
                                                                 after[1] if after else "out")})
    if after is not None:
        out["edges"].append({"source": after[0], "branch": after[1], "target": node_id})
    return out, node_id


def insert_on_link(flow: Flow, *, source: str, branch: str, target: str, component_type: str,
                   config: dict[str, Any] | None = None) -> tuple[Flow, str]:
    """Put a component on a line: source →(branch) new →(its first link) target."""
    edges = flow.get("edges") or []
    if not any(str(e["source"]) == source and str(e.get("branch") or "out") == branch and str(e["target"]) == target
               for e in edges):
        raise FlowError("That link no longer exists.")
    spec = get_spec(component_type)
    if spec is None or spec.is_trigger:
        raise FlowError("A trigger can only be the first component.")
    out, node_id = add_node(_remove_edge(flow, source, branch, target), component_type, after=(source, branch),
                            config=config)
    branches = branches_of(_nodes(out)[node_id])
    first = branches[0] if branches else None
    if first is not None:
        out["edges"].append({"source": node_id, "branch": first, "target": target})
    out = _shift_right(out, [target, *descendants(out, target)])
    return out, node_id


def _shift_right(flow: Flow, ids: list[str]) -> Flow:
    for node in flow["nodes"]:
        if str(node["id"]) in ids:
            pos = node.setdefault("position", {"x": 0, "y": 0})
            pos["x"] = float(pos.get("x", 0)) + X_STEP
    return flow


def _remove_edge(flow: Flow, source: str, branch: str, target: str) -> Flow:
    out = _clone(flow)
    out["edges"] = [e for e in out["edges"] if not (str(e["source"]) == source and
                                                   str(e.get("branch") or "out") == branch and
                                                   str(e["target"]) == target)]
    return out


def connect(flow: Flow, *, source: str, branch: str, target: str) -> Flow:
    """A link from a component's branch to another component (several successors, or reuse of a tail)."""
    nodes = _nodes(flow)
    if source not in nodes or target not in nodes:
        raise FlowError("That component no longer exists.")
    if branch not in branches_of(nodes[source]):
        raise FlowError(f"{nodes[source].get('type')} has no '{branch}' link.")
    spec = get_spec(str(nodes[target].get("type")))
    if spec is not None and spec.is_trigger:
        raise FlowError("Nothing can link into a trigger.")
    if target == source or source in descendants(flow, target):
        raise FlowError("That link would make a loop.")
    if any(str(e["source"]) == source and str(e.get("branch") or "out") == branch and str(e["target"]) == target
           for e in flow.get("edges") or []):
        raise FlowError("These components are already linked.")
    out = _clone(flow)
    out["edges"].append({"source": source, "branch": branch, "target": target})
    return out


def add_end_to_open_links(flow: Flow) -> tuple[Flow, list[str]]:
    """One click: an End at the end of every open link."""
    out = _clone(flow)
    added: list[str] = []
    for source, branch in open_links(flow):
        node_id = new_id(out)
        out["nodes"].append({"id": node_id, "type": "end", "config": {},
                             "position": _position_after(out, source, branch)})
        out["edges"].append({"source": source, "branch": branch, "target": node_id})
        added.append(node_id)
    return out, added


def _reachable_without(flow: Flow, removed: set[str]) -> set[str]:
    """Nodes still reachable from the trigger when `removed` nodes are gone."""
    nodes = _nodes(flow)
    starts = [r for r in roots(flow) if r not in removed and (spec := get_spec(str(nodes[r].get("type"))))
              and spec.is_trigger]
    seen: set[str] = set()
    while starts:
        nid = starts.pop()
        if nid in seen or nid in removed:
            continue
        seen.add(nid)
        starts.extend(children(flow, nid))
    return seen


def _drop(flow: Flow, doomed: set[str]) -> Flow:
    out = _clone(flow)
    out["nodes"] = [n for n in out["nodes"] if str(n["id"]) not in doomed]
    out["edges"] = [e for e in out["edges"] if str(e["source"]) not in doomed and str(e["target"]) not in doomed]
    return out


def delete_with_subsequent(flow: Flow, node_id: str) -> tuple[Flow, list[str]]:
    """Delete a component and every component on its subsequent links — except a shared tail that another
    path still reaches."""
    if node_id not in _nodes(flow):
        raise FlowError("That component no longer exists.")
    candidates = {node_id, *descendants(flow, node_id)}
    if node_id in roots(flow):
        doomed = candidates
    else:
        still = _reachable_without(flow, {node_id})
        doomed = {n for n in candidates if n not in still}
    return _drop(flow, doomed), sorted(doomed)


def cut_link(flow: Flow, *, source: str, branch: str, target: str) -> tuple[Flow, list[str]]:
    """Scissors on a line: remove the link and the subsequent components no other path reaches."""
    out = _remove_edge(flow, source, branch, target)
    if len(out["edges"]) == len(flow.get("edges") or []):
        raise FlowError("That link no longer exists.")
    reachable = _reachable_without(out, set())
    doomed = {n for n in [target, *descendants(flow, target)] if n not in reachable}
    return _drop(out, doomed), sorted(doomed)


@dataclass
class Clipboard:
    """What was copied: one component, or a component with its subsequent links."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    root: str


def copy_node(flow: Flow, node_id: str, *, with_subsequent: bool = False) -> Clipboard:
    nodes = _nodes(flow)
    if node_id not in nodes:
        raise FlowError("That component no longer exists.")
    spec = get_spec(str(nodes[node_id].get("type")))
    if spec is not None and spec.is_trigger:
        raise FlowError("A trigger cannot be copied: a flow has one.")
    ids = [node_id, *(descendants(flow, node_id) if with_subsequent else [])]
    picked = set(ids)
    return Clipboard(nodes=[copy.deepcopy(nodes[i]) for i in ids],
                     edges=[copy.deepcopy(e) for e in flow.get("edges") or []
                            if str(e["source"]) in picked and str(e["target"]) in picked],
                     root=node_id)


def paste(flow: Flow, clip: Clipboard, *, after: tuple[str, str]) -> tuple[Flow, dict[str, str]]:
    """Paste at the end of a link: new ids, same configuration, laid out from the link's end."""
    source, branch = after
    nodes = _nodes(flow)
    if source not in nodes or branch not in branches_of(nodes[source]):
        raise FlowError("Paste at the end of a link.")
    out = _clone(flow)
    mapping: dict[str, str] = {}
    for node in clip.nodes:
        mapping[str(node["id"])] = new_id(out, mapping.values())
    origin = next(n for n in clip.nodes if str(n["id"]) == clip.root).get("position") or {"x": 0, "y": 0}
    target = _position_after(flow, source, branch)
    for node in clip.nodes:
        pos = node.get("position") or {"x": 0, "y": 0}
        out["nodes"].append({**copy.deepcopy(node), "id": mapping[str(node["id"])],
                             "position": {"x": target["x"] + float(pos.get("x", 0)) - float(origin.get("x", 0)),
                                          "y": target["y"] + float(pos.get("y", 0)) - float(origin.get("y", 0))}})
    for edge in clip.edges:
        out["edges"].append({"source": mapping[str(edge["source"])], "branch": edge.get("branch") or "out",
                             "target": mapping[str(edge["target"])]})
    out["edges"].append({"source": source, "branch": branch, "target": mapping[clip.root]})
    return out, mapping


def move_node(flow: Flow, node_id: str, position: dict[str, float]) -> Flow:
    out = _clone(flow)
    for node in out["nodes"]:
        if str(node["id"]) == node_id:
            node["position"] = {"x": float(position["x"]), "y": float(position["y"])}
            return out
    raise FlowError("That component no longer exists.")


def configure(flow: Flow, node_id: str, config: dict[str, Any]) -> Flow:
    out = _clone(flow)
    for node in out["nodes"]:
        if str(node["id"]) == node_id:
            node["config"] = copy.deepcopy(config)
            # branches may have changed (fewer groups): links from branches that no longer exist go
            keep = set(branches_of(node))
            out["edges"] = [e for e in out["edges"]
                            if str(e["source"]) != node_id or str(e.get("branch") or "out") in keep]
            return out
    raise FlowError("That component no longer exists.")


@dataclass
class History:
    """Undo / redo over whole flows (each operation returns a new flow, so a step is one value)."""

    present: Flow = field(default_factory=empty)
    past: list[Flow] = field(default_factory=list)
    future: list[Flow] = field(default_factory=list)
    limit: int = 100

    def push(self, flow: Flow) -> Flow:
        if flow != self.present:
            self.past = [*self.past, self.present][-self.limit:]
            self.present, self.future = flow, []
        return self.present

    def undo(self) -> Flow:
        if self.past:
            self.future = [self.present, *self.future]
            self.present, self.past = self.past[-1], self.past[:-1]
        return self.present

    def redo(self) -> Flow:
        if self.future:
            self.past = [*self.past, self.present][-self.limit:]
            self.present, self.future = self.future[0], self.future[1:]
        return self.present

    @property
    def can_undo(self) -> bool:
        return bool(self.past)

    @property
    def can_redo(self) -> bool:
        return bool(self.future)
