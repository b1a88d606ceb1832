"""engine.services.reach_details on a real round (real Redis, the provider simulator, its receipts applied as the
API applies them): counts equal the list's, one row per number with only its last four digits, the 72-hour
rule turning "no feedback" into failed, the 7-day rule (details expired, Generate Audience refused) under a
moved engine clock, Generate Audience built by Generate Crowd's worker, and visibility by task id."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from engine import clock
from engine.db import read_session, write_session
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import AudienceMember, Customer, ExecutionRecord, User
from engine.models.crowd import CrowdStatus
from engine.runtime.receipts import expire_pending
from engine.services import crowds
from engine.services.reach_details import EXPIRED_NOTE, generate_audience, last_four, preview, task_details
from engine.services.reach_tasks import TaskQuery, get_task, list_tasks
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
from tests.engine.services.test_reach_tasks import settle_receipts

pytestmark = pytest.mark.usefixtures("providers")


@pytest.fixture
def moved_clock() -> Iterator[list[datetime]]:
    """The engine clock, moved by the test (`when[0] = ...`); the wall clock until then."""
    when: list[datetime] = []
    clock.set_clock(lambda: when[0] if when else datetime.now(UTC))
    yield when
    clock.set_clock(None)


def details(user: User, task_id: str, **kw):  # noqa: ANN003, ANN201
    with read_session() as session:
        return task_details(session=session, actor=session.get(User, user.id), channel="sms", task_id=task_id, **kw)


def ask_audience(user: User, task_id: str, result: str, name: str):  # noqa: ANN201
    with write_session() as session:
        op = generate_audience(session=session, actor=session.get(User, user.id), channel="sms", task_id=task_id,
                               result=result, name=name)
        return int(op.id)


def record_activity(record_id: int) -> int:
    with read_session() as session:
        return int(session.get(ExecutionRecord, record_id).activity_id)


def ran(simulator, http_sink) -> tuple[int, dict[str, User], str]:  # noqa: ANN001
    """A round run to its end, receipts applied: 60 % delivered, 20 % failed, 20 % without feedback."""
    httpx.post(f"{simulator.url}/admin/config", json={"success_rate": 0.6, "failure_rate": 0.2}).raise_for_status()
    activity_id, _owner, record_id = seeded()
    walk(record_id, start(record_id))
    settle_receipts(simulator, http_sink)
    return record_id, users(activity_id), f"{record_id}-sms"


def test_details_counts_rows_and_last_four_digits_only(simulator, http_sink) -> None:  # noqa: ANN001
    record_id, who, task_id = ran(simulator, http_sink)
    got = details(who["owner"], task_id, page_size=100)
    with read_session() as session:
        [listed] = list_tasks(session=session, actor=session.get(User, who["owner"].id), channel="sms",
                              query=TaskQuery()).rows
        phones = [p for p in session.exec(select(Customer.phone)).all() if p]
    assert got.task == listed and got.task.id == task_id
    assert (got.included, got.success, got.failed, got.no_feedback) == (N, listed.success, listed.failed,
                                                                         listed.pending)
    assert got.success > 0 and got.failed > 0 and got.no_feedback > 0 and got.not_sent == N // 50
    assert not got.expired and got.note == "" and got.audience_refusal == ""
    assert got.total == got.success + got.failed + got.no_feedback + got.not_sent  # every send has one row
    shown = " ".join(r.number for r in got.rows)
    assert all(re.fullmatch(r"•••• \d{4}|—", r.number) for r in got.rows)
    assert not any(p[-8:] in shown for p in phones)  # never more than the last four digits
    assert {r.result_label for r in got.rows} == {"Succeeded", "Failed", "No feedback"}
    assert all(r.reason for r in got.rows if r.result == "failed")  # the provider's reason, or no phone number
    failed = details(who["owner"], task_id, result="failed", page_size=5)
    assert failed.total == got.failed + got.not_sent and len(failed.rows) == 5 and failed.pages > 1
    assert {r.result for r in failed.rows} == {"failed"}
    with pytest.raises(Invalid):
        details(who["owner"], task_id, result="stopped")
    assert got.preview == "Hi Alex Chen" and got.segments == 1


def test_no_feedback_after_72_hours_is_failed(simulator, http_sink, moved_clock) -> None:  # noqa: ANN001
    record_id, who, task_id = ran(simulator, http_sink)
    before = details(who["owner"], task_id, result="pending")
    assert before.no_feedback == before.total > 0
    sent = before.rows[0].at
    moved_clock.append(sent + timedelta(hours=71, minutes=59))
    assert expire_pending(store=store(), now=moved_clock[0]) == 0  # not yet
    moved_clock[0] = sent + timedelta(hours=72, minutes=1)
    assert expire_pending(store=store(), now=moved_clock[0]) >= before.no_feedback
    after = details(who["owner"], task_id, result="failed", page_size=100)
    assert details(who["owner"], task_id).no_feedback == 0
    assert after.failed == before.failed + before.no_feedback
    assert sum(r.reason == "No receipt within 72 hours" for r in after.rows) == before.no_feedback


def test_seven_days_expire_the_details_and_refuse_generate_audience(simulator, http_sink, moved_clock) -> None:  # noqa: ANN001
    record_id, who, task_id = ran(simulator, http_sink)
    got = details(who["owner"], task_id)
    moved_clock.append(got.sent_at + timedelta(days=7) - timedelta(minutes=1))
    still = details(who["owner"], task_id)
    assert not still.expired and still.total == got.total and still.expires_at == got.sent_at + timedelta(days=7)
    op = ask_audience(who["owner"], task_id, "success", "Delivered before expiry")
    assert crowds.run_operation(operation_id=op) == CrowdStatus.DONE
    moved_clock[0] = got.sent_at + timedelta(days=7)
    gone = details(who["owner"], task_id)
    assert gone.expired and gone.note == EXPIRED_NOTE and gone.rows == [] and gone.total == 0
    assert gone.success == got.success  # the counts stay
    assert gone.audience_refusal.startswith(EXPIRED_NOTE)
    with pytest.raises(Conflict, match="expired"):
        ask_audience(who["owner"], task_id, "failed", "Too late")
    assert [o.name for o in gone.operations] == ["Delivered before expiry"]  # the earlier one is still listed


def test_generate_audience_from_failed_numbers_with_generate_crowds_worker(simulator, http_sink) -> None:  # noqa: ANN001
    record_id, who, task_id = ran(simulator, http_sink)
    got = details(who["owner"], task_id)
    op = ask_audience(who["owner"], task_id, "failed", "SMS failed, retry by email")
    progress: list[tuple[int, int]] = []
    assert crowds.run_operation(operation_id=op, chunk=3, progress=lambda d, t: progress.append((d, t))) \
        == CrowdStatus.DONE
    assert progress[-1][0] == progress[-1][1]  # progress reached the end
    again = details(who["owner"], task_id)
    [row] = again.operations
    assert (row.status, row.count, row.result) == ("done", got.failed + got.not_sent, "failed")
    with read_session() as session:
        members = session.exec(select(AudienceMember).where(AudienceMember.audience_id == row.audience_id)).all()
    assert len(members) == row.count
    with pytest.raises(Invalid):
        ask_audience(who["owner"], task_id, "stopped", "Nope")
    set_public(record_activity(record_id), True)  # managers read public activities, and change nothing
    with pytest.raises(Forbidden):
        ask_audience(who["manager"], task_id, "success", "Manager's")
    assert details(who["manager"], task_id).audience_refusal != ""


def test_a_private_activitys_task_is_not_found_for_another_marketer(simulator, http_sink) -> None:  # noqa: ANN001
    record_id, who, task_id = ran(simulator, http_sink)
    for user in (who["owner"], who["admin"]):
        assert details(user, task_id).task.id == task_id
    for bad in (task_id, f"{record_id}-nope", "garbage", f"{record_id + 99}-sms"):
        with pytest.raises(NotFound):
            details(who["other"], bad)
    with pytest.raises(NotFound):
        ask_audience(who["other"], task_id, "success", "Not mine")
    with read_session() as session, pytest.raises(NotFound):
        get_task(session=session, actor=session.get(User, who["owner"].id), channel="app-push", task_id=task_id)


def test_last_four_and_preview() -> None:
    assert last_four("+86 138-0013-8000") == "•••• 8000" and last_four(None) == "—" and last_four("") == "—"
    assert preview("Hi {name}, {short_link} {tier}") == "Hi Alex Chen, https://s.example/Ab3dE9 [tier]"
