"""Generate Crowd on a real round: the customers with a result become a static audience that a Target Audience
really runs; requests are checked first; a generation that fails records why and saves nothing; the workers'
actor does the work off the request."""

from collections.abc import Iterator
from datetime import timedelta

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlmodel import func, select

from engine import clock, crowd_actor
from engine.channels.registry import reset_channels
from engine.db import read_session, write_session
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Activity, Audience, AudienceMember, CrowdOperation, CustomerStep, User
from engine.models.crowd import CrowdStatus
from engine.runtime.lifecycle import purge_details
from engine.scheduler import Scheduler
from engine.services import activities as activity_service
from engine.services import crowds
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience, list_audiences
from engine.services.execution import counters_of
from engine.settings import get_settings
from tests.engine.runtime import support as s
from tests.engine.services import analysis_support as sup

N = 200


@pytest.fixture
def live(database: str, redis_url: str, simulator, http_sink, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "50")
    get_settings.cache_clear()
    reset_channels()
    yield sup.seed_round(N, http_sink, simulator)
    reset_channels()
    clock.set_clock(None)


def _request(rnd: sup.Round, actor: User, *, result: str = "success", name: str = "Reached by SMS",
             node_id: str = "sms") -> CrowdOperation:
    with write_session() as session:
        return crowds.request_crowd(session=session, actor=actor, record_id=rnd.record_id, node_id=node_id,
                                    result=result, name=name)


def _operations(rnd: sup.Round, actor: User, node_id: str = "sms") -> list[crowds.OperationRow]:
    with read_session() as session:
        return crowds.list_operations(session=session, actor=actor, record_id=rnd.record_id, node_id=node_id)


def _audiences() -> int:
    with read_session() as session:
        return int(session.exec(select(func.count()).select_from(Audience)).one())


def _members() -> int:
    with read_session() as session:
        return int(session.exec(select(func.count()).select_from(AudienceMember)).one())


def _target_flow(audience_id: int) -> dict:
    return {"nodes": [{"id": "t", "type": "target_audience", "config": {"audience_id": audience_id}},
                      {"id": "e", "type": "end", "config": {}}],
            "edges": [{"source": "t", "branch": "out", "target": "e"}]}


def test_the_succeeded_customers_become_an_audience_that_a_target_audience_runs(live: sup.Round) -> None:
    users = sup.users_of(live.owner_id)
    owner = users["owner"]
    with read_session() as session:
        succeeded = counters_of(session, live.record())["sms"]["success"]
    operation = _request(live, owner)
    assert operation.status == CrowdStatus.RUNNING and operation.requested == succeeded
    seen: list[tuple[int, int]] = []
    assert crowds.run_operation(operation_id=operation.id, chunk=40,
                                progress=lambda done, total: seen.append((done, total))) == CrowdStatus.DONE
    assert seen[-1] == (2 * succeeded, 2 * succeeded) and len(seen) > 4  # read, then written, chunk by chunk
    [row] = _operations(live, owner)
    assert (row.status, row.count, row.result_label, row.name, row.who, row.progress) == (
        "done", succeeded, "Succeeded", "Reached by SMS", owner.display_name, 1.0)
    assert row.finished_at is not None and row.reason == ""
    with read_session() as session:
        audience = session.get(Audience, row.audience_id)
        assert audience is not None and audience.name == "Reached by SMS" and audience.kind == "static"
        members = set(session.exec(select(AudienceMember.customer_id).where(
            AudienceMember.audience_id == audience.id)).all())
        succeeded_ids = set(session.exec(select(CustomerStep.customer_id).where(
            CustomerStep.record_id == live.record_id, CustomerStep.node_id == "sms",
            CustomerStep.result == "success")).all())
        assert members == succeeded_ids and len(members) == succeeded
        # every Target Audience picker lists it (the canvas reads list_audiences)
        assert audience.id in [a.id for a in list_audiences(session=session, actor=users["other"])]
    assert crowds.run_operation(operation_id=operation.id) == CrowdStatus.DONE  # a redelivery changes nothing
    assert _members() - len(members) == N  # the seeded "All" audience + this crowd, nothing twice
    # ... and a Target Audience on it really lets exactly those customers enter
    with write_session() as session:
        created = activity_service.create_activity(session=session, actor=session.get(User, owner.id),
                                                   data=ActivityInput(name="Follow-up"),
                                                   flow=_target_flow(int(audience.id)))
        activity_service.publish(session=session, actor=session.get(User, owner.id), activity_id=created.id)
        follow_up = created.id
    record_id = int(s.records(follow_up)[0].id)
    s.run_in_process(record_id)
    assert s.persisted_counters(record_id)["t"]["entered"] == succeeded
    entered = {step.customer_id for step in s.steps_of(record_id) if step.node_id == "t"}
    assert entered == succeeded_ids


def test_failed_and_no_receipt_crowds_and_every_role(live: sup.Round) -> None:
    users = sup.users_of(live.owner_id)
    with read_session() as session:
        c = counters_of(session, live.record())["sms"]
    failed = _request(live, users["admin"], result="failed", name="SMS failed")
    assert failed.requested == c["failed"] + c["not_sent"]  # the customers without a phone failed too
    assert crowds.run_operation(operation_id=failed.id) == CrowdStatus.DONE
    if c["pending"]:
        pending = _request(live, users["owner"], result="pending", name="SMS no receipt")
        assert crowds.run_operation(operation_id=pending.id) == CrowdStatus.DONE
    # the webhook is a data push: its crowd too
    hook = _request(live, users["owner"], node_id="hook", name="Pushed to CRM")
    assert crowds.run_operation(operation_id=hook.id) == CrowdStatus.DONE
    assert [r.count for r in _operations(live, users["owner"], "hook")] == [counters_of_node(live, "hook")]
    # a private activity of someone else does not exist for another marketer or a manager
    for who in ("other", "manager"):
        with pytest.raises(NotFound):
            _request(live, users[who], name=f"By {who}")
        with pytest.raises(NotFound):
            _operations(live, users[who])
    with write_session() as session:
        activity = session.get(Activity, live.activity_id)
        activity.is_public = True
        session.add(activity)
    with pytest.raises(Forbidden, match="read-only"):  # a manager reads the list but creates nothing
        _request(live, users["manager"], name="By the manager")
    assert [r.name for r in _operations(live, users["manager"])][-1] == "SMS failed"
    other = _request(live, users["other"], name="By another marketer")  # creating from a public round is fine
    assert crowds.run_operation(operation_id=other.id) == CrowdStatus.DONE


def counters_of_node(rnd: sup.Round, node_id: str) -> int:
    with read_session() as session:
        return counters_of(session, rnd.record())[node_id]["success"]


def test_requests_are_checked_before_anything_is_written(live: sup.Round) -> None:
    owner = sup.users_of(live.owner_id)["owner"]
    before = _audiences()
    cases = [
        (dict(name=""), Invalid, "Enter a name"),
        (dict(name="x" * 61), Invalid, "at most 60 characters"),
        (dict(name="All"), Conflict, "already exists"),  # the seeded audience
        (dict(result="clicked"), Invalid, "Choose which customers"),
        (dict(node_id="rj"), Invalid, "touch and data push components only"),
        (dict(node_id="ab"), Invalid, "touch and data push components only"),
        (dict(node_id="nope"), NotFound, "not part of the round"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            _request(live, owner, **kwargs)
    _request(live, owner, name="Twice")
    with pytest.raises(Conflict, match="being generated already"):
        _request(live, owner, name="Twice")
    assert _audiences() == before and len(_operations(live, owner)) == 1
    # the details are kept 7 days: afterwards there is nobody to save, and the request says why
    with write_session() as session:
        purge_details(session, clock.now() + timedelta(days=8))
    with pytest.raises(Conflict, match="Details expired"):
        _request(live, owner, name="Too late")


def test_a_failing_generation_records_why_and_saves_no_audience(live: sup.Round) -> None:
    owner = sup.users_of(live.owner_id)["owner"]
    audiences, members = _audiences(), _members()
    # 1. the worker fails half-way through writing the members (e.g. killed): the transaction rolls back
    broken = _request(live, owner, name="Half written")

    def crash(done: int, total: int) -> None:
        if done > total // 2 + 40:  # past the reading half, after the first chunk of members was written
            raise RuntimeError("worker lost its database connection")

    assert crowds.run_operation(operation_id=broken.id, chunk=40, progress=crash) == CrowdStatus.FAILED
    [row] = _operations(live, owner)
    assert row.status == "failed" and "worker lost its database connection" in row.reason and row.count == 0
    assert row.audience_id is None and (_audiences(), _members()) == (audiences, members)
    assert crowds.run_operation(operation_id=broken.id) == CrowdStatus.FAILED  # stays failed, writes nothing
    # 2. the name was taken between the request and the work
    late = _request(live, owner, name="Taken meanwhile")
    with write_session() as session:
        create_static_audience(session=session, workspace_id=owner.workspace_id, name="Taken meanwhile",
                               customer_ids=[])
    assert crowds.run_operation(operation_id=late.id) == CrowdStatus.FAILED
    assert "already exists" in _operations(live, owner)[0].reason
    assert _audiences() == audiences + 1  # only the one created by hand
    # 3. the details were purged between the request and the work
    purged = _request(live, owner, name="Purged meanwhile")
    with write_session() as session:
        purge_details(session, clock.now() + timedelta(days=8))
    assert crowds.run_operation(operation_id=purged.id) == CrowdStatus.FAILED
    assert "expired" in _operations(live, owner)[0].reason
    assert (_audiences(), _members()) == (audiences + 1, members)


@pytest.fixture
def crowd_worker(redis_url: str) -> Iterator[RedisBroker]:
    """The Generate Crowd actor on a real Redis broker with a worker of its own (this test's Redis)."""
    original = crowd_actor.generate_crowd.broker
    broker = RedisBroker(url=redis_url)
    broker.declare_actor(crowd_actor.generate_crowd)
    crowd_actor.generate_crowd.broker = broker
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    yield broker
    worker.stop()
    broker.close()
    crowd_actor.generate_crowd.broker = original


def _settled(rnd: sup.Round, owner: User) -> bool:
    return all(row.status != "running" for row in _operations(rnd, owner))


def test_the_actor_generates_the_crowd_on_the_workers(live: sup.Round, crowd_worker: RedisBroker) -> None:
    owner = sup.users_of(live.owner_id)["owner"]
    operation = _request(live, owner, name="Via the worker")
    crowd_actor.enqueue(operation.id)
    s.wait_for(lambda: _settled(live, owner), 30, what="the crowd")
    [row] = _operations(live, owner)
    assert row.status == "done" and row.count == operation.requested
    assert _dispatched(operation.id)  # stamped: the scheduler's outbox sweep leaves it alone


def _dispatched(operation_id: int) -> bool:
    with read_session() as session:
        operation = session.get(CrowdOperation, operation_id)
        return operation is not None and operation.dispatched_at is not None


def test_a_request_whose_enqueue_was_lost_is_sent_by_the_scheduler_and_completes(live: sup.Round,
                                                                                 crowd_worker: RedisBroker) -> None:
    owner = sup.users_of(live.owner_id)["owner"]
    audiences = _audiences()
    operation = _request(live, owner, name="Lost on the way")  # committed; the page crashed before enqueueing
    assert not _dispatched(operation.id)
    scheduler = Scheduler(dispatch=lambda _record: None, resume=lambda *_: None,
                          crowd=crowd_actor.generate_crowd.send)
    assert scheduler.tick()["crowds"] == [operation.id]  # the outbox sweep sends it ...
    assert scheduler.tick()["crowds"] == []  # ... once: it is stamped
    s.wait_for(lambda: _settled(live, owner), 30, what="the crowd")
    [row] = _operations(live, owner)
    assert row.status == "done" and row.count == operation.requested and _audiences() == audiences + 1


def test_a_message_sent_twice_saves_one_audience(live: sup.Round, crowd_worker: RedisBroker) -> None:
    """The page's enqueue and the sweep may both send an operation (a crash before the stamp): one audience."""
    owner = sup.users_of(live.owner_id)["owner"]
    audiences, members = _audiences(), _members()
    operation = _request(live, owner, name="Sent twice")
    crowd_actor.generate_crowd.send(operation.id)
    crowd_actor.generate_crowd.send(operation.id)  # two worker threads: the attempts overlap
    crowd_worker.join(crowd_actor.generate_crowd.queue_name, timeout=30_000)  # both messages acknowledged
    [row] = _operations(live, owner)
    assert row.status == "done" and row.count == operation.requested
    assert (_audiences(), _members()) == (audiences + 1, members + operation.requested)
