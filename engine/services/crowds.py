"""Generate Crowd: save the customers with one result (succeeded, failed, no receipt yet) at a touch or
data-push component of a round as a static audience, usable by any Target Audience component.

Two steps, so a large crowd never blocks the page:
1. `request_crowd` (the page's event, in its write transaction) checks everything — the actor may see the
   round and create audiences (not a manager), the component sends, the result is one it has, the name (≤ 60,
   unused), the details are still there (kept 7 days), someone has that result — and records a *running*
   `CrowdOperation`. The caller then hands its id to the `generate_crowd` Dramatiq actor
   (engine/crowd_actor.py).
2. `run_operation` (the worker) reads the customer ids in chunks, then writes the audience, its members and
   the operation's *done* state in one transaction. Any failure rolls that transaction back — no audience, no
   member is left — and records the operation as *failed* with the reason. Progress (ids read, members written)
   goes to Redis (`crowd:{id}`), which the page polls; a redelivered message redoes the whole work (nothing of
   an unfinished attempt was committed) and one for a finished operation does nothing.

An outbox, as rounds have: a running operation without `dispatched_at` has no message yet. The page enqueues
it at once (`crowd_actor.enqueue` then stamps it), and the scheduler enqueues any left unstamped
(`dispatch_waiting`: a crash between the request's commit and its enqueue), so no operation stays "running"
with nobody working on it. A message may thus be sent twice; the work's final transaction opens with a
conditional UPDATE running → done, so only one attempt writes an audience.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import redis
from sqlalchemy import ColumnElement, CursorResult, update
from sqlmodel import Session, col, func, select

from engine import clock
from engine.db import read_session, write_session
from engine.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from engine.models import Audience, AudienceKind, Customer, CustomerStep, User, row_id
from engine.models.crowd import CrowdOperation, CrowdStatus
from engine.permissions import require_writer
from engine.runtime.connection import get_redis
from engine.services import analysis
from engine.services.audiences import NAME_MAX, add_members
from engine.services.execution import counters_of

log = logging.getLogger(__name__)

CHUNK = 5000  # customer ids read, and members written, per step (progress moves per chunk)
PROGRESS_TTL_S = 24 * 3600
#: the results a crowd can be made of, as the panel names them (a send's step rows carry these)
CROWD_RESULTS: dict[str, str] = {r: name for r, (name, _tone) in analysis.SEND_RESULTS.items()}
Progress = Callable[[int, int], None]  # (units done, units in all): reading the ids, then writing them


@dataclass(frozen=True)
class OperationRow:
    """One line of the operation record list next to Generate Crowd."""

    id: int
    created_at: datetime
    finished_at: datetime | None
    who: str
    result: str
    result_label: str
    name: str
    status: str  # running / done / failed
    requested: int
    count: int
    reason: str
    audience_id: int | None
    progress: float  # 0..1 (running: from Redis; done: 1)


def _progress_key(operation_id: int) -> str:
    return f"crowd:{operation_id}"


def check_name(session: Session, workspace_id: int, name: str) -> str:
    """The audience name as it will be saved: 1–60 characters, not used by an audience of the workspace nor by
    a crowd being generated."""
    name = (name or "").strip()
    if not name:
        raise Invalid("Enter a name for the crowd.")
    if len(name) > NAME_MAX:
        raise Invalid(f"The crowd name can be at most {NAME_MAX} characters ({len(name)} entered).")
    taken = session.exec(select(Audience.id).where(Audience.workspace_id == workspace_id,
                                                   Audience.name == name)).first()
    if taken:
        raise Conflict(f"An audience named “{name}” already exists.")
    return name


def _with_result(record_id: int, node_id: str, result: str) -> tuple[ColumnElement[bool], ...]:
    return (col(CustomerStep.record_id) == record_id, col(CustomerStep.node_id) == node_id,
            col(CustomerStep.result) == result)


def count_with_result(session: Session, record_id: int, node_id: str, result: str) -> int:
    """Customers (that still exist) whose step at the component has `result`."""
    return int(session.exec(select(func.count()).select_from(CustomerStep)
                            .join(Customer, col(Customer.id) == col(CustomerStep.customer_id))
                            .where(*_with_result(record_id, node_id, result))).one())


def crowd_refusal(actor: User) -> str:
    """Why `actor` may not generate crowds ("" = may): managers only read."""
    try:
        require_writer(actor)
    except Forbidden as err:
        return err.message
    return ""


def request_crowd(*, session: Session, actor: User, record_id: int, node_id: str, result: str,
                  name: str) -> CrowdOperation:
    """Accept a Generate Crowd request: everything is checked now, the audience is built by the worker."""
    ctx = analysis.context(session=session, actor=actor, record_id=record_id, node_id=node_id)
    require_writer(actor)
    if not analysis.supports_crowd(str(ctx.node.get("type"))):
        raise Invalid("Generate Crowd applies to touch and data push components only.")
    if result not in CROWD_RESULTS:
        raise Invalid(f"Choose which customers to save: {', '.join(CROWD_RESULTS.values())}.")
    workspace_id = ctx.activity.workspace_id
    name = check_name(session, workspace_id, name)
    if session.exec(select(CrowdOperation.id).where(CrowdOperation.workspace_id == workspace_id,
                                                    CrowdOperation.name == name,
                                                    CrowdOperation.status == CrowdStatus.RUNNING)).first():
        raise Conflict(f"A crowd named “{name}” is being generated already.")
    found = count_with_result(session, record_id, node_id, result)
    if not found:
        entered = int(counters_of(session, ctx.record).get(node_id, {}).get("entered", 0))
        state, note = analysis.details_state(session, ctx, entered)
        if state == analysis.DETAILS_EXPIRED:
            raise Conflict(f"{note} No crowd can be generated from this round.")
        raise Invalid(f"No customer has the result “{CROWD_RESULTS[result]}” at this component.")
    operation = CrowdOperation(workspace_id=workspace_id, record_id=record_id, node_id=node_id, result=result,
                               name=name, requested=found, created_by=row_id(actor))
    session.add(operation)
    session.flush()
    return operation


def mark_failed(operation_id: int, reason: str) -> None:
    """Record a running operation as failed (its own transaction; nothing else is written)."""
    with write_session() as session:
        operation = session.get(CrowdOperation, operation_id)
        if operation is not None and operation.status == CrowdStatus.RUNNING:
            operation.status = CrowdStatus.FAILED
            operation.reason = reason[:300]
            operation.finished_at = clock.now()
            session.add(operation)


def _redis_progress(operation_id: int) -> Progress:
    key = _progress_key(operation_id)

    def report(done: int, total: int) -> None:
        try:
            get_redis().set(key, f"{done}/{total}", ex=PROGRESS_TTL_S)
        except redis.RedisError:
            pass  # progress is a nicety: the page shows "running" without a figure

    return report


def _read_ids(operation: CrowdOperation, progress: Progress, chunk: int) -> list[int]:
    """The ids of the (existing) customers with the operation's result, in chunks (keyset on the customer id)."""
    ids: list[int] = []
    total = max(operation.requested, 1)
    last = 0
    with read_session() as session:
        while True:
            part = session.exec(select(CustomerStep.customer_id)
                                .join(Customer, col(Customer.id) == col(CustomerStep.customer_id))
                                .where(*_with_result(operation.record_id, operation.node_id, operation.result),
                                       col(CustomerStep.customer_id) > last)
                                .order_by(col(CustomerStep.customer_id)).limit(chunk)).all()
            if not part:
                return ids
            ids.extend(int(cid) for cid in part)
            last = ids[-1]
            progress(min(len(ids), total), 2 * total)


def run_operation(*, operation_id: int, chunk: int = CHUNK, progress: Progress | None = None) -> CrowdStatus | None:
    """Build the audience of a running operation (the worker's job); returns the operation's final status
    (None: no such operation). Never raises for a refusal or a failure: the operation records it."""
    with read_session() as session:
        operation = session.get(CrowdOperation, operation_id)
    if operation is None:
        return None
    if operation.status != CrowdStatus.RUNNING:
        return operation.status  # a redelivered message of a finished operation
    report = progress or _redis_progress(operation_id)
    try:
        ids = _read_ids(operation, report, chunk)
        if not ids:
            raise Conflict("No customer with this result is left: the details expired (they are kept 7 days).")
        total = len(ids)
        with write_session() as session:
            if not _finish_first(session, operation_id):  # a duplicate attempt finished it meanwhile
                fresh = session.get(CrowdOperation, operation_id)
                return fresh.status if fresh else None
            fresh = session.get(CrowdOperation, operation_id)
            assert fresh is not None  # the UPDATE just matched it
            name = check_name(session, fresh.workspace_id, fresh.name)
            audience = Audience(workspace_id=fresh.workspace_id, name=name, kind=AudienceKind.STATIC,
                                source=f"Generate Crowd: record {fresh.record_id}, component {fresh.node_id}, "
                                       f"{fresh.result}"[:120], created_by=fresh.created_by)
            session.add(audience)
            session.flush()
            for start in range(0, total, chunk):
                add_members(session=session, audience_id=row_id(audience), customer_ids=ids[start:start + chunk])
                report(total + min(start + chunk, total), 2 * total)
            fresh.count, fresh.audience_id = total, audience.id
            session.add(fresh)
        return CrowdStatus.DONE
    except ServiceError as err:
        mark_failed(operation_id, err.message)
    except Exception as err:  # noqa: BLE001 — any failure is recorded on the operation, nothing half-saved
        log.exception("Generate Crowd operation %s failed", operation_id)
        mark_failed(operation_id, f"The crowd could not be saved: {type(err).__name__}: {err}")
    return CrowdStatus.FAILED


def _finish_first(session: Session, operation_id: int) -> bool:
    """Mark the operation done as the transaction's first write, if it is still running: the row is then held by
    this transaction (PostgreSQL's row lock, SQLite's write lock), so a duplicate attempt waits and finds it
    done. Rolled back with everything else on a failure."""
    done = cast(CursorResult[Any], session.execute(  # an UPDATE's result is a CursorResult: it has rowcount
        update(CrowdOperation)
        .where(col(CrowdOperation.id) == operation_id, col(CrowdOperation.status) == CrowdStatus.RUNNING)
        .values(status=CrowdStatus.DONE, finished_at=clock.now())))
    session.expire_all()
    return done.rowcount == 1


def mark_dispatched(operation_id: int) -> None:
    """The operation's message is in the broker: the scheduler's outbox sweep leaves it alone."""
    with write_session() as session:
        session.execute(update(CrowdOperation)
                        .where(col(CrowdOperation.id) == operation_id, col(CrowdOperation.dispatched_at).is_(None))
                        .values(dispatched_at=clock.now()))


def dispatch_waiting(*, send: Callable[[int], object], now: datetime | None = None) -> list[int]:
    """The outbox sweep (the scheduler's tick): send every running operation that has no message yet, then
    stamp it. Sent before the stamp commits, so a crash in between sends it again (harmless: see run_operation)."""
    with write_session() as session:
        waiting = session.exec(select(CrowdOperation).where(
            CrowdOperation.status == CrowdStatus.RUNNING, col(CrowdOperation.dispatched_at).is_(None))).all()
        for operation in waiting:
            send(row_id(operation))
            operation.dispatched_at = now or clock.now()
            session.add(operation)
        return [row_id(op) for op in waiting]


def list_operations(*, session: Session, actor: User, record_id: int, node_id: str) -> list[OperationRow]:
    """The Generate Crowd operations of a component in a round, newest first."""
    analysis.context(session=session, actor=actor, record_id=record_id, node_id=node_id)
    rows = session.exec(select(CrowdOperation, User.display_name)
                        .join(User, col(User.id) == col(CrowdOperation.created_by))
                        .where(CrowdOperation.record_id == record_id, CrowdOperation.node_id == node_id)
                        .order_by(col(CrowdOperation.id).desc())).all()
    running = [op.id for op, _ in rows if op.status == CrowdStatus.RUNNING]
    fractions = _progress(running)
    return [OperationRow(id=row_id(op), created_at=op.created_at, finished_at=op.finished_at,
                         who=who, result=op.result, result_label=CROWD_RESULTS.get(op.result, op.result),
                         name=op.name, status=op.status.value, requested=op.requested, count=op.count,
                         reason=op.reason or "", audience_id=op.audience_id,
                         progress=1.0 if op.status == CrowdStatus.DONE else fractions.get(row_id(op), 0.0))
            for op, who in rows]


def get_operation(*, session: Session, actor: User, operation_id: int) -> CrowdOperation:
    operation = session.get(CrowdOperation, operation_id)
    if operation is None:
        raise NotFound("Generate Crowd operation not found.")
    analysis.context(session=session, actor=actor, record_id=operation.record_id, node_id=operation.node_id)
    return operation


def _progress(operation_ids: list[int | None]) -> dict[int, float]:
    ids = [int(i) for i in operation_ids if i is not None]
    if not ids:
        return {}
    try:
        values = cast(list[bytes | None], get_redis().mget([_progress_key(i) for i in ids]))  # redis-py: Awaitable|Any
    except redis.RedisError:
        return {}
    out: dict[int, float] = {}
    for operation_id, value in zip(ids, values, strict=True):
        if value:
            done, _, total = value.decode().partition("/")
            out[operation_id] = min(1.0, int(done) / max(int(total), 1))
    return out
