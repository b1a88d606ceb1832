"""Pure look-ups on a flow: the trigger, a node, the components a branch leads to."""

import hashlib
import json
from typing import Any


class FlowGraph:
    def __init__(self, flow: dict[str, Any]) -> None:
        self.nodes: dict[str, dict[str, Any]] = {str(n["id"]): n for n in flow.get("nodes") or []}
        self.next: dict[tuple[str, str], list[str]] = {}
        incoming: set[str] = set()
        for edge in flow.get("edges") or []:
            key = (str(edge["source"]), str(edge.get("branch") or "out"))
            self.next.setdefault(key, []).append(str(edge["target"]))
            incoming.add(str(edge["target"]))
        roots = [nid for nid in self.nodes if nid not in incoming]
        self.trigger_id: str | None = roots[0] if roots else None

    def node(self, node_id: str) -> dict[str, Any]:
        return self.nodes[node_id]

    def targets(self, node_id: str, branch: str) -> list[str]:
        return self.next.get((node_id, branch), [])


_CACHE: dict[tuple[int, str], FlowGraph] = {}


def graph_for(version_id: int, flow: dict[str, Any]) -> FlowGraph:
    """Parse each flow once per worker. Keyed by the version and a digest of its content, so a cache never
    serves another database's version 1 (tests) or an edited draft."""
    digest = hashlib.blake2b(json.dumps(flow, sort_keys=True).encode(), digest_size=12).hexdigest()
    key = (version_id, digest)
    graph = _CACHE.get(key)
    if graph is None:
        if len(_CACHE) > 1024:
            _CACHE.clear()
        graph = _CACHE[key] = FlowGraph(flow)
    return graph


_TEXT_CACHE: dict[tuple[int, str], FlowGraph] = {}


def graph_for_text(version_id: int, text: str) -> FlowGraph:
    """`graph_for` from the flow column's stored JSON text: the hot paths (every walk, every event request)
    look the parsed graph up by the text itself instead of decoding, re-encoding and hashing the flow."""
    key = (version_id, text)
    graph = _TEXT_CACHE.get(key)
    if graph is None:
        if len(_TEXT_CACHE) > 1024:
            _TEXT_CACHE.clear()
        graph = _TEXT_CACHE[key] = graph_for(version_id, json.loads(text))
    return graph

