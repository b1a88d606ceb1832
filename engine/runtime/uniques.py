"""Distinct customers per component and version, estimated: one Redis HyperLogLog per (version, component),
`u:{version}:{node}`, fed by the walk (engine/runtime/step.py) in the pipelines it already sends.

Why an estimate at all: the exact count comes from the per-customer details (route and send rows,
engine/services/version_counters.py), which are kept 7 days and grow with the audience. A HyperLogLog is 12 KiB
at most whatever the audience (about 0.8 % standard error; small counts are held sparse and are close to exact),
so it answers for big versions and for versions whose details have expired. It is keyed by version, not round:
the union of a version's rounds is the version's distinct customers, and PFCOUNT of several keys is the union
over versions. A customer added twice (a retried walk, a second round) is counted once by construction.
"""

from collections.abc import Iterable
from typing import Any, cast

import redis

from engine.runtime.store import TTL

PREFIX = "u:"


def key(version_id: int, node_id: str) -> str:
    return f"{PREFIX}{version_id}:{node_id}"


def add(pipe: Any, version_id: int, seen: list[tuple[str, list[int]]]) -> None:
    """PFADD the customers each component saw (in the caller's pipeline, so it costs no round trip). The key's
    TTL is refreshed with every add: it lives 8 days after the version's last walk, as the round state does."""
    for node_id, ids in seen:
        if ids:
            name = key(version_id, node_id)
            pipe.pfadd(name, *ids)
            pipe.expire(name, TTL)


def estimates(r: redis.Redis, version_ids: Iterable[int], node_ids: Iterable[str]) -> dict[tuple[int, str], int]:
    """(version, node) → estimated distinct customers, for the keys Redis holds (one pipelined round trip)."""
    pairs = [(v, n) for v in version_ids for n in node_ids]
    if not pairs:
        return {}
    pipe = r.pipeline(transaction=False)
    for version_id, node_id in pairs:
        pipe.exists(key(version_id, node_id))
        pipe.pfcount(key(version_id, node_id))
    replies = cast(list[int], pipe.execute())
    return {pair: int(replies[2 * i + 1]) for i, pair in enumerate(pairs) if replies[2 * i]}


def union_estimates(r: redis.Redis, version_ids: list[int], node_ids: Iterable[str]) -> dict[str, int]:
    """node → estimated distinct customers over all `version_ids` (PFCOUNT of several keys is their union), for
    the nodes of which Redis holds at least one key."""
    nodes = list(node_ids)
    if not (version_ids and nodes):
        return {}
    pipe = r.pipeline(transaction=False)
    for node_id in nodes:
        names = [key(v, node_id) for v in version_ids]
        pipe.pfcount(*names)
        pipe.exists(*names)
    replies = cast(list[int], pipe.execute())
    return {n: int(replies[2 * i]) for i, n in enumerate(nodes) if replies[2 * i + 1]}
