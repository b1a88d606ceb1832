"""Redis state of running rounds. Every write is idempotent so a retried message changes nothing:

- batch members   `b:{record}:{batch}`          packed customer ids (written once, same content on retry)
- pending batches `pending:{record}`            set of batch keys not yet done; empty + entry closed = done
- counters        `c:{record}:{node}:{metric}`  hash batch key → count; the total is the sum (overwrite-safe)
- send results    `r:{record}:{node}`           hash customer id → success / failed / pending / receipt
- trigger props   `tp:{record}`                 hash customer id → JSON of the triggering event's properties
- parked waits    `waits`                       sorted set, score = wake time, member = JSON (record,node,batch)
- failures        `failed:{record}`             hash node → reason (a component failed: Abnormal End)
"""

import json
from array import array
from collections.abc import Iterable
from typing import Any

import redis

TTL = 8 * 24 * 3600  # beyond the 7-day detail retention


def _ids_to_bytes(ids: Iterable[int]) -> bytes:
    return array("q", ids).tobytes()


def _bytes_to_ids(raw: bytes | None) -> list[int]:
    if not raw:
        return []
    out = array("q")
    out.frombytes(raw)
    return out.tolist()


class RoundStore:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r

    # ---- batches
    def put_batch(self, record_id: int, batch: str, ids: list[int], pipe: Any = None) -> None:
        (pipe or self.r).set(f"b:{record_id}:{batch}", _ids_to_bytes(ids), ex=TTL)

    def get_batch(self, record_id: int, batch: str) -> list[int]:
        return _bytes_to_ids(self.r.get(f"b:{record_id}:{batch}"))

    def add_pending(self, record_id: int, batches: list[str], pipe: Any = None) -> None:
        if batches:
            target = pipe or self.r
            target.sadd(f"pending:{record_id}", *batches)
            target.expire(f"pending:{record_id}", TTL)

    def done(self, record_id: int, batch: str) -> int:
        """Mark a batch done; returns how many batches are still pending (atomically with the removal)."""
        pipe = self.r.pipeline(transaction=True)
        pipe.srem(f"pending:{record_id}", batch)
        pipe.scard(f"pending:{record_id}")
        return int(pipe.execute()[1])

    def pending(self, record_id: int) -> int:
        return int(self.r.scard(f"pending:{record_id}"))

    # ---- counters
    def count(self, record_id: int, node_id: str, batch: str, metrics: dict[str, int], pipe: Any = None) -> None:
        target = pipe or self.r
        for metric, value in metrics.items():
            key = f"c:{record_id}:{node_id}:{metric}"
            target.hset(key, batch, int(value))
            target.expire(key, TTL)
            target.sadd(f"ck:{record_id}", f"{node_id}:{metric}")
        target.expire(f"ck:{record_id}", TTL)

    def counters(self, record_id: int) -> dict[str, dict[str, int]]:
        """node → metric → total."""
        names = sorted(m.decode() for m in self.r.smembers(f"ck:{record_id}"))
        pipe = self.r.pipeline(transaction=False)
        for name in names:
            pipe.hvals(f"c:{record_id}:{name}")
        out: dict[str, dict[str, int]] = {}
        for name, values in zip(names, pipe.execute(), strict=True):
            node, metric = name.split(":", 1)  # node ids never contain ":" (message ids use it too)
            out.setdefault(node, {})[metric] = sum(int(v) for v in values)
        return out

    # ---- send results (dedupe + Result Judgment)
    def results(self, record_id: int, node_id: str, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        values = self.r.hmget(f"r:{record_id}:{node_id}", ids)
        return {cid: v.decode() for cid, v in zip(ids, values, strict=True) if v is not None}

    def set_results(self, record_id: int, node_id: str, results: dict[int, str]) -> None:
        if results:
            key = f"r:{record_id}:{node_id}"
            pipe = self.r.pipeline(transaction=False)
            pipe.hset(key, mapping={str(k): v for k, v in results.items()})
            pipe.expire(key, TTL)
            pipe.execute()

    # ---- trigger properties (Attribute Judgment)
    def set_trigger_props(self, record_id: int, props: dict[int, dict[str, Any]]) -> None:
        if props:
            key = f"tp:{record_id}"
            self.r.hset(key, mapping={str(k): json.dumps(v) for k, v in props.items()})
            self.r.expire(key, TTL)

    def trigger_props(self, record_id: int, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        values = self.r.hmget(f"tp:{record_id}", ids)
        return {cid: json.loads(v) for cid, v in zip(ids, values, strict=True) if v is not None}

    # ---- waits
    def park(self, record_id: int, node_id: str, batch: str, wake_ts: float) -> None:
        member = json.dumps({"record": record_id, "node": node_id, "batch": batch})
        self.r.zadd("waits", {member: wake_ts})

    def due_waits(self, now_ts: float, limit: int = 500) -> list[tuple[str, dict[str, Any]]]:
        upper = "+inf" if now_ts == float("inf") else now_ts
        raw = self.r.zrangebyscore("waits", "-inf", upper, start=0, num=limit)
        return [(m.decode(), json.loads(m)) for m in raw]

    def unpark(self, member: str) -> None:
        self.r.zrem("waits", member)

    def drop_waits(self, record_id: int) -> int:
        """Forget a stopped round's parked customers."""
        removed = 0
        for member, data in self.due_waits(float("inf"), limit=100_000):
            if data["record"] == record_id:
                removed += int(self.r.zrem("waits", member))
        return removed

    # ---- failures
    def fail(self, record_id: int, node_id: str, reason: str) -> None:
        self.r.hset(f"failed:{record_id}", node_id, reason[:200])
        self.r.expire(f"failed:{record_id}", TTL)

    def failures(self, record_id: int) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.r.hgetall(f"failed:{record_id}").items()}

    # ---- stop flag (a stopped round routes nobody further)
    def stop(self, record_id: int) -> None:
        self.r.set(f"stopped:{record_id}", 1, ex=TTL)

    def is_stopped(self, record_id: int) -> bool:
        return bool(self.r.exists(f"stopped:{record_id}"))
