"""Behaviour events in, event-triggered activities out; provider delivery receipts in.

`ingest` validates a batch (all or nothing), creates a minimal customer (QAID only, default time zone) for
an unknown QAID — events often arrive before the CRM sync, and refusing them would lose behaviour for
good — bulk-inserts the events, and, after the transaction commits, hands the events whose name triggers an
in-progress activity to the entry hooks (the runtime registers one with `register_entry_hook`).

Which event names trigger which in-progress activities is the trigger index (engine/shared/trigger_index.py,
shared with the runtime's entry path).

Receipts (`accept_receipts`) are parsed and handed to the receipt hooks (the runtime stores them); with
no hook registered they are accepted and dropped.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import insert
from sqlmodel import Session

from engine import clock
from engine.db import after_commit
from engine.errors import Invalid
from engine.models import BehaviorEvent, table_of
from engine.services import event_schemas as schemas
from engine.shared.customers import ensure_customers
from engine.shared.trigger_index import event_triggers

log = logging.getLogger(__name__)

NAME_MAX = schemas.NAME_MAX
MAX_BATCH = 1000
PROPERTIES_MAX_BYTES = schemas.PROPERTIES_MAX_BYTES
RECEIPT_STATUSES = schemas.RECEIPT_STATUSES

#: (customer id, event name, properties, occurred at)
InsertedEvent = tuple[int, str, dict[str, Any], datetime]
EntryHook = Callable[[int, list[InsertedEvent]], object]  # what it returns (e.g. a count) is ignored


# slots, not frozen (treat as read-only): a frozen dataclass sets each field through object.__setattr__, ~3x the
# construction cost, and the API parses every provider receipt into one (a million per large round)
@dataclass(slots=True)
class Receipt:
    message_id: str  # "record:node:customer", the send's dedupe key
    record_id: int
    node_id: str
    customer_id: int
    status: str  # delivered | failed
    reason: str | None = None


ReceiptHook = Callable[[list[Receipt]], object]  # what it returns (e.g. a count) is ignored

_entry_hooks: list[EntryHook] = []
_receipt_hooks: list[ReceiptHook] = []
_event_hooks: list[EntryHook] = []  # issue 16: every stored event (goals and exits), after the commit


class PayloadError(Invalid):
    """A refused batch (nothing stored); `errors` = [{"index": i, "field": f, "message": m}] (index from 0)."""

    def __init__(self, errors: list[dict[str, Any]], what: str = "events") -> None:
        first = "; ".join(f"#{e['index']} {e['field']}: {e['message']}" if e.get("index") is not None
                          else f"{e['field']}: {e['message']}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"No {what} were accepted: {first}{more}.")
        self.errors = errors


# ---------------------------------------------------------------- hooks


def register_entry_hook(fn: EntryHook) -> Callable[[], None]:
    """Call `fn(workspace_id, events)` after each committed ingest whose events trigger in-progress
    activities (only those events are passed). Returns a function that unregisters it."""
    if fn not in _entry_hooks:
        _entry_hooks.append(fn)
    return lambda: _entry_hooks.remove(fn) if fn in _entry_hooks else None


def register_event_hook(fn: EntryHook) -> Callable[[], None]:
    """Call `fn(workspace_id, events)` with every event of each committed ingest (conversion goals and exit
    criteria listen to any name). Returns a function that unregisters it."""
    if fn not in _event_hooks:
        _event_hooks.append(fn)
    return lambda: _event_hooks.remove(fn) if fn in _event_hooks else None


def register_receipt_hook(fn: ReceiptHook) -> Callable[[], None]:
    """Call `fn(receipts)` for every accepted batch of provider receipts. Returns an unregister function."""
    if fn not in _receipt_hooks:
        _receipt_hooks.append(fn)
    return lambda: _receipt_hooks.remove(fn) if fn in _receipt_hooks else None


# ---------------------------------------------------------------- validation


@dataclass(frozen=True)
class ValidEvent:
    qaid: str
    name: str
    properties: dict[str, Any]
    occurred_at: datetime


def validate_events(events: Any, *, max_batch: int = MAX_BATCH) -> list[ValidEvent]:
    """Check a batch against the `Event` model (engine/services/event_schemas.py, also the OpenAPI document's);
    raises PayloadError listing every problem (nothing is stored then)."""
    if not isinstance(events, list):
        raise PayloadError([{"index": None, "field": "events", "message": "must be a list of event objects"}])
    if not events:
        raise PayloadError([{"index": None, "field": "events", "message": "the batch is empty"}])
    if len(events) > max_batch:
        raise PayloadError([{"index": None, "field": "events",
                             "message": f"at most {max_batch} events per request ({len(events)} sent)"}])
    context = {"now": clock.now()}
    valid: list[ValidEvent] = []
    errors: list[dict[str, Any]] = []
    for i, item in enumerate(events):
        try:
            event = schemas.Event.model_validate(item, context=context)
        except ValidationError as err:
            for problem in schemas.problems(err, root="event", allowed=_ALLOWED):
                errors.append({**problem, "index": i})
            continue
        when = event.occurred_at
        valid.append(ValidEvent(qaid=str(event.qaid), name=event.name, properties=event.properties or {},
                                occurred_at=when if isinstance(when, datetime) else context["now"]))
    if errors:
        raise PayloadError(errors)
    return valid


_ALLOWED = "qaid, name, properties, occurred_at"


# ---------------------------------------------------------------- ingest


@dataclass
class IngestResult:
    accepted: int
    customers_created: int
    triggering: int  # events handed to the entry hooks (their name triggers an in-progress activity)


def ingest(*, session: Session, workspace_id: int, events: list[dict[str, Any]],
           max_batch: int = MAX_BATCH) -> IngestResult:
    """Validate and store a batch of behaviour events (all or nothing; see the module doc for unknown
    customers). The entry hooks run after the caller's transaction commits."""
    return store(session=session, workspace_id=workspace_id, valid=validate_events(events, max_batch=max_batch))


def store(*, session: Session, workspace_id: int, valid: list[ValidEvent]) -> IngestResult:
    """Store validated events (creating unknown customers) and, after the commit, hand those whose name triggers
    an in-progress activity to the entry hooks. Shared by `ingest` and the Segment API (engine/services/segment.py)."""
    if not valid:
        return IngestResult(accepted=0, customers_created=0, triggering=0)
    ids, created = ensure_customers(session=session, workspace_id=workspace_id, qaids=[e.qaid for e in valid])
    now = clock.now()
    rows = [{"workspace_id": workspace_id, "customer_id": ids[e.qaid], "name": e.name, "properties": e.properties,
             "occurred_at": e.occurred_at, "received_at": now} for e in valid]
    session.execute(insert(table_of(BehaviorEvent)), rows)
    session.flush()
    triggering: list[InsertedEvent] = []
    if _entry_hooks:
        try:
            names = set(event_triggers(session=session, workspace_id=workspace_id))
        except Exception:  # the index failing must not lose events: let the hooks filter
            log.exception("trigger index unavailable; passing every event to the entry hooks")
            names = {e.name for e in valid}
        triggering = [(ids[e.qaid], e.name, e.properties, e.occurred_at) for e in valid if e.name in names]
        if triggering:
            hooks = list(_entry_hooks)

            def call() -> None:
                for hook in hooks:
                    try:
                        hook(workspace_id, triggering)
                    except Exception:
                        log.exception("event entry hook %r failed", hook)

            after_commit(session, call)
    if _event_hooks:
        _after_commit_hooks(session, workspace_id, [(ids[e.qaid], e.name, e.properties, e.occurred_at) for e in valid])
    return IngestResult(accepted=len(rows), customers_created=created, triggering=len(triggering))


def _after_commit_hooks(session: Session, workspace_id: int, every: list[InsertedEvent]) -> None:
    hooks = list(_event_hooks)

    def call() -> None:
        for hook in hooks:
            try:
                hook(workspace_id, every)
            except Exception:
                log.exception("event hook %r failed", hook)

    after_commit(session, call)


# ---------------------------------------------------------------- receipts


@dataclass
class ReceiptResult:
    accepted: int
    handled: bool  # False: no receipt hook is registered; nothing was stored


def parse_receipts(items: Any, *, max_batch: int = MAX_BATCH) -> list[Receipt]:
    """Provider receipts [{message_id (or id), status, reason}], checked by the `Receipt` model
    (engine/services/event_schemas.py, also the OpenAPI document's) — extra keys (provider id, time) are ignored.
    Raises PayloadError listing every bad one (its first problem)."""
    if not isinstance(items, list) or not items:
        raise PayloadError([{"index": None, "field": "receipts", "message": "must be a non-empty list"}], "receipts")
    if len(items) > max_batch:
        raise PayloadError([{"index": None, "field": "receipts",
                             "message": f"at most {max_batch} receipts per request ({len(items)} sent)"}], "receipts")
    fast = _well_formed(items)
    if fast is not None:
        return fast
    try:
        parsed = _RECEIPTS.validate_python(items)
    except ValidationError as err:
        first: dict[Any, dict[str, Any]] = {}
        for problem in schemas.problems(err, root="receipt", words=schemas.RECEIPT_WORDS):
            first.setdefault(problem["index"], problem)
        raise PayloadError(list(first.values()), "receipts") from None
    out: list[Receipt] = []
    for r in parsed:
        parts = r.message_id.split(":")
        out.append(Receipt(message_id=r.message_id, record_id=int(parts[0]), node_id=":".join(parts[1:-1]),
                           customer_id=int(parts[-1]), status=r.status.strip().lower(),
                           reason=(r.reason or None) and r.reason[:200]))
    return out


_RECEIPTS: TypeAdapter[list[schemas.Receipt]] = TypeAdapter(list[schemas.Receipt])


_PLAIN_STATUSES = frozenset(("delivered", "failed"))


def _well_formed(items: list[Any]) -> list[Receipt] | None:
    """The receipts, when every one is in the form providers send (an ASCII 'record:node:customer' id, status
    exactly "delivered" or "failed", a text or no reason) — a subset of what the `Receipt` model accepts, read
    at a fraction of its cost (pydantic was a quarter of the API's CPU per receipt). None as soon as one is not:
    the model then reads them all and words every problem (the one source of the rules)."""
    out: list[Receipt] = []
    append = out.append
    for item in items:
        if type(item) is not dict:
            return None
        message_id = item["message_id"] if "message_id" in item else item.get("id")
        status, reason = item.get("status"), item.get("reason")
        if type(message_id) is not str or type(status) is not str or status not in _PLAIN_STATUSES or not (
                reason is None or type(reason) is str) or not message_id.isascii():
            return None
        parts = message_id.split(":")
        record, customer = parts[0], parts[-1]
        if len(parts) < 3 or not record.isdigit() or not customer.isdigit() or "" in parts:
            return None
        append(Receipt(message_id, int(record), ":".join(parts[1:-1]), int(customer), status,
                       (reason or None) and reason[:200]))
    return out


def accept_receipts(items: Iterable[dict[str, Any]] | Any) -> ReceiptResult:
    """Parse receipts and hand them to the receipt hooks (which store them). A hook's error propagates, so
    the provider gets an error status and retries."""
    receipts = parse_receipts(items)
    for hook in list(_receipt_hooks):
        hook(receipts)
    return ReceiptResult(accepted=len(receipts), handled=bool(_receipt_hooks))
