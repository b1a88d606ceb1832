"""Validation before publish, as a pure walk over the flow.

Rules: exactly one trigger, first (no incoming link); a branch may feed several components (fan-out) and a
component may be fed by several links (reuse of a configured tail); every type known and configured (each
component's own `validate`: the red dot); edges join existing nodes on branches the source has; every branch
linked; every link ends in an End; no loops. Across components: Attribute Judgment needs a Behaviour Event
trigger; Result Judgment reads a Marketing Touch or Data Push component placed before it. Content moderation
(engine/flow/moderation.py): a touch component whose text holds one of the workspace's banned words (handed in
by the caller) or an SMS over the length limit cannot be published, with the reason on the component.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from engine.flow.moderation import moderate
from engine.flow.registry import Category, get_spec


@dataclass(frozen=True)
class FlowProblem:
    node_id: str | None  # the component to highlight (None: the flow as a whole)
    message: str


NODE_ID_MAX = 40  # CustomerStep.node_id, NodeCounter.node_id


def shape_problems(flow: Any) -> list[FlowProblem]:
    """What makes a value not a flow at all (the canvas never sends one; an API client or a bug might): an
    object with a list of nodes (objects with a unique string id — no ':', the runtime's key separator — a
    string type, an object config) and a list of edges (objects joining string ids). A draft may be incomplete,
    never malformed."""
    if not isinstance(flow, dict):
        return [FlowProblem(None, "The flow must be an object with 'nodes' and 'edges' lists.")]
    nodes, edges = flow.get("nodes", []), flow.get("edges", [])
    if not isinstance(nodes, list) or not isinstance(edges, list):
        return [FlowProblem(None, "The flow's 'nodes' and 'edges' must be lists.")]
    problems: list[FlowProblem] = []
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        nid = node.get("id") if isinstance(node, dict) else None
        if not isinstance(nid, str) or not nid or len(nid) > NODE_ID_MAX or ":" in nid:
            problems.append(FlowProblem(None, f"Component {i + 1} needs an id of 1 to {NODE_ID_MAX} characters "
                                              "without ':'."))
            continue
        if nid in seen:
            problems.append(FlowProblem(nid, f"Two components have the id '{nid}'."))
        seen.add(nid)
        if not isinstance(node.get("type"), str):
            problems.append(FlowProblem(nid, f"Component '{nid}' needs a type."))
        for key, kind in (("config", dict), ("label", str), ("position", dict)):
            if node.get(key) is not None and not isinstance(node[key], kind):
                problems.append(FlowProblem(nid, f"Component '{nid}': '{key}' must be "
                                                 f"{'an object' if kind is dict else 'text'}."))
    for i, edge in enumerate(edges):
        if not isinstance(edge, dict) or not all(isinstance(edge.get(k), str) and edge.get(k)
                                                 for k in ("source", "target")) \
                or not isinstance(edge.get("branch", "out"), str):
            problems.append(FlowProblem(None, f"Link {i + 1} must join two components by their ids "
                                              "(source, target, branch)."))
    return problems


def validate_flow(flow: dict[str, Any], banned_words: Collection[str] = ()) -> list[FlowProblem]:
    """Every problem that keeps the flow from being published; `banned_words`: the workspace's moderation list."""
    shape = shape_problems(flow)
    if shape:
        return shape
    nodes = {str(n.get("id")): n for n in flow.get("nodes") or []}
    edges = flow.get("edges") or []
    problems: list[FlowProblem] = []
    if not nodes:
        return [FlowProblem(None, "The flow is empty: add a trigger component (Target Audience or Behaviour Event).")]

    # a branch may feed several components at once (send SMS and WeChat to the same people)
    outgoing: dict[str, dict[str, list[str]]] = {nid: {} for nid in nodes}
    incoming: dict[str, int] = {nid: 0 for nid in nodes}
    for edge in edges:
        src, dst, branch = str(edge.get("source")), str(edge.get("target")), str(edge.get("branch") or "out")
        if src not in nodes or dst not in nodes:
            problems.append(FlowProblem(src if src in nodes else None, "A link points to a missing component."))
            continue
        outgoing[src].setdefault(branch, []).append(dst)
        incoming[dst] += 1

    for nid, node in nodes.items():
        spec = get_spec(str(node.get("type")))
        if spec is None:
            problems.append(FlowProblem(nid, f"Unknown component type '{node.get('type')}'."))
            continue
        label = node.get("label") or spec.label
        config = node.get("config") or {}
        if spec.is_trigger and incoming[nid]:
            problems.append(FlowProblem(nid, f"{label}: a trigger must be the first component."))
        if not spec.is_trigger and not incoming[nid]:
            problems.append(FlowProblem(nid, f"{label}: the flow must start with a trigger component."))
        for message in spec.validate(config):
            problems.append(FlowProblem(nid, f"{label} is not configured: {message}."))
        if spec.category == Category.TOUCH and isinstance(config, dict):
            for reason in moderate(str(node.get("type")), config, banned_words):
                problems.append(FlowProblem(nid, f"{label} fails moderation: {reason}."))
        branches = spec.branches(config)
        for branch in branches:
            if branch not in outgoing[nid]:
                problems.append(FlowProblem(nid, f"{label}: the '{branch}' link does not end in an End component."))
        for branch in outgoing[nid]:
            if branch not in branches:
                problems.append(FlowProblem(nid, f"{label} has no branch '{branch}'."))

    triggers = [nid for nid, n in nodes.items() if (s := get_spec(str(n.get("type")))) and s.is_trigger]
    if len(triggers) != 1:
        problems.append(FlowProblem(None, "A flow needs exactly one trigger component."))
    if _has_cycle(outgoing):
        problems.append(FlowProblem(None, "The flow contains a loop; every link must end in an End component."))
    else:
        problems += _cross_component_problems(nodes, outgoing, triggers)
    return problems


def _cross_component_problems(nodes: dict[str, dict[str, Any]], outgoing: dict[str, dict[str, list[str]]],
                              triggers: list[str]) -> list[FlowProblem]:
    problems: list[FlowProblem] = []
    parents: dict[str, set[str]] = {nid: set() for nid in nodes}
    for src, branches in outgoing.items():
        for targets in branches.values():
            for dst in targets:
                parents[dst].add(src)

    def ancestors(nid: str) -> set[str]:
        seen: set[str] = set()
        stack = list(parents[nid])
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(parents[current])
        return seen

    event_trigger = any(nodes[t].get("type") == "behavior_event" for t in triggers)
    for nid, node in nodes.items():
        spec = get_spec(str(node.get("type")))
        if spec is None:
            continue
        label = node.get("label") or spec.label
        config = node.get("config") or {}
        if node.get("type") == "attribute_judgment" and triggers and not event_trigger:
            problems.append(FlowProblem(nid, f"{label} reads the triggering event: the flow must start with a "
                                             "Behaviour Event."))
        source = config.get("node_id") if isinstance(config, dict) else None
        if node.get("type") == "result_judgment" and source:
            source_spec = get_spec(str(nodes.get(str(source), {}).get("type")))
            if str(source) not in ancestors(nid) or source_spec is None or not source_spec.sends:
                problems.append(FlowProblem(nid, f"{label}: '{source}' must be a Marketing Touch or Data Push "
                                                 "component before it."))
    return problems


def _has_cycle(outgoing: dict[str, dict[str, list[str]]]) -> bool:
    state: dict[str, int] = {}

    def visit(nid: str) -> bool:
        state[nid] = 1
        for nxt in (t for targets in outgoing.get(nid, {}).values() for t in targets):
            if state.get(nxt) == 1 or (state.get(nxt) is None and visit(nxt)):
                return True
        state[nid] = 2
        return False

    return any(state.get(nid) is None and visit(nid) for nid in outgoing)
