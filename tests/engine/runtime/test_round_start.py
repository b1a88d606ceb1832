"""An audience round's start queues its batches as the crowd is read (engine/runtime/rounds.py `_queue_entrants`):
the first batches reach the workers while the rest is still coming from the database, and the batches are the
same whatever the parts the database gives — so a start retried after a crash puts the same customers under the
same keys, re-entry rule or not."""

from typing import Any

import pytest
from sqlmodel import select

from engine.db import read_session, write_session
from engine.models import AudienceMember, ExecutionRecord
from engine.runtime import reentry as reentry_rules
from engine.runtime.rounds import start_round
from engine.shared import audiences
from tests.engine.runtime.support import records, seed_activity

BATCH = 30  # does not divide the parts: batches straddle them


def _start(engine: Any, record_id: int) -> tuple[list[str], int, dict[str, list[int]]]:
    """Start the round; returns (keys in enqueue order, batches already in Redis at the first enqueue, batches)."""
    keys: list[str] = []
    in_redis: list[int] = []

    def enqueue(_record: int, _node: str, key: str) -> None:
        if not keys:
            in_redis.append(len(engine.store.r.keys(f"b:{record_id}:e*")))
        keys.append(key)

    start_round(record_id, enqueue=enqueue, store=engine.store, batch_size=BATCH)
    return keys, in_redis[0], {k: engine.store.get_batch(record_id, k) for k in keys}


def _audience_ids(record_id: int) -> list[int]:
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        assert record is not None and record.entry_closed
        return sorted(session.exec(select(AudienceMember.customer_id)).all())


@pytest.mark.parametrize("reentry", ["every_time", "once"])
def test_batches_leave_as_the_crowd_is_read_and_a_retry_queues_the_same(engine, monkeypatch, reentry) -> None:
    monkeypatch.setattr(audiences, "MEMBER_CHUNK", 100)
    monkeypatch.setattr(reentry_rules, "CHUNK", 200)  # the rule's own chunks (10,000 a Lua call), made small
    activity_id, _ = seed_activity(1_000, reentry=reentry)
    record_id = int(records(activity_id)[0].id)  # type: ignore[arg-type]
    keys, in_redis, batches = _start(engine, record_id)

    assert keys == [f"e{n}" for n in range(34)]  # 1,000 in batches of 30, named as one read would name them
    assert 0 < in_redis < len(keys)  # the first message left with the first part read, not after the whole crowd
    members = [cid for k in keys for cid in batches[k]]
    assert members == _audience_ids(record_id)  # everyone once, in id order
    assert [len(b) for b in batches.values()] == [BATCH] * 33 + [10]
    assert {m.decode() for m in engine.store.r.smembers(f"pending:{record_id}")} == set(keys)

    # a retry (the worker died before the commit) reads the crowd in other parts: the same batches
    monkeypatch.setattr(audiences, "MEMBER_CHUNK", 70)
    with write_session() as session:
        record = session.get(ExecutionRecord, record_id)
        assert record is not None
        record.entry_closed = False
        session.add(record)
    again, _, batches_again = _start(engine, record_id)
    assert again == keys and batches_again == batches


def test_a_crowd_that_fails_half_read_ends_the_round_and_its_queued_batches_go_no_further(engine,
                                                                                       monkeypatch) -> None:
    """The database fails after the first part (a connection lost mid-read): the round ends with the re-runnable
    crowd-data reason, and the batches queued from the first part walk nobody anywhere."""
    from sqlalchemy.exc import OperationalError

    from engine.runtime import rounds
    from engine.runtime.step import run_step
    from engine.status import RecordStatus

    activity_id, _ = seed_activity(300)
    record_id = int(records(activity_id)[0].id)  # type: ignore[arg-type]
    real = rounds.member_chunks

    def lost_after_one_part(**kwargs: Any):  # noqa: ANN202 — the real stream, then the connection is gone
        parts = real(**kwargs, size=100)
        yield next(parts)
        raise audiences.CrowdDataError(0, "the database failed while reading audience “All” (OperationalError).") \
            from OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(rounds, "member_chunks", lost_after_one_part)
    keys, _, batches = _start(engine, record_id)
    assert keys == ["e0", "e1", "e2"] and sum(len(b) for b in batches.values()) == 90  # 3 whole batches left
    [record] = records(activity_id)
    assert record.status == RecordStatus.ABNORMAL_END and record.failure_reason == (
        "Failed to obtain crowd data: the database failed while reading audience “All” (OperationalError).")
    # a walk that began before the end committed meets the round's stop flag at its next component (the flag a
    # Stop raises, whose walks in flight tests/engine/runtime/test_stop.py follows); one that begins after it
    # finds the round over
    assert engine.store.is_stopped(record_id)
    for key in keys:  # their messages arrive after the end: nobody enters, nothing is sent
        run_step(record_id, "t", key, store=engine.store)
    assert engine.store.counters(record_id) == {} and engine.store.pending(record_id) == 0
