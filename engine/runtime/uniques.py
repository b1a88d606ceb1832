"""Distinct customers per component and version, estimated with Redis HyperLogLogs fed by the walk
(engine/runtime/step.py) in the pipeline that ends it.

Why an estimate at all: the exact count comes from the per-customer details (route and send rows,
engine/services/version_counters.py), which are kept 7 days and grow with the audience. A HyperLogLog is 12 KiB
at most whatever the audience (about 0.8 % standard error; small counts are held sparse and are close to exact),
so it answers for big versions and for versions whose details have expired. It is keyed by version, not round:
the union of a version's rounds is the version's distinct customers, and PFCOUNT of several keys is the union
over versions. A customer added twice (a retried walk, a second round) is counted once by construction.

One HyperLogLog per *route*, not per component: a walk's customers take a few routes (the set of components a
customer passed in that walk), so each customer is added once — to `u:{version}~{route}` — instead of once per
component it passed (packing a walk's ids for a PFADD per component was ~1.5 µs a customer on the worker; per
route ~0.7). The hash `u:{version}~routes` names each route's components; a component's distinct customers are
the union of the routes through it (PFCOUNT of their keys). Versions walked before this kept one HyperLogLog per
component, `u:{version}:{node}`: it is still read, in the same union.
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, cast

import redis

from engine.runtime.store import TTL

PREFIX = "u:"


def key(version_id: int, node_id: str) -> str:
    """A component's own HyperLogLog: how versions walked before the routes' were counted (still read)."""
    return f"{PREFIX}{version_id}:{node_id}"


def routes_key(version_id: int) -> str:
    """`~`, not `:`, after the version: no component id (any text) can make a component's own key collide."""
    return f"{PREFIX}{version_id}~routes"


def route_key(version_id: int, route: str) -> str:
    return f"{PREFIX}{version_id}~{route}"


def add(pipe: Any, version_id: int, seen: list[tuple[str, list[int]]], order: dict[str, int]) -> None:
    """PFADD each customer of a walk once, into the HyperLogLog of its route (in the caller's pipeline, so it
    costs no round trip). `seen` is what each component saw; `order` numbers the flow's components (fixed for a
    version: a route is the bit mask of its components' numbers, named in the routes hash). The keys' TTL is
    refreshed with every add: they live 8 days after the version's last walk, as the round state does."""
    masks: dict[int, int] = {}
    get = masks.get
    for node_id, ids in seen:
        bit = 1 << order[node_id]
        for cid in ids:
            masks[cid] = get(cid, 0) | bit
    if not masks:
        return
    by_route: dict[int, list[int]] = {}
    for cid, mask in masks.items():
        members = by_route.get(mask)
        if members is None:
            by_route[mask] = [cid]
        else:
            members.append(cid)
    names = sorted(order, key=order.__getitem__)
    routes = routes_key(version_id)
    for mask, ids in by_route.items():
        route = f"{mask:x}"
        name = route_key(version_id, route)
        pipe.pfadd(name, *ids)
        pipe.expire(name, TTL)
        pipe.hsetnx(routes, route, json.dumps([n for i, n in enumerate(names) if mask >> i & 1]))
    pipe.expire(routes, TTL)


def _keys(r: redis.Redis, version_ids: list[int], node_ids: list[str]) -> dict[tuple[int, str], list[str]]:
    """(version, node) → the HyperLogLogs whose union is its distinct customers: the routes through the node,
    and the node's own (older walks)."""
    pipe = r.pipeline(transaction=False)
    for version_id in version_ids:
        pipe.hgetall(routes_key(version_id))
    wanted = set(node_ids)
    out: dict[tuple[int, str], list[str]] = defaultdict(list)
    for version_id, routes in zip(version_ids, cast(list[dict[Any, Any]], pipe.execute()), strict=True):
        for route, nodes in routes.items():
            name = route_key(version_id, route.decode() if isinstance(route, bytes) else route)
            for node_id in json.loads(nodes):
                if node_id in wanted:
                    out[(version_id, node_id)].append(name)
    for version_id in version_ids:
        for node_id in node_ids:
            out[(version_id, node_id)].append(key(version_id, node_id))
    return out


def estimates(r: redis.Redis, version_ids: Iterable[int], node_ids: Iterable[str]) -> dict[tuple[int, str], int]:
    """(version, node) → estimated distinct customers, for the pairs of which Redis holds a key (two pipelined
    round trips)."""
    versions, nodes = list(version_ids), list(node_ids)
    if not (versions and nodes):
        return {}
    keys = _keys(r, versions, nodes)
    pairs = [(v, n) for v in versions for n in nodes]
    pipe = r.pipeline(transaction=False)
    for pair in pairs:
        pipe.exists(*keys[pair])
        pipe.pfcount(*keys[pair])
    replies = cast(list[int], pipe.execute())
    return {pair: int(replies[2 * i + 1]) for i, pair in enumerate(pairs) if replies[2 * i]}


def union_estimates(r: redis.Redis, version_ids: list[int], node_ids: Iterable[str]) -> dict[str, int]:
    """node → estimated distinct customers over all `version_ids` (PFCOUNT of several keys is their union), for
    the nodes of which Redis holds at least one key."""
    nodes = list(node_ids)
    if not (version_ids and nodes):
        return {}
    keys = _keys(r, version_ids, nodes)
    pipe = r.pipeline(transaction=False)
    for node_id in nodes:
        names = [name for v in version_ids for name in keys[(v, node_id)]]
        pipe.pfcount(*names)
        pipe.exists(*names)
    replies = cast(list[int], pipe.execute())
    return {n: int(replies[2 * i]) for i, n in enumerate(nodes) if replies[2 * i + 1]}
