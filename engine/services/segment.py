"""Segment's HTTP tracking API (`/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/batch`) on the events
service: an application instrumented with a Segment or RudderStack SDK feeds behaviour triggers, customer attributes
and goals by changing its host.

- `userId` is the customer's QAID (an unknown one creates the customer, as `POST /api/v1/events` does).
- `track` is a behaviour event named `event` (the flow editor's name rule); `page` / `screen` are events named
  `page` / `screen` with their name and category added to the properties; `group` / `alias` are acknowledged and
  not stored.
- `identify` upserts the traits: email, phone and name (or firstName + lastName) to the profile columns, every other
  trait merged into the customer's attributes.
- `anonymousId`: any call carrying it with a `userId` links it to that customer (the latest link wins). Events sent
  under an anonymousId nobody identified yet wait in `anonymousevent` and are stored as the customer's — with their
  own times, through the same path as new events, so they can trigger flows — when it is identified.
- `messageId`: each id is recorded (per workspace) in the transaction that stores its message, so a retry — after
  a timeout, or after a crash on either side of the commit — is stored once; repeats are acknowledged.
- Times: `timestamp` when given, else `originalTimestamp` corrected by the device's clock skew
  (`receivedAt - (sentAt - originalTimestamp)`, as Segment does), else the time received.

A batch is all or nothing like the project's own endpoint: PayloadError lists every problem (index, field,
message) and nothing is stored.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from engine import clock
from engine.models import AnonymousEvent, AnonymousLink, Customer, EventMessage, table_of
from engine.services import event_schemas as schemas
from engine.services.events import PayloadError, ValidEvent, store
from engine.settings import get_settings
from engine.shared.customers import check_fields, chunks, ensure_customers, upsert_customers

CALLS: dict[str, type[BaseModel]] = {"track": schemas.TrackCall, "identify": schemas.IdentifyCall,
                                     "page": schemas.PageCall, "screen": schemas.ScreenCall,
                                     "batch": schemas.SegmentBatch}
PROFILE_TRAITS = ("email", "phone", "name")

MESSAGES: Table = table_of(EventMessage)
LINKS: Table = table_of(AnonymousLink)
WAITING: Table = table_of(AnonymousEvent)
CUSTOMERS: Table = table_of(Customer)

Message = schemas.Track | schemas.Identify | schemas.Page | schemas.Screen | schemas.Group | schemas.Alias


@dataclass
class SegmentResult:
    received: int
    duplicates: int  # messageIds seen before (acknowledged, not stored again)
    stored: int  # behaviour events stored on customers (including waiting ones now attributed)
    waiting: int  # events of anonymousIds not identified yet
    identified: int  # identify calls applied
    ignored: int  # group / alias
    customers_created: int
    triggering: int


@dataclass
class Call:
    """One validated call, resolved: who, what, when."""

    index: int | None
    message: Message
    qaid: str | None
    anonymous_id: str | None
    occurred_at: datetime


def parse(payload: Any, *, kind: str, max_batch: int) -> tuple[list[Message], datetime | None]:
    """The messages of a call (`kind`: track, identify, page, screen or batch) and the batch's sentAt; raises
    PayloadError with every problem."""
    model = CALLS[kind]
    context = {"now": clock.now()}
    try:
        body = model.model_validate(payload, context=context)
    except ValidationError as err:
        raise PayloadError(schemas.problems(err, root="message" if kind != "batch" else "batch"),
                           "messages") from None
    if isinstance(body, schemas.SegmentBatch):
        if len(body.batch) > max_batch:
            raise PayloadError([{"index": None, "field": "batch",
                                 "message": f"at most {max_batch} messages per request ({len(body.batch)} sent)"}],
                               "messages")
        return list(body.batch), _time(body.sent_at)
    assert isinstance(body, schemas.Track | schemas.Identify | schemas.Page | schemas.Screen)
    return [body], None


def _time(value: datetime | float | None) -> datetime | None:
    return value if isinstance(value, datetime) else None  # the validators turn every time into a datetime


def resolve(messages: list[Message], *, batch_sent_at: datetime | None, single: bool) -> list[Call]:
    """Who and when for each message; raises PayloadError (identifiers missing, bad traits, a corrected time in
    the future)."""
    now = clock.now()
    calls: list[Call] = []
    errors: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        index = None if single else i
        qaid = m.user_id if isinstance(m.user_id, str) else None
        anonymous = m.anonymous_id if isinstance(m.anonymous_id, str) else None
        if qaid is None and anonymous is None:
            errors.append({"index": index, "field": "userId", "message": "userId or anonymousId is required"})
            continue
        if isinstance(m, schemas.Identify):
            if qaid is None:
                errors.append({"index": index, "field": "userId",
                               "message": "is required to identify (traits are kept on customers)"})
                continue
            problems = check_fields(_customer_row(qaid, m.traits or {}))
            if problems:
                errors.append({"index": index, "field": "traits", "message": "; ".join(problems)})
                continue
        when = _time(m.timestamp)
        original = _time(m.original_timestamp)
        if when is None and original is not None:
            sent = _time(m.sent_at) or batch_sent_at
            try:
                when = now - (sent - original) if sent is not None else original
            except OverflowError:
                errors.append({"index": index, "field": "sentAt", "message": "is too far from originalTimestamp"})
                continue
            if when > now + schemas.FUTURE_TOLERANCE:
                errors.append({"index": index, "field": "originalTimestamp", "message": "is in the future"})
                continue
        calls.append(Call(index=index, message=m, qaid=qaid, anonymous_id=anonymous, occurred_at=when or now))
    if errors:
        raise PayloadError(errors, "messages")
    return calls


def _customer_row(qaid: str, traits: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"qaid": qaid, "attributes": {}}
    for key, value in traits.items():
        if key in PROFILE_TRAITS and value is not None:
            row[key] = value
        else:
            row["attributes"][key] = value
    if "name" not in row:
        full = " ".join(str(traits[k]).strip() for k in ("firstName", "lastName") if traits.get(k))
        if full:
            row["name"] = full
    return row


def _event(call: Call, qaid: str) -> ValidEvent | None:
    m = call.message
    if isinstance(m, schemas.Track):
        return ValidEvent(qaid=qaid, name=m.event, properties=m.properties or {}, occurred_at=call.occurred_at)
    if isinstance(m, schemas.Page | schemas.Screen):
        extra = {k: v for k, v in (("name", m.name), ("category", m.category)) if v is not None}
        return ValidEvent(qaid=qaid, name=m.type, properties={**(m.properties or {}), **extra},
                          occurred_at=call.occurred_at)
    return None


def _dialect_insert(session: Session) -> Callable[[Table], sqlite.Insert | postgresql.Insert]:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"the Segment API needs SQLite or PostgreSQL (INSERT ... ON CONFLICT), not {name}")


def _claim(session: Session, workspace_id: int, ids: list[str], now: datetime) -> set[str]:
    """The message ids not seen before in the workspace, recorded now (in the caller's transaction: a rollback
    forgets them, so a failed request's retry is stored). A concurrent request with the same id waits on the
    primary key until this transaction ends, then finds it."""
    fresh: set[str] = set()
    insert = _dialect_insert(session)
    for part in chunks(ids):
        stmt = insert(MESSAGES).values([{"workspace_id": workspace_id, "message_id": m, "received_at": now}
                                        for m in part]).on_conflict_do_nothing().returning(MESSAGES.c.message_id)
        fresh.update(session.execute(stmt).scalars())
    return fresh


def ingest(*, session: Session, workspace_id: int, messages: list[Message], batch_sent_at: datetime | None = None,
           single: bool = False) -> SegmentResult:
    """Store a call's messages (see the module doc); all or nothing. Entry hooks run after the commit."""
    calls = resolve(messages, batch_sent_at=batch_sent_at, single=single)
    now = clock.now()
    # messageId: the first of each id in the batch, if the workspace has not seen it
    firsts: dict[str, Call] = {}
    for call in calls:
        if call.message.message_id is not None:
            firsts.setdefault(call.message.message_id, call)
    fresh = _claim(session, workspace_id, list(firsts), now) if firsts else set()
    kept = [c for c in calls if c.message.message_id is None
            or (c.message.message_id in fresh and firsts[c.message.message_id] is c)]
    ignored = sum(isinstance(c.message, schemas.Group | schemas.Alias) for c in kept)
    kept = [c for c in kept if not isinstance(c.message, schemas.Group | schemas.Alias)]

    identifies = [c for c in kept if isinstance(c.message, schemas.Identify) and c.qaid is not None]
    created = 0
    if identifies:
        rows = [_customer_row(c.qaid, c.message.traits or {}) for c in identifies
                if c.qaid is not None and isinstance(c.message, schemas.Identify)]
        created += upsert_customers(session=session, workspace_id=workspace_id, rows=rows).created

    # anonymousId + userId: link (the last call of the batch wins), then attribute what waited
    links = {c.anonymous_id: c.qaid for c in kept if c.anonymous_id is not None and c.qaid is not None}
    events: list[ValidEvent] = []
    if links:
        ids, made = ensure_customers(session=session, workspace_id=workspace_id, qaids=list(links.values()))
        created += made
        upsert = _dialect_insert(session)(LINKS)
        stmt = upsert.on_conflict_do_update(index_elements=["workspace_id", "anonymous_id"], set_={
            "customer_id": upsert.excluded.customer_id, "linked_at": upsert.excluded.linked_at})
        session.execute(stmt, [{"workspace_id": workspace_id, "anonymous_id": a, "customer_id": ids[q],
                                "linked_at": now} for a, q in links.items()])
        for part in chunks(list(links)):
            waited = session.execute(select(WAITING.c.id, WAITING.c.anonymous_id, WAITING.c.name,
                                            WAITING.c.properties, WAITING.c.occurred_at).where(
                WAITING.c.workspace_id == workspace_id, WAITING.c.anonymous_id.in_(part)).order_by(WAITING.c.id)).all()
            events.extend(ValidEvent(qaid=links[a], name=n, properties=p or {}, occurred_at=t)
                          for _, a, n, p, t in waited)
            if waited:
                session.execute(delete(WAITING).where(WAITING.c.id.in_([w[0] for w in waited])))

    # events of anonymousIds alone: to the linked customer, else they wait
    alone = {c.anonymous_id for c in kept if c.qaid is None and c.anonymous_id is not None}
    linked: dict[str, str] = {}
    for part in chunks(list(alone)):
        linked.update({a: q for a, q in session.execute(select(LINKS.c.anonymous_id, CUSTOMERS.c.qaid).join(
            CUSTOMERS, CUSTOMERS.c.id == LINKS.c.customer_id).where(
            LINKS.c.workspace_id == workspace_id, LINKS.c.anonymous_id.in_(part)))})
    waiting: list[dict[str, Any]] = []
    for call in kept:
        qaid = call.qaid or (linked.get(call.anonymous_id) if call.anonymous_id else None)
        event = _event(call, qaid or "")
        if event is None:
            continue
        if qaid is not None:
            events.append(event)
        else:
            waiting.append({"workspace_id": workspace_id, "anonymous_id": call.anonymous_id, "name": event.name,
                            "properties": event.properties, "occurred_at": event.occurred_at, "received_at": now})
    if waiting:
        session.execute(WAITING.insert(), waiting)
    result = store(session=session, workspace_id=workspace_id, valid=events)
    return SegmentResult(received=len(calls), duplicates=len(calls) - len(kept) - ignored, stored=result.accepted,
                         waiting=len(waiting), identified=len(identifies), ignored=ignored,
                         customers_created=created + result.customers_created, triggering=result.triggering)


def purge_expired(session: Session, now: datetime) -> tuple[int, int]:
    """Forget messageIds older than SEGMENT_DEDUPE_HOURS and waiting anonymous events older than
    ANONYMOUS_EVENT_DAYS (the scheduler's hourly housekeeping); returns how many of each."""
    settings = get_settings()
    ids = session.execute(delete(MESSAGES).where(
        MESSAGES.c.received_at < now - timedelta(hours=settings.segment_dedupe_hours)))
    waited = session.execute(delete(WAITING).where(
        WAITING.c.received_at < now - timedelta(days=settings.anonymous_event_days)))
    return int(getattr(ids, "rowcount", 0) or 0), int(getattr(waited, "rowcount", 0) or 0)
