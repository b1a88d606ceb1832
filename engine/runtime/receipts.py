"""Delivery receipts from providers: a pending send becomes success or failed, once.

The switch is one Lua script per receipt (atomic and idempotent: a receipt delivered twice, or after the
72-hour cut-off, changes nothing), moving one unit between the node's `pending` and `success`/`failed`
counters under the counter field "rcpt" so the totals stay sent = success + failed + pending.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select, update

from engine import clock
from engine.db import write_session
from engine.models import CustomerStep, ExecutionRecord
from engine.runtime.store import TTL, RoundStore
from engine.status import RecordStatus

NO_RECEIPT_AFTER = timedelta(hours=72)

_SWITCH = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], 'rcpt', -1)
redis.call('HINCRBY', KEYS[3], 'rcpt', 1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
"""


def parse_message_id(message_id: str) -> tuple[int, str, int] | None:
    try:
        record, node, customer = message_id.split(":")
        return int(record), node, int(customer)
    except ValueError:
        return None


def apply_receipts(receipts: Iterable[dict[str, Any]], *, store: RoundStore) -> int:
    """Apply provider receipts [{id|message_id, status: delivered|failed, reason}]; returns how many changed
    a pending send."""
    script = store.r.register_script(_SWITCH)
    changed: list[tuple[int, str, int, str, str | None]] = []
    for receipt in receipts:
        parsed = parse_message_id(str(receipt.get("id") or receipt.get("message_id") or ""))
        if parsed is None:
            continue
        record_id, node_id, customer_id = parsed
        status = "success" if str(receipt.get("status")) in ("delivered", "success") else "failed"
        keys = [f"r:{record_id}:{node_id}", f"c:{record_id}:{node_id}:pending", f"c:{record_id}:{node_id}:{status}"]
        if script(keys=keys, args=[customer_id, status, TTL]):
            store.r.sadd(f"ck:{record_id}", f"{node_id}:{status}")
            changed.append((record_id, node_id, customer_id, status, receipt.get("reason")))
    if changed:
        from engine.runtime.rounds import persist_counters

        with write_session() as session:
            for record_id, node_id, customer_id, status, reason in changed:
                session.exec(update(CustomerStep).where(
                    CustomerStep.record_id == record_id, CustomerStep.node_id == node_id,
                    CustomerStep.customer_id == customer_id).values(result=status, reason=reason))
            touched = {c[0] for c in changed}
            closed = session.exec(select(ExecutionRecord.id).where(
                col(ExecutionRecord.id).in_(touched), ExecutionRecord.status != RecordStatus.IN_PROGRESS)).all()
            for record_id in closed:  # a finished round's persisted counters follow its late receipts
                persist_counters(session, record_id, store)
    return len(changed)


def expire_pending(*, store: RoundStore, now: datetime | None = None) -> int:
    """No receipt within 72 hours: the send counts as failed."""
    cutoff = (now or clock.now()) - NO_RECEIPT_AFTER
    with write_session() as session:
        stale = session.exec(select(CustomerStep.record_id, CustomerStep.node_id, CustomerStep.customer_id).where(
            CustomerStep.result == "pending", col(CustomerStep.at) < cutoff).limit(10_000)).all()
    receipts = [{"id": f"{r}:{n}:{c}", "status": "failed", "reason": "No receipt within 72 hours"}
                for r, n, c in stale]
    return apply_receipts(receipts, store=store)
