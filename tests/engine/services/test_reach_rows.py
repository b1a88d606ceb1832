"""The stored Reach Task rows (`reachtask`, issue 14) on real rounds (real Redis, the provider simulator): written
with the round, following its end, its activity's name and visibility, their numbers converging to the Redis
counters by the scheduler's refresh; every filter and sort of the list answered from them as the live rows say;
the migration's back-fill writing the same rows."""

from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlmodel import select

from engine import clock
from engine.db import read_session, write_session
from engine.models import Activity, Role, User, Workspace
from engine.models.reach_task import ReachTaskRow
from engine.runtime.reach_refresh import refresh_moving
from engine.scheduler import Scheduler
from engine.services.reach_tasks import SORTABLE, TaskStatus
from engine.shared.reach_rows import STATUS_RANK, backfill
from engine.status import ApprovalStatus
from tests import factories as f
from tests.engine.services.exec_support import (  # noqa: F401 — providers is a fixture
    N,
    providers,
    seeded,
    set_public,
    start,
    store,
    users,
    walk,
)
from tests.engine.services.test_reach_tasks import _more_rounds, page, settle_receipts, tasks

pytestmark = pytest.mark.usefixtures("providers")

NUMBERS = ("audience", "sent", "success", "failed", "pending", "not_sent")


def stored(record_id: int) -> ReachTaskRow:
    with read_session() as session:
        return session.exec(select(ReachTaskRow).where(ReachTaskRow.record_id == record_id,
                                                       ReachTaskRow.channel == "sms")).one()


def numbers(row: ReachTaskRow) -> dict[str, int]:
    return {n: getattr(row, n) for n in NUMBERS}


def counters(record_id: int, node: str = "sms") -> dict[str, int]:
    c = store().counters(record_id)[node]
    return {"audience": c.get("entered", 0), "sent": c.get("sent", 0), "success": c.get("success", 0),
            "failed": c.get("failed", 0), "pending": c.get("pending", 0), "not_sent": c.get("not_sent", 0)}


def test_a_row_per_task_from_the_round_s_creation_converging_to_the_counters(simulator, http_sink) -> None:  # noqa: ANN001
    activity_id, _owner, record_id = seeded()
    owner = users(activity_id)["owner"]
    row = stored(record_id)  # written with the round (publish), before anything ran
    assert (row.channel, row.kind, row.node_id, row.name, row.status) == (
        "sms", "flow", "sms", "Faults · round 1", TaskStatus.TO_BE_SENT)
    with read_session() as session:  # the flow's App Push component is a task of its own channel
        push = session.exec(select(ReachTaskRow).where(ReachTaskRow.channel == "app-push")).one()
    assert push.record_id == record_id and push.node_id == "push"
    batches = start(record_id, batch_size=40)
    walk(record_id, batches[:1])
    assert stored(record_id).status == TaskStatus.TO_BE_SENT  # the walk writes nothing to it...
    assert page(owner, status=TaskStatus.SENDING).total == 0
    done = Scheduler(dispatch=lambda _r: None, resume=lambda *_a: None, store=store()).tick()
    assert done["reach_tasks"] == [2]  # ...the scheduler's tick does, in one batch (the SMS and the push task)
    assert numbers(stored(record_id)) == counters(record_id) and stored(record_id).status == TaskStatus.SENDING
    assert [t.record_id for t in tasks(owner, status=TaskStatus.SENDING)] == [record_id]
    assert refresh_moving(store(), clock.now()) == 0  # nothing moved: nothing written
    walk(record_id, batches[1:])  # the round's end writes its rows from the persisted counters
    assert numbers(stored(record_id)) == counters(record_id)
    assert stored(record_id).audience == N
    settle_receipts(simulator, http_sink)  # receipts after the end: the refresh follows them
    refresh_moving(store(), clock.now())
    row = stored(record_id)
    assert numbers(row) == counters(record_id) and row.success > 0
    [live] = tasks(owner)
    assert (live.status, live.sent, live.success, live.failed, live.pending) == (
        row.status, row.sent, row.success, row.failed, row.pending)
    later = clock.now() + timedelta(hours=73)  # past 72 hours a pending send no longer keeps it Sending
    if row.pending:
        refresh_moving(store(), later)
        assert stored(record_id).status == TaskStatus.COMPLETED


def test_visibility_and_names_follow_the_activity() -> None:
    activity_id, _owner, record_id = seeded()
    who = users(activity_id)
    set_public(activity_id, False)
    assert (page(who["other"]).total, page(who["manager"]).total, page(who["owner"]).total,
            page(who["admin"]).total) == (0, 0, 1, 1)
    set_public(activity_id, True)
    assert stored(record_id).is_public and page(who["other"]).total == 1 and page(who["manager"]).total == 1
    set_public(activity_id, False)
    with write_session() as session:
        activity = session.get(Activity, activity_id)
        activity.name = "Ünïcode Spring"
        session.add(activity)
        reviewer = f.user(session, session.get(Workspace, activity.workspace_id), Role.REVIEWER)
        reviewer_id = int(reviewer.id)
    row = stored(record_id)
    assert (row.name, row.sort_name, row.activity_name) == ("Ünïcode Spring · round 1", "ünïcode spring · round 1",
                                                            "Ünïcode Spring")
    assert [t.name for t in tasks(who["owner"], search="ÜNÏCODE")] == ["Ünïcode Spring · round 1"]
    with read_session() as session:
        reviewer = session.get(User, reviewer_id)
    assert page(reviewer).total == 0
    with write_session() as session:  # submitted for review: reviewers read it
        activity = session.get(Activity, activity_id)
        activity.approval_status = ApprovalStatus.UNDER_REVIEW
        session.add(activity)
    assert stored(record_id).reviewable and page(reviewer).total == 1
    with write_session() as session:  # deleted with its activity
        session.delete(session.get(Activity, activity_id))
    with read_session() as session:
        assert session.exec(select(ReachTaskRow).where(ReachTaskRow.record_id == record_id)).first() is None


def test_every_sort_and_filter_is_the_order_of_the_rows_values() -> None:
    activity_id, _owner, first = seeded()
    owner = users(activity_id)["owner"]
    walk(first, start(first))
    _more_rounds(activity_id)
    refresh_moving(store(), clock.now())
    every = tasks(owner, page_size=200)
    assert len(every) == 5
    keys = {"name": lambda t: t.name.lower(), "activity": lambda t: (t.activity_name.lower(), t.record_number),
            "started_at": lambda t: t.started_at, "status": lambda t: STATUS_RANK[t.status]}
    for sort in SORTABLE:
        key = keys.get(sort, lambda t, s=sort: getattr(t, s))
        for descending in (False, True):
            got = [key(t) for t in tasks(owner, sort=sort, descending=descending, page_size=200)]
            assert got == sorted(got, reverse=descending), (sort, descending)
            paged = [t.id for p in (1, 2, 3) for t in tasks(owner, sort=sort, descending=descending, page_size=2,
                                                               page=p)]
            assert paged == [t.id for t in tasks(owner, sort=sort, descending=descending, page_size=200)]
    for status in {t.status for t in every}:
        assert {t.id for t in tasks(owner, status=status, page_size=200)} == {t.id for t in every if t.status == status}
    assert tasks(owner, kind="normal") == [] and len(tasks(owner, kind="flow", page_size=200)) == 5
    assert {t.id for t in tasks(owner, activity_id=activity_id)} == {t.id for t in every
                                                                      if t.activity_id == activity_id}


def test_the_back_fill_writes_the_rows_the_engine_writes() -> None:
    activity_id, _owner, first = seeded()
    walk(first, start(first))
    _more_rounds(activity_id)

    def snapshot() -> list[tuple]:
        with read_session() as session:
            rows = session.exec(select(ReachTaskRow).order_by(ReachTaskRow.record_id, ReachTaskRow.node_id)).all()
            return [tuple(v for k, v in sorted(r.model_dump().items()) if k not in ("id", "updated_at"))
                    for r in rows]

    before = snapshot()
    with write_session() as session:
        session.execute(delete(ReachTaskRow))
    with write_session() as session:
        assert backfill(session.connection()) == len(before)
    assert snapshot() == before
    with write_session() as session:  # nothing twice
        assert backfill(session.connection()) == 0


def test_a_channel_named_by_its_component_type_finds_its_page() -> None:
    from engine.shared.reach_rows import channel_key

    assert [channel_key(n) for n in ("sms", "text_sms", "APP_PUSH", "app-push", " Email ", "template_message")] == [
        "sms", "sms", "app-push", "app-push", "email", "template-message"]
    assert channel_key("fax") is None and channel_key("") is None
