"""The safety net under "nothing lost": a pending batch that no message will ever walk gets a new message.

Normally every pending batch has a Dramatiq message (in the queue, in a delay queue for a retry, or fetched by a
worker — all kept in the broker's `<namespace>:<queue>.msgs` hash until acknowledged) or is parked in a wait. A
message can still be lost in ways Dramatiq cannot see (Redis restarted without persistence or from an older
snapshot, a message dead-lettered after its retries). The scheduler watches the pending count of every round
in progress; one that has not moved for ENGINE_STALL_S is checked here, and every pending batch that is not
referenced by a message, not parked and not claimed by a live worker is enqueued again. A duplicate walk is
harmless (idempotent), a missing one would leave the round open forever.
"""

import json
import logging
from collections.abc import Callable
from typing import cast

from dramatiq.common import dq_name

from engine.runtime.queues import WALKS
from engine.runtime.store import RoundStore

log = logging.getLogger("engine.rescue")
NAMESPACE = "dramatiq"
QUEUES = (WALKS, dq_name(WALKS))


def referenced_batches(store: RoundStore, record_id: int) -> set[str]:
    """Batch keys of `record_id` that some unacknowledged message of the steps queues will walk."""
    found: set[str] = set()
    for queue in QUEUES:
        for raw in cast(list[bytes], store.r.hvals(f"{NAMESPACE}:{queue}.msgs")):  # redis-py: Awaitable | Any
            try:
                args = json.loads(raw).get("args") or []
            except (ValueError, AttributeError):
                continue
            if len(args) >= 3 and args[0] == record_id:
                found.add(str(args[2]))
    return found


def start_of(batch: str, trigger_id: str) -> tuple[str, bool]:
    """(node, resume) a batch is walked from: a parked batch `{batch}~{node}~w{i}` resumes after its wait,
    any other starts at the trigger."""
    parts = batch.rsplit("~", 2)
    if len(parts) == 3 and parts[2].startswith("w"):
        return parts[1], True
    return trigger_id, False


def orphans(store: RoundStore, record_id: int) -> list[str]:
    pending = {m.decode() for m in cast(set[bytes], store.r.smembers(f"pending:{record_id}"))}
    if not pending:
        return []
    pending -= referenced_batches(store, record_id)
    pending -= {data["batch"] for _, data in store.due_waits(float("inf"), limit=1_000_000)
                if data["record"] == record_id}
    return sorted(b for b in pending if not store.r.exists(f"claim:{record_id}:{b}"))


def rescue(store: RoundStore, record_id: int, trigger_id: str,
           send: Callable[[int, str, str, bool], object]) -> list[str]:
    lost = orphans(store, record_id)
    for batch in lost:
        node, resume = start_of(batch, trigger_id)
        send(record_id, node, batch, resume)
    if lost:
        log.warning("record %s: %d pending batches had no message; enqueued again: %s", record_id, len(lost),
                    ", ".join(lost[:10]))
    return lost
