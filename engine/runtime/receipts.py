"""Delivery receipts from providers: a pending send becomes success or failed, once.

The switch is one Lua script per batch of receipts (atomic and idempotent: a receipt delivered twice, or after
the 72-hour cut-off, changes nothing). Each switched receipt moves one unit between the node's `pending` and
`success`/`failed` counters (field "live", like the send's own count), so the totals stay sent = success +
failed + pending at every instant, and marks the stored result "+success" / "+failed" (settled by a receipt; the
send itself answered "pending"). A receipt can overtake the worker that sent the message: a customer
still marked "sending" is switched too and counted as sent here (the provider only sends receipts for messages
it accepted); the worker's answer then finds it settled and counts nothing.

The per-customer details (CustomerStep) follow in one executemany UPDATE. A receipt whose step row is not
written yet (the worker writes a walk's rows after its sends) is kept in a Redis list and applied again by
the scheduler (`retry_late`), until the row is there.
"""

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlmodel import Session, col

from engine import clock
from engine.compiled import Compiled
from engine.db import write_session
from engine.models import CustomerStep, ExecutionRecord, table_of
from engine.runtime.rounds import persist_counters
from engine.runtime.sql import id_array, raw_cursor, runtime_write
from engine.runtime.store import COUNT_LIVE, READ_RESULTS, SHARD_BITS, TTL, RoundStore
from engine.shared.reach_rows import NO_RECEIPT_AFTER as NO_RECEIPT_AFTER  # the 72-hour rule (its home since 0014)
from engine.status import RecordStatus

LATE_KEY = "receipts:late"
LATE_GIVE_UP_S = 3600.0  # a receipt whose step row never appears (its record was deleted) is dropped after this

# ARGV: ttl, then per (record, node, results shard): record, node, shard, n, then n (customer, success|failed)
# pairs; returns 1/0 per receipt in that order (switched or not). Each group's results are read with one HMGET
# and written with one HSET per 1,000 receipts (an HGET and an HSET each was most of the script's CPU, as in
# store.py's _SETTLE, whose shards and legacy fallback this shares); `seen` makes a customer given twice in one
# call switch once, as one HGET after another would.
_SWITCH = COUNT_LIVE + READ_RESULTS + """
local ttl = tonumber(ARGV[1])
local out = {}
local i = 2
while i <= #ARGV do
  local rec, node, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 3])
  local legacy = 'r:' .. rec .. ':' .. node
  local rkey = legacy .. ':' .. ARGV[i + 2]
  local old = redis.call('EXISTS', legacy) == 1
  local counts = {}
  local seen = {}
  local base = i + 4
  for first = 0, n - 1, 1000 do
    local last = math.min(first + 999, n - 1)
    local ids = {}
    for j = first, last do ids[#ids + 1] = ARGV[base + 2 * j] end
    local current = read_results(rkey, legacy, old, ids)
    local set = {}
    for k = 1, #ids do
      local cid = ids[k]
      local value = current[k]
      if seen[cid] then value = seen[cid] end
      local st = ARGV[base + 2 * (first + k - 1) + 1]
      if value == 'pending' or value == 'sending' then
        seen[cid] = '+' .. st
        set[#set + 1] = cid
        set[#set + 1] = '+' .. st
        counts[st] = (counts[st] or 0) + 1
        -- pending: moves to the outcome; sending: the receipt overtook the send's answer, counted here as sent
        -- (the answer will find it settled)
        if value == 'pending' then counts['pending'] = (counts['pending'] or 0) - 1
        else counts['sent'] = (counts['sent'] or 0) + 1 end
        out[#out + 1] = 1
      else
        out[#out + 1] = 0
      end
    end
    if #set > 0 then
      redis.call('HSET', rkey, unpack(set))
      redis.call('EXPIRE', rkey, ttl)
    end
  end
  count_live(rec, node, counts, ttl)
  i = base + 2 * n
end
return out
"""

Settled = tuple[int, str, int, str, str | None]  # record, node, customer, success|failed, reason


def parse_message_id(message_id: str) -> tuple[int, str, int] | None:
    try:
        record, node, customer = message_id.split(":")
        return int(record), node, int(customer)
    except ValueError:
        return None


def apply_receipts(receipts: Iterable[dict[str, Any]], *, store: RoundStore) -> int:
    """Apply provider receipts [{id|message_id, status: delivered|failed, reason}]; returns how many changed
    a pending send."""
    settled: list[Settled] = []
    for receipt in receipts:
        parsed = parse_message_id(str(receipt.get("id") or receipt.get("message_id") or ""))
        if parsed is not None:
            status = "success" if str(receipt.get("status")) in ("delivered", "success") else "failed"
            settled.append((*parsed, status, receipt.get("reason")))
    return apply_settled(settled, store=store)


def apply_settled(candidates: list[Settled], *, store: RoundStore) -> int:
    """Apply parsed receipts (record, node, customer, success|failed, reason); returns how many switched."""
    if not candidates:
        return 0
    groups: dict[tuple[int, str, int], list[Settled]] = defaultdict(list)
    for candidate in candidates:
        groups[(candidate[0], candidate[1], candidate[2] >> SHARD_BITS)].append(candidate)
    args: list[Any] = [TTL]
    ordered: list[Settled] = []
    for (record_id, node_id, shard), group in groups.items():
        args += [record_id, node_id, shard, len(group)]
        for _r, _n, customer_id, status, _reason in group:
            args += [customer_id, status]
        ordered += group
    switched = store.r.register_script(_SWITCH)(args=args)
    changed = [c for c, done in zip(ordered, switched, strict=True) if done]
    if changed:
        late = record_details(changed, store=store)
        if late:
            defer(store, late)
    return len(changed)


#: the round, if it is no longer in progress (one per round a batch of receipts touches: usually one). Compiled
#: once (engine/compiled.py): the ORM select with an IN list was a tenth of the API's CPU per batch of receipts.
_CLOSED = Compiled(select(col(ExecutionRecord.id)).where(
    col(ExecutionRecord.id) == bindparam("rid"), col(ExecutionRecord.status) != RecordStatus.IN_PROGRESS))


def record_details(settled: list[Settled], *, store: RoundStore) -> list[Settled]:
    """Write settled sends into the per-customer details; returns those whose step row is not there yet.
    Persists the counters of finished rounds (their totals follow late receipts)."""
    with runtime_write() as session:
        updated = _update_steps(session, settled)
        missing = _not_written(session, settled) if updated != len(settled) else []
        for record_id in {s[0] for s in settled}:  # a finished round's persisted counters follow its late receipts
            if _CLOSED.first(session, rid=record_id) is not None:
                persist_counters(session, record_id, store)
    return missing


def _update_steps(session: Session, settled: list[Settled]) -> int:
    """The settled sends' step rows; returns how many rows changed (each settled send has at most one row). On
    SQLite one UPDATE per (record, node, result, reason) over a JSON array of the customers: a batch of receipts
    is a handful of such groups, and SQLite loops over them in C instead of one bound statement per receipt
    (shorter turns on the database's write lock, which the workers wait for too)."""
    if session.get_bind().dialect.name == "sqlite":
        groups: dict[tuple[str, str | None, int, str], list[int]] = defaultdict(list)
        for record_id, node_id, customer_id, status, reason in settled:
            groups[(status, reason, record_id, node_id)].append(customer_id)
        cursor = raw_cursor(session)
        changed = 0
        try:
            for (status, reason, record_id, node_id), ids in groups.items():
                cursor.execute("UPDATE customerstep SET result = ?, reason = ? WHERE record_id = ? AND node_id = ? "
                               "AND customer_id IN (SELECT value FROM json_each(?))",
                               (status, reason, record_id, node_id, id_array(ids)))
                changed += int(cursor.rowcount)
            return changed
        finally:
            cursor.close()
    params = [{"r": status, "why": reason, "rid": record_id, "nid": node_id, "cid": customer_id}
              for record_id, node_id, customer_id, status, reason in settled]
    session.execute(text("UPDATE customerstep SET result = :r, reason = :why "
                         "WHERE record_id = :rid AND node_id = :nid AND customer_id = :cid"), params)
    return -1  # not every driver sums executemany row counts: check the rows


def _not_written(session: Session, settled: list[Settled]) -> list[Settled]:
    """The settled sends whose step row is missing or does not show the receipt's result."""
    by_node: dict[tuple[int, str], list[Settled]] = defaultdict(list)
    for s in settled:
        by_node[(s[0], s[1])].append(s)
    missing: list[Settled] = []
    table = table_of(CustomerStep)
    for (record_id, node_id), group in by_node.items():
        for start in range(0, len(group), 5000):
            part = group[start:start + 5000]
            found = dict(session.execute(select(table.c.customer_id, table.c.result).where(
                table.c.record_id == record_id, table.c.node_id == node_id,
                table.c.customer_id.in_(bindparam("ids", expanding=True))), {"ids": [s[2] for s in part]}).all())
            missing += [s for s in part if found.get(s[2]) != s[3]]
    return missing


def defer(store: RoundStore, late: list[Settled]) -> None:
    now = time.time()
    pipe = store.r.pipeline(transaction=False)
    pipe.rpush(LATE_KEY, *[json.dumps([*s, now]) for s in late])
    pipe.expire(LATE_KEY, TTL)
    pipe.execute()


def retry_late(*, store: RoundStore, limit: int = 50_000) -> int:
    """Apply receipts that came before their step row was written (the scheduler calls this every tick);
    returns how many are written now."""
    pipe = store.r.pipeline(transaction=True)
    pipe.lrange(LATE_KEY, 0, limit - 1)
    pipe.ltrim(LATE_KEY, limit, -1)
    raw = pipe.execute()[0]
    if not raw:
        return 0
    items = [json.loads(r) for r in raw]
    settled: list[Settled] = [tuple(i[:5]) for i in items]
    first_seen = {tuple(i[:3]): i[5] for i in items}
    still = record_details(settled, store=store)
    now = time.time()
    keep = [s for s in still if now - first_seen[s[:3]] < LATE_GIVE_UP_S]
    if keep:
        pipe = store.r.pipeline(transaction=False)
        pipe.rpush(LATE_KEY, *[json.dumps([*s, first_seen[s[:3]]]) for s in keep])
        pipe.expire(LATE_KEY, TTL)
        pipe.execute()
    return len(settled) - len(still)


def expire_pending(*, store: RoundStore, now: datetime | None = None) -> int:
    """No receipt within 72 hours: the send counts as failed."""
    cutoff = (now or clock.now()) - NO_RECEIPT_AFTER
    table = table_of(CustomerStep)
    with write_session() as session:
        stale = session.execute(select(table.c.record_id, table.c.node_id, table.c.customer_id).where(
            table.c.result == "pending", table.c.at < cutoff).limit(10_000)).all()
    receipts = [{"id": f"{r}:{n}:{c}", "status": "failed", "reason": "No receipt within 72 hours"}
                for r, n, c in stale]
    return apply_receipts(receipts, store=store)
