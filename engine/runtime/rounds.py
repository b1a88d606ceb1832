"""Rounds (execution records) from start to finish.

start_round   materialise the trigger's audience into batches and hand them to the workers; a failure to
              obtain the crowd ends the round abnormally with the re-runnable "crowd data" reason
enter         customers entering an event-triggered round (micro-batches from the events API)
finish_if_done  when no batch is pending and entry is closed: persist counters, close the record, and move the
              activity on through the status machine
on_lost / check_rounds  a round whose Redis state was lost (engine/runtime/redis_state.py's markers): begun
              again when it had not begun, else Abnormal End (re-runnable)
"""

import json
import logging
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import exists
from sqlmodel import Session, col, select

from engine import clock
from engine.db import read_session, write_session
from engine.models import (
    Activity,
    CustomerStep,
    ExecutionRecord,
    NodeCounter,
    RecordTrigger,
    Schedule,
    pk_ids,
    row_id,
    table_of,
)
from engine.models.record import CROWD_DATA_FAILURE
from engine.runtime import live, redis_state, reentry
from engine.runtime.entered import already_inside, continued_rounds
from engine.runtime.sql import upsert
from engine.runtime.step import Enqueue, load_graph
from engine.runtime.store import TTL, RoundStore
from engine.settings import get_settings
from engine.shared import (
    reach_rows,  # noqa: F401  (session listener: the stored Reach Task rows)
    trigger_watch,  # noqa: F401  (session listener: trigger index follows activity status)
)
from engine.shared.audiences import CrowdDataError, member_chunks
from engine.shared.testers import tester_ids
from engine.status import (
    Action,
    RecordAction,
    RecordStatus,
    StatusError,
    record_transition,
    transition,
)

log = logging.getLogger("engine.redis_state")  # the lost-round lines keep their logger


def start_round(record_id: int, *, enqueue: Enqueue, store: RoundStore, batch_size: int | None = None) -> None:
    batch_size = batch_size or get_settings().engine_batch_size
    with write_session() as session:
        # FOR UPDATE (PostgreSQL): a republish closing this round's entry commits before or after, never between
        record = session.get(ExecutionRecord, record_id, with_for_update=True)
        if record is None or record.status != RecordStatus.IN_PROGRESS or record.entry_closed:
            return
        graph = load_graph(session, record)
        trigger_id = graph.trigger_id
        trigger = graph.node(trigger_id) if trigger_id else None
        if trigger is None or not trigger_id:
            _end(session, record, store, failure=("The flow has no trigger component.", "component"))
            return
        if trigger["type"] != "target_audience" and not record.is_test:
            redis_state.mark(store.r, record_id)  # the round's Redis state begins (its loss is noticed)
            return  # event-triggered: customers enter through `enter` while the round is open
        try:
            # Enqueued before the commit: a failure from here on rolls back and the retry enqueues again (a walk
            # of a batch already walked is a no-op), so no batch is left pending without a message.
            _queue_entrants(session, store, record, trigger_id, _crowd(session, record, trigger),
                            batch_size=batch_size, enqueue=enqueue)
        except CrowdDataError as err:  # reading the crowd failed (Redis's failures are retried: not caught here)
            session.rollback()
            store.stop(record_id)  # the batches queued before the failure go no further
            _end(session, record, store, failure=(str(err), CROWD_DATA_FAILURE))
            return
        record.entry_closed = True  # everyone who will enter is in a pending batch now
        session.add(record)
    finish_if_done(record_id, store=store)


def _crowd(session: Session, record: ExecutionRecord, trigger: dict[str, Any]) -> Iterator[list[int]]:
    """The round's crowd in parts as the database streams it, any failure to read it a CrowdDataError: told
    apart from the failures of queueing it (Redis's, retried), which happen in the caller, not in here."""
    try:
        if record.is_test:  # seed 004: a test round's audience is the testers alone, whatever the trigger
            yield tester_ids(session, record.activity_id)
            return
        activity = session.get(Activity, record.activity_id)
        yield from member_chunks(session=session, audience_id=int((trigger.get("config") or {})["audience_id"]),
                                 workspace_id=activity.workspace_id if activity else None)
    except CrowdDataError:
        raise
    except Exception as err:  # noqa: BLE001 — any failure here is "failed to obtain crowd data"
        raise CrowdDataError(0, str(err)) from err


def _queue_entrants(session: Session, store: RoundStore, record: ExecutionRecord, trigger_id: str,
                    parts: Iterable[list[int]], *, batch_size: int, enqueue: Enqueue) -> None:
    """An audience round's entrants into pending batches (`e0`, `e1`, … of `batch_size` in id order), each
    batch's message sent as soon as its ids are read: on a million, the workers start on the first batches
    while the rest is still coming from the database (~0.9 s sooner). The same batches whatever the parts: on
    a retry, the same keys hold the same customers. A republish round leaves out who is inside the rounds it
    continues; the re-entry rule takes the rest in its own fixed chunks (reentry.CHUNK), as it would whole."""
    record_id = row_id(record)
    inside = (already_inside(session, store, continued_rounds(session, record_id))
              if record.trigger == RecordTrigger.REPUBLISH else set())  # nobody enters twice for a new version
    rule = reentry.rule_of(session, record_id)  # issue 16: re-entry rules
    waiting: list[int] = []  # read, not yet through the rule
    entrants: list[int] = []  # let in, not yet in a batch
    admitted_chunks = queued = 0
    redis_state.mark(store.r, record_id)  # before any pending batch: a round without it lost its Redis state

    def admit(final: bool) -> None:
        nonlocal admitted_chunks
        cut = len(waiting) if final else len(waiting) - len(waiting) % reentry.CHUNK
        if rule is None or not cut:
            return
        entrants.extend(reentry.admit(store, rule, record_id, trigger_id, waiting[:cut], audience=True,
                                      first_chunk=admitted_chunks))
        admitted_chunks += -(-cut // reentry.CHUNK)
        del waiting[:cut]

    def send(final: bool) -> None:
        nonlocal queued
        cut = len(entrants) if final else len(entrants) - len(entrants) % batch_size
        keys = [f"e{queued + n}" for n in range(-(-cut // batch_size))]
        if not keys:
            return
        pipe = store.r.pipeline(transaction=False)
        for n, key in enumerate(keys):
            store.put_batch(record_id, key, entrants[n * batch_size:(n + 1) * batch_size], pipe)
        store.add_pending(record_id, keys, pipe)
        pipe.execute()
        for key in keys:
            enqueue(record_id, trigger_id, key)
        queued += len(keys)
        del entrants[:cut]

    for part in parts:
        fresh = [i for i in part if i not in inside] if inside else part
        (entrants if rule is None else waiting).extend(fresh)
        admit(final=False)
        send(final=False)
    admit(final=True)
    send(final=True)


def enter(record_id: int, customers: dict[int, dict[str, Any]], *, enqueue: Enqueue, store: RoundStore,
          trigger_id: str | None = None, checked: bool = False) -> str | None:
    """Customers (id → triggering event properties) enter an open event-triggered round as one batch.
    `checked`: the caller has just read the round open and its trigger (the events API's entry path), so the
    round is not read again."""
    if not customers:
        return None
    if not (checked and trigger_id is not None):
        trigger_id = _open_trigger(record_id, trigger_id)
        if trigger_id is None:
            return None
    return _enter_batch(record_id, customers, enqueue=enqueue, store=store, trigger_id=trigger_id)


def _open_trigger(record_id: int, trigger_id: str | None) -> str | None:
    """The round's trigger node while it takes entrants (In Progress, entry open), else None."""
    with read_session() as session:
        open_round = session.execute(select(ExecutionRecord.status, ExecutionRecord.entry_closed).where(
            ExecutionRecord.id == record_id)).first()
        if open_round is None or open_round[0] != RecordStatus.IN_PROGRESS or open_round[1]:
            return None
        if trigger_id is None:
            record = session.get(ExecutionRecord, record_id)
            assert record is not None
            trigger_id = load_graph(session, record).trigger_id
    return trigger_id


def _enter_batch(record_id: int, customers: dict[int, dict[str, Any]], *, enqueue: Enqueue, store: RoundStore,
                 trigger_id: str) -> str:
    key = f"v{uuid.uuid4().hex[:16]}"
    pipe = store.r.pipeline(transaction=False)
    pipe.expire(redis_state.marker(record_id), TTL)  # refreshed, never created: a lost round stays lost
    pipe.hset(f"tp:{record_id}", mapping={str(k): json.dumps(v) for k, v in customers.items()})
    pipe.expire(f"tp:{record_id}", TTL)
    store.put_batch(record_id, key, list(customers), pipe)
    store.add_pending(record_id, [key], pipe)
    pipe.execute()
    enqueue(record_id, trigger_id, key)
    return key


_COUNTERS = table_of(NodeCounter)


def persist_counters(session: Session, record_id: int, store: RoundStore) -> None:
    rows = [{"record_id": record_id, "node_id": node, "metric": metric, "value": value}
            for node, metrics in store.counters(record_id).items() for metric, value in metrics.items()]
    upsert(session, _COUNTERS, rows, keys=["record_id", "node_id", "metric"], update=["value"])


def finish_if_done(record_id: int, *, store: RoundStore) -> bool:
    """Close the round when nothing is pending and entry is closed. Safe to call from many workers at once:
    only the transition from In Progress happens, once. An empty pending set whose round lost its Redis state
    (no marker: Redis restarted without its data) is not "done": engine/runtime/redis_state.py decides."""
    if store.pending(record_id):
        return False
    if not redis_state.present(store.r, record_id):
        return on_lost(record_id, store=store) == "lost"
    with write_session() as session:
        record = session.get(ExecutionRecord, record_id)
        if record is None or record.status != RecordStatus.IN_PROGRESS or not record.entry_closed:
            return False
        failures = store.failures(record_id)
        reason = "; ".join(f"{node}: {why}" for node, why in failures.items()) or None
        _end(session, record, store, failure=(reason, "component") if reason else None)
    live.publish(store.r, record_id)  # after the commit: pages re-read the closed round
    return True


def _end(session: Session, record: ExecutionRecord, store: RoundStore, *,
         failure: tuple[str, str] | None) -> None:
    # The activity's row is locked first (PostgreSQL: FOR UPDATE; SQLite's write session is already exclusive), so
    # two rounds of one activity ending at the same instant on two workers take turns: the second sees the first
    # one's end committed, and whichever ends last completes the activity (without the lock each saw the other
    # still In Progress and the activity stayed In Progress for ever).
    activity = session.get(Activity, record.activity_id, with_for_update=True)
    persist_counters(session, row_id(record), store)
    reentry.release_round(store.r, row_id(record))  # whoever is still inside has left (one live run at a time)
    action = RecordAction.FAIL if failure else RecordAction.COMPLETE
    record.status = record_transition(record.status, action)
    record.ended_at = clock.now()
    record.entry_closed = True
    if failure:
        record.failure_reason, record.failure_kind = failure[0][:500], failure[1]
    session.add(record)
    if activity is None:
        return
    if record.is_test:
        return  # a test round never moves the activity (seed 004)
    still_running = session.exec(select(ExecutionRecord.id).where(
        ExecutionRecord.activity_id == activity.id, ExecutionRecord.status == RecordStatus.IN_PROGRESS,
        ExecutionRecord.id != record.id, col(ExecutionRecord.is_test).is_(False))).first()
    one_time_done = activity.schedule == Schedule.ONCE and not still_running
    try:
        if failure:
            activity.status = transition(activity.status, Action.FAIL)
        elif one_time_done:
            activity.status = transition(activity.status, Action.COMPLETE)
    except StatusError:
        return  # the activity moved on meanwhile (stopped, waiting for a later start): the record's end is enough
    activity.updated_at = clock.now()
    session.add(activity)


# ---------------------------------------------------------------- lost rounds


def on_lost(record_id: int, *, store: Any) -> str | None:
    """A round In Progress whose Redis state is gone: "redispatched" (it had not begun), "lost" (Abnormal End,
    re-runnable) or None (not In Progress any more, or its marker is back: nothing to do)."""
    with write_session() as session:
        record = session.get(ExecutionRecord, record_id)
        if record is None or record.status != RecordStatus.IN_PROGRESS or redis_state.present(store.r, record_id):
            return None
        walked = session.execute(select(exists().where(col(CustomerStep.record_id) == record_id))).scalar()
        graph = load_graph(session, record)
        trigger_id = graph.trigger_id
        audience_round = bool(trigger_id and graph.node(trigger_id)["type"] == "target_audience")
        if audience_round and not record.entry_closed and not walked:
            record.dispatched_at = None  # the outbox dispatches it again; start_round writes a new marker
            session.add(record)
            log.warning("record %s: Redis lost its state before the round began; dispatched again", record_id)
            return "redispatched"
        log.error("record %s: Redis state lost while In Progress: ending it Abnormal End (re-runnable)", record_id)
        _end(session, record, store, failure=(redis_state.LOST_REASON, redis_state.STATE_LOST_FAILURE))
    live.publish(store.r, record_id)
    return "lost"


def check_rounds(*, store: Any) -> dict[str, list[int]]:
    """The scheduler's pass: every dispatched round In Progress without its marker goes to `on_lost`."""
    with read_session() as session:
        ids = pk_ids(session.execute(select(col(ExecutionRecord.id)).where(
            col(ExecutionRecord.status) == RecordStatus.IN_PROGRESS,
            col(ExecutionRecord.dispatched_at).is_not(None))).scalars())
    done: dict[str, list[int]] = {"lost": [], "redispatched": []}
    for record_id in redis_state.missing(store.r, ids):
        outcome = on_lost(record_id, store=store)
        if outcome:
            done[outcome].append(record_id)
    return done
