"""Live execution data is pushed, not polled: every write that changes a round's counters (a walk's
component, a batch of receipts, a round's end) also PUBLISHes the record id on one Redis channel. An app
process holds one subscription and fans the notices out to the pages it serves, so 50 open pages cost the
workers nothing (one PUBLISH per write, whoever listens)."""

from typing import Any

CHANNEL = "live:records"

#: the same PUBLISH from inside a Lua script (receipts): `redis.call('PUBLISH', LUA_CHANNEL, record_id)`
LUA_CHANNEL = CHANNEL


def publish(target: Any, record_id: int) -> None:
    """Announce that `record_id`'s counters or status changed (`target`: a Redis client or a pipeline)."""
    target.publish(CHANNEL, str(record_id))
