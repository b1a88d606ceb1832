"""Behaviour events: validation, ingest, the entry hook after commit, the trigger index on a real redis-server,
provider receipts."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from sqlmodel import Session, func, select

from engine import clock, db
from engine.models import Activity, BehaviorEvent, Customer, Role
from engine.services import events as ev
from engine.settings import get_settings
from engine.shared import trigger_index as index
from engine.shared.customers import get_customer
from engine.status import ActivityStatus
from tests import factories as f
from tests.engine.channels.helpers import free_port


@pytest.fixture
def hook_calls() -> Iterator[list[tuple[int, list[ev.InsertedEvent]]]]:
    calls: list[tuple[int, list[ev.InsertedEvent]]] = []
    unregister = ev.register_entry_hook(lambda ws, events: calls.append((ws, events)))
    yield calls
    unregister()


def event_flow(event: str = "add_to_cart") -> dict[str, Any]:
    return {"nodes": [{"id": "t", "type": "behavior_event", "config": {"event": event, "times": 1, "window_hours": 24},
                       "position": {"x": 0, "y": 0}},
                      {"id": "e", "type": "end", "config": {}, "position": {"x": 200, "y": 0}}],
            "edges": [{"source": "t", "branch": "out", "target": "e"}]}


def _events(session: Session) -> list[BehaviorEvent]:
    return list(session.exec(select(BehaviorEvent).order_by(BehaviorEvent.id)).all())


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("event, fld, words", [
    ({"name": "x"}, "qaid", "is required"),
    ({"qaid": " ", "name": "x"}, "qaid", "is required"),
    ({"qaid": "q" * 65, "name": "x"}, "qaid", "longer than 64"),
    ({"qaid": "q"}, "name", "is required"),
    ({"qaid": "q", "name": "n" * 61}, "name", "longer than 60"),
    ({"qaid": "q", "name": "a\nb"}, "name", "control characters"),
    ({"qaid": "q", "name": "x", "properties": [1]}, "properties", "must be an object"),
    ({"qaid": "q", "name": "x", "properties": {"big": "x" * 20_000}}, "properties", "at most 16384 bytes"),
    ({"qaid": "q", "name": "x", "occurred_at": "yesterday"}, "occurred_at", "not an ISO-8601 time"),
    ({"qaid": "q", "name": "x", "occurred_at": True}, "occurred_at", "ISO-8601"),
    ({"qaid": "q", "name": "x", "occurred_at": 67_768_036_191_676_800}, "occurred_at", "out of range"),
    ({"qaid": "q", "name": "x", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at", "in the future"),
    ({"qaid": "q", "name": "x", "user": "me"}, "user", "unknown field"),
    ("purchase", "event", "must be an object"),
])
def test_validation_names_the_event_and_field(event: Any, fld: str, words: str) -> None:
    with pytest.raises(ev.PayloadError) as caught:
        ev.validate_events([{"qaid": "ok", "name": "fine"}, event])
    assert len(caught.value.errors) == 1
    error = caught.value.errors[0]
    assert (error["index"], error["field"]) == (1, fld) and words in error["message"]
    assert str(caught.value).startswith("No events were accepted: #1 " + fld)


def test_validation_of_the_batch_and_accepted_forms() -> None:
    for batch, words in [({}, "must be a list"), ([], "empty"), ([{"qaid": "q", "name": "n"}] * 3, "at most 2")]:
        with pytest.raises(ev.PayloadError, match=words):
            ev.validate_events(batch, max_batch=2)
    fixed = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    clock.set_clock(lambda: fixed)
    try:
        valid = ev.validate_events([
            {"qaid": 42, "name": " purchase ", "properties": {"amount": 9.5},
             "occurred_at": "2026-05-01T18:30:00+08:00"},
            {"qaid": "q", "name": "login", "occurred_at": "2026-04-30T01:02:03Z"},
            {"qaid": "q", "name": "login", "occurred_at": 1777000000},
            {"qaid": "q", "name": "login", "occurred_at": "2026-04-30 01:02:03", "properties": None},
            {"qaid": "q", "name": "login"},
        ])
    finally:
        clock.set_clock(None)
    assert valid[0] == ev.ValidEvent("42", "purchase", {"amount": 9.5}, datetime(2026, 5, 1, 10, 30, tzinfo=UTC))
    assert valid[1].occurred_at == datetime(2026, 4, 30, 1, 2, 3, tzinfo=UTC)
    assert valid[2].occurred_at == datetime.fromtimestamp(1777000000, UTC)
    assert valid[3].occurred_at == datetime(2026, 4, 30, 1, 2, 3, tzinfo=UTC) and valid[3].properties == {}
    assert valid[4].occurred_at == fixed


# ---------------------------------------------------------------- ingest


def test_ingest_stores_events_and_creates_unknown_customers(session: Session) -> None:
    ws = f.workspace(session)
    from engine.shared.customers import upsert_customers

    upsert_customers(session=session, workspace_id=ws.id, rows=[{"qaid": "known", "name": "Known"}])
    result = ev.ingest(session=session, workspace_id=ws.id, events=[
        {"qaid": "known", "name": "browse_h5", "properties": {"page": "/home"}},
        {"qaid": "new-1", "name": "register_app", "occurred_at": "2026-01-02T03:04:05Z"},
        {"qaid": "new-1", "name": "login"},
    ])
    assert (result.accepted, result.customers_created, result.triggering) == (3, 1, 0)
    new = get_customer(session=session, workspace_id=ws.id, qaid="new-1")
    assert (new.name, new.phone, new.timezone) == ("", None, "Asia/Shanghai")
    rows = _events(session)
    assert [(r.name, r.properties) for r in rows] == [("browse_h5", {"page": "/home"}), ("register_app", {}),
                                                      ("login", {})]
    assert rows[1].occurred_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) and rows[1].customer_id == new.id
    assert all(r.workspace_id == ws.id for r in rows)


def test_ingest_is_all_or_nothing(session: Session) -> None:
    ws = f.workspace(session)
    with pytest.raises(ev.PayloadError) as caught:
        ev.ingest(session=session, workspace_id=ws.id, events=[
            {"qaid": "a", "name": "login"}, {"qaid": "b", "name": ""}, {"qaid": "", "name": "x"}])
    assert [(e["index"], e["field"]) for e in caught.value.errors] == [(1, "name"), (2, "qaid")]
    assert session.exec(select(func.count()).select_from(Customer)).one() == 0
    assert _events(session) == []


def test_entry_hook_runs_after_commit_with_triggering_events_only(
        database: str, redis_url: str, hook_calls: list[Any]) -> None:
    with db.write_session() as s:
        ws = f.workspace(s)
        owner = f.user(s, ws, Role.ADMIN)
        cart = f.activity(s, owner, status=ActivityStatus.IN_PROGRESS, flow=event_flow("add_to_cart"))
        ws_id, cart_id = ws.id, cart.id
    with db.write_session() as s:
        result = ev.ingest(session=s, workspace_id=ws_id, events=[
            {"qaid": "c1", "name": "add_to_cart", "properties": {"sku": "A"}}, {"qaid": "c1", "name": "login"}])
        assert result.triggering == 1
        assert hook_calls == []  # not before the commit
    assert len(hook_calls) == 1
    workspace_id, inserted = hook_calls[0]
    assert workspace_id == ws_id and len(inserted) == 1
    customer_id, name, props, occurred = inserted[0]
    assert (name, props) == ("add_to_cart", {"sku": "A"}) and isinstance(occurred, datetime)
    with db.read_session() as s:
        assert get_customer(session=s, workspace_id=ws_id, qaid="c1").id == customer_id
        assert index.event_triggers(session=s, workspace_id=ws_id) == {"add_to_cart": [cart_id]}

    # a rolled-back ingest calls nothing, and the next commit does not replay it
    with pytest.raises(RuntimeError), db.write_session() as s:
        ev.ingest(session=s, workspace_id=ws_id, events=[{"qaid": "c2", "name": "add_to_cart"}])
        raise RuntimeError("refused later in the same transaction")
    with db.write_session() as s:
        ev.ingest(session=s, workspace_id=ws_id, events=[{"qaid": "c3", "name": "login"}])
    assert len(hook_calls) == 1
    with db.read_session() as s:
        assert s.exec(select(func.count()).select_from(Customer).where(Customer.qaid == "c2")).one() == 0


def test_a_failing_hook_does_not_fail_the_ingest(database: str, redis_url: str,
                                                 hook_calls: list[Any]) -> None:
    def broken(_ws: int, _events: list[Any]) -> None:
        raise ValueError("runtime down")

    unregister = ev.register_entry_hook(broken)
    try:
        with db.write_session() as s:
            ws = f.workspace(s)
            f.activity(s, f.user(s, ws, Role.ADMIN), status=ActivityStatus.IN_PROGRESS, flow=event_flow("purchase"))
            ws_id = ws.id
        with db.write_session() as s:
            ev.ingest(session=s, workspace_id=ws_id, events=[{"qaid": "p", "name": "purchase"}])
    finally:
        unregister()
    assert len(hook_calls) == 1  # the other hook still ran
    with db.read_session() as s:
        assert len(_events(s)) == 1


# ---------------------------------------------------------------- trigger index


def test_trigger_index_reads_in_progress_event_triggered_activities(session: Session, redis_url: str) -> None:
    ws = f.workspace(session)
    owner = f.user(session, ws, Role.ADMIN)
    a = f.activity(session, owner, status=ActivityStatus.IN_PROGRESS, flow=event_flow("add_to_cart"))
    b = f.activity(session, owner, status=ActivityStatus.IN_PROGRESS, flow=event_flow("add_to_cart"))
    c = f.activity(session, owner, status=ActivityStatus.IN_PROGRESS, flow=event_flow("purchase"))
    f.activity(session, owner, status=ActivityStatus.STOPPED, flow=event_flow("login"))
    f.activity(session, owner, status=ActivityStatus.NOT_STARTED, flow=event_flow("login"))
    f.activity(session, owner, status=ActivityStatus.IN_PROGRESS)  # Target Audience trigger
    f.activity(session, owner, status=ActivityStatus.DRAFT, flow=event_flow("login"))
    other = f.workspace(session)
    f.activity(session, f.user(session, other), status=ActivityStatus.IN_PROGRESS, flow=event_flow("search"))
    expected = {"add_to_cart": [a.id, b.id], "purchase": [c.id]}
    assert index.compute_event_triggers(session=session, workspace_id=ws.id) == expected
    assert index.event_triggers(session=session, workspace_id=ws.id) == expected
    assert index.trigger_of({"nodes": [{"id": "x", "type": "behavior_event", "config": {}}], "edges": []}) is None


def test_trigger_index_is_cached_until_bumped(session: Session, redis_url: str) -> None:
    ws = f.workspace(session)
    owner = f.user(session, ws, Role.ADMIN)
    a = f.activity(session, owner, status=ActivityStatus.IN_PROGRESS, flow=event_flow("add_to_cart"))
    assert index.event_triggers(session=session, workspace_id=ws.id) == {"add_to_cart": [a.id]}
    client = redis.Redis.from_url(redis_url)
    assert client.get(f"am:trigger-index:{ws.id}:0") is not None
    assert 0 < client.ttl(f"am:trigger-index:{ws.id}:0") <= index.INDEX_TTL

    a.status = ActivityStatus.STOPPED
    session.add(a)
    session.flush()
    assert index.event_triggers(session=session, workspace_id=ws.id) == {"add_to_cart": [a.id]}  # cached (no bump)
    index.bump_trigger_index(ws.id)
    assert index.event_triggers(session=session, workspace_id=ws.id) == {}
    assert int(client.get(f"am:trigger-index:{ws.id}:version")) == 1
    index.bump_trigger_index(ws.id + 1)  # other workspaces are untouched
    assert client.get(f"am:trigger-index:{ws.id}:version") == b"1"
    client.close()


def test_bump_with_a_session_waits_for_the_commit(database: str, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    with db.write_session() as s:
        ws = f.workspace(s)
        owner = f.user(s, ws, Role.ADMIN)
        ws_id = ws.id
    with db.read_session() as s:
        assert index.event_triggers(session=s, workspace_id=ws_id) == {}
    with db.write_session() as s:
        a = f.activity(s, s.merge(owner), status=ActivityStatus.IN_PROGRESS, flow=event_flow("login"))
        index.bump_trigger_index(ws_id, session=s)
        assert client.get(f"am:trigger-index:{ws_id}:version") is None  # not yet
        a_id = a.id
    committed = int(client.get(f"am:trigger-index:{ws_id}:version"))
    assert committed >= 1  # the explicit bump, and the status watcher's for the new activity
    with db.read_session() as s:
        assert index.event_triggers(session=s, workspace_id=ws_id) == {"login": [a_id]}
    with pytest.raises(RuntimeError), db.write_session() as s:
        index.bump_trigger_index(ws_id, session=s)
        raise RuntimeError("rolled back")
    assert int(client.get(f"am:trigger-index:{ws_id}:version")) == committed
    client.close()


def test_without_redis_the_index_comes_from_the_database(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    get_settings.cache_clear()
    ws = f.workspace(session)
    a = f.activity(session, f.user(session, ws, Role.ADMIN), status=ActivityStatus.IN_PROGRESS,
                   flow=event_flow("login"))
    assert index.event_triggers(session=session, workspace_id=ws.id) == {"login": [a.id]}
    index.bump_trigger_index(ws.id)  # logged, not raised
    get_settings.cache_clear()


def test_activity_window_check_is_the_runtimes_business(session: Session, redis_url: str) -> None:
    """The index lists in-progress activities whatever their end time: the scheduler ends them."""
    ws = f.workspace(session)
    a = f.activity(session, f.user(session, ws, Role.ADMIN), status=ActivityStatus.IN_PROGRESS,
                   flow=event_flow("login"), end_time=clock.now() - timedelta(minutes=1))
    assert index.event_triggers(session=session, workspace_id=ws.id) == {"login": [a.id]}
    assert session.get(Activity, a.id) is not None


# ---------------------------------------------------------------- receipts


def test_receipts_are_parsed_and_handed_to_the_hook() -> None:
    items = [{"message_id": "12:n3:77", "status": "delivered"},
             {"id": "12:branch:a:78", "status": "FAILED", "reason": "number does not exist", "provider_id": "p1"}]
    assert ev.accept_receipts(items) == ev.ReceiptResult(accepted=2, handled=False)
    received: list[list[ev.Receipt]] = []
    unregister = ev.register_receipt_hook(received.append)
    try:
        assert ev.accept_receipts(items).handled is True
    finally:
        unregister()
    assert received == [[ev.Receipt("12:n3:77", 12, "n3", 77, "delivered", None),
                         ev.Receipt("12:branch:a:78", 12, "branch:a", 78, "failed", "number does not exist")]]
    with pytest.raises(ev.PayloadError) as caught:
        ev.accept_receipts([{"message_id": "x:n:1", "status": "delivered"}, {"message_id": "1:n:2", "status": "read"},
                            {"message_id": "1:n:2", "status": "failed", "reason": 5}, "nope"])
    assert [(e["index"], e["field"]) for e in caught.value.errors] == [
        (0, "message_id"), (1, "status"), (2, "reason"), (3, "receipt")]
    for bad in ([], {}, [{"message_id": "1:n:1", "status": "delivered"}] * 1001):
        with pytest.raises(ev.PayloadError):
            ev.accept_receipts(bad)
