"""Per-customer details are kept 7 days; a send with no receipt within 72 hours counts as failed."""

from datetime import timedelta

from sqlmodel import Session, select

from engine import clock
from engine.models import CustomerRoute, CustomerStep
from engine.runtime.connection import get_redis
from engine.runtime.lifecycle import purge_details
from engine.runtime.receipts import apply_receipts, expire_pending
from engine.runtime.store import RoundStore
from tests import factories as f


def test_details_older_than_seven_days_are_purged(session: Session) -> None:
    record = f.record(session)
    now = clock.now()
    for cid, age in ((1, timedelta(days=8)), (2, timedelta(days=6, hours=23)), (3, timedelta(0))):
        session.add(CustomerStep(record_id=record.id, node_id="n1", customer_id=cid, at=now - age))
        session.add(CustomerRoute(record_id=record.id, customer_id=cid, start_node="t", at=now - age,
                                  route='{"t":"out"}'))
    session.flush()
    assert purge_details(session, now) == 2  # customer 1's send row and route row
    assert sorted(session.exec(select(CustomerStep.customer_id)).all()) == [2, 3]
    assert sorted(session.exec(select(CustomerRoute.customer_id)).all()) == [2, 3]


def test_no_receipt_within_72_hours_fails_once(database: str, redis_url: str) -> None:
    from engine.db import read_session, write_session

    store = RoundStore(get_redis())
    with write_session() as session:
        record_id = f.record(session).id
        old = clock.now() - timedelta(hours=73)
        for cid in (1, 2):
            session.add(CustomerStep(record_id=record_id, node_id="sms", customer_id=cid, result="pending", at=old))
    store.set_results(record_id, "sms", {1: "pending", 2: "pending"})
    store.count(record_id, "sms", "b0", {"pending": 2, "success": 0, "failed": 0, "sent": 2})
    assert apply_receipts([{"id": f"{record_id}:sms:1", "status": "delivered"}], store=store) == 1
    assert expire_pending(store=store) == 1  # customer 2 only: 1 already has its receipt
    assert expire_pending(store=store) == 0  # idempotent
    assert apply_receipts([{"id": f"{record_id}:sms:2", "status": "delivered"}], store=store) == 0  # too late
    counters = store.counters(record_id)["sms"]
    assert (counters["success"], counters["failed"], counters["pending"], counters["sent"]) == (1, 1, 0, 2)
    with read_session() as session:
        rows = dict(session.exec(select(CustomerStep.customer_id, CustomerStep.reason)).all())
    assert rows[2] == "No receipt within 72 hours"


def test_a_receipt_after_the_round_ended_updates_its_persisted_counters(database: str, redis_url: str) -> None:
    """A finished round's counters live in the database (the pages read them there once it ended): a late receipt
    must move them too; while the round runs, nothing is persisted (Redis is the live truth)."""
    from engine.db import write_session
    from engine.models import ExecutionRecord
    from engine.status import RecordStatus
    from tests.engine.runtime.support import persisted_counters

    store = RoundStore(get_redis())
    with write_session() as session:
        record_id = f.record(session).id
        for cid in (1, 2):
            session.add(CustomerStep(record_id=record_id, node_id="sms", customer_id=cid, result="pending",
                                     at=clock.now()))
    store.set_results(record_id, "sms", {1: "pending", 2: "pending"})
    store.count(record_id, "sms", "b0", {"pending": 2, "success": 0, "failed": 0, "sent": 2})
    assert apply_receipts([{"id": f"{record_id}:sms:1", "status": "delivered"}], store=store) == 1
    assert persisted_counters(record_id) == {}  # in progress: not persisted
    with write_session() as session:
        record = session.get(ExecutionRecord, record_id)
        record.status = RecordStatus.COMPLETED
    assert apply_receipts([{"id": f"{record_id}:sms:2", "status": "failed"}], store=store) == 1
    persisted = persisted_counters(record_id)["sms"]
    assert (persisted["success"], persisted["failed"], persisted["pending"], persisted["sent"]) == (1, 1, 0, 2)
