"""Normal tasks on real rounds (real Redis, the provider simulator): created Moderating, moderated by the
scheduler's tick (Rejected with the reason, or To be sent), sent at their time as a one-component round of a
hidden carrier (in no activity list) that the flows' own code sends, the 5-minute Edit / Delete rule under a
moved clock, the details page and Generate Audience on a sent task, and visibility (creator and admins)."""

from datetime import timedelta

import pytest
from sqlmodel import select

from engine import clock
from engine.channels.registry import reset_channels
from engine.db import read_session, write_session
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import Activity, ActivityVersion, Audience, Customer, ExecutionRecord, User
from engine.models.normal_task import NormalTask, NormalTaskStatus
from engine.services import moderation
from engine.services import normal_tasks as svc
from engine.services.listing import ListQuery, list_activities
from engine.services.normal_tasks import SENT_ALREADY, TOO_CLOSE, TaskInput
from engine.services.reach_details import task_details
from engine.services.reach_tasks import TaskQuery, list_tasks
from engine.settings import get_settings
from tests.engine.services.exec_support import (  # noqa: F401 — providers is a fixture
    N,
    providers,
    seeded,
    start,
    users,
    walk,
)
from tests.engine.services.test_reach_tasks import settle_receipts

pytestmark = pytest.mark.usefixtures("providers")


def arrange():  # noqa: ANN201
    activity_id, _owner, _record = seeded()
    who = users(activity_id)
    with read_session() as session:
        audience = session.exec(select(Audience).where(Audience.name == "All")).one()
    return who, int(audience.id)


def create(user: User, audience: int, **kw):  # noqa: ANN003, ANN201
    data = {"name": "Flash sale SMS", "content": "Hi {name}, 20% off today", "audience_id": audience, **kw}
    with write_session() as session:
        return int(svc.create(session=session, actor=session.get(User, user.id), channel="sms",
                              data=TaskInput(**data)).id)


def tick(now=None):  # noqa: ANN001, ANN201
    with write_session() as session:
        return svc.moderate_and_send(session, now or clock.now())


def rows(user: User, now=None):  # noqa: ANN001, ANN201
    with read_session() as session:
        return {r.id: r for r in svc.list_normal(session=session, actor=session.get(User, user.id), channel="sms",
                                                 now=now)}


def task(task_id: int) -> NormalTask:
    with read_session() as session:
        return session.get(NormalTask, task_id)


def test_moderating_then_rejected_with_the_reason_or_to_be_sent() -> None:
    who, audience = arrange()
    with write_session() as session:
        moderation.set_words(session=session, actor=session.get(User, who["admin"].id), words=["casino"])
    bad = create(who["owner"], audience, content="Casino night for {name}")
    long = create(who["owner"], audience, content="好" * 495, signature="Shop")
    good = create(who["owner"], audience, content="Hello {name}", send_at=clock.now() + timedelta(hours=2))
    shown = rows(who["owner"])
    assert {shown[i].status_label for i in (bad, long, good)} == {"Moderating"}
    done = tick()
    assert (done["rejected"], done["approved"], done["sent"]) == ([bad, long], [good], [])
    shown = rows(who["owner"])
    assert (shown[bad].status, shown[bad].status_label) == ("rejected", "Rejected")
    assert shown[bad].reason == "Contains banned word “casino”."
    assert "characters with its signature" in shown[long].reason
    assert (shown[good].status, shown[good].status_label, shown[good].reason) == ("to_be_sent", "To be sent", "")
    assert shown[long].segments == 8 and shown[good].segments == 1


def test_edit_and_delete_only_when_rejected_or_more_than_five_minutes_ahead() -> None:
    who, audience = arrange()
    now = clock.now()
    later = create(who["owner"], audience, send_at=now + timedelta(minutes=10))
    soon = create(who["owner"], audience, send_at=now + timedelta(minutes=4))
    tick(now)
    # 10 minutes ahead: editable until 5 minutes before, not after
    assert rows(who["owner"], now)[later].edit_refusal == ""
    assert rows(who["owner"], now + timedelta(minutes=4, seconds=59))[later].edit_refusal == ""
    assert rows(who["owner"], now + timedelta(minutes=5))[later].edit_refusal == TOO_CLOSE
    assert rows(who["owner"], now)[soon].edit_refusal == TOO_CLOSE == rows(who["owner"], now)[soon].delete_refusal
    with write_session() as session, pytest.raises(Forbidden, match="less than 5 minutes"):
        svc.delete(session=session, actor=session.get(User, who["owner"].id), task_id=soon, now=now)
    # an edit moderates it again; a rejected one is editable whatever its time
    with write_session() as session:
        svc.update(session=session, actor=session.get(User, who["owner"].id), task_id=later, now=now,
                   data=TaskInput(name="Renamed", content="New text", audience_id=audience,
                                  send_at=now + timedelta(minutes=30)))
    assert (task(later).status, task(later).name) == (NormalTaskStatus.MODERATING, "Renamed")
    with write_session() as session:
        moderation.set_words(session=session, actor=session.get(User, who["admin"].id), words=["text"])
    tick(now)
    assert task(later).status == NormalTaskStatus.REJECTED
    with write_session() as session:
        svc.update(session=session, actor=session.get(User, who["owner"].id), task_id=later, now=now,
                   data=TaskInput(name="Renamed", content="Fixed", audience_id=audience))  # now: send at once
    assert rows(who["owner"], now)[later].edit_refusal == TOO_CLOSE  # moderating, sent on the next tick
    with write_session() as session:  # the manager reads only; other marketers do not see it
        with pytest.raises(NotFound):
            svc.delete(session=session, actor=session.get(User, who["other"].id), task_id=later, now=now)
    with write_session() as session:
        svc.delete(session=session, actor=session.get(User, who["admin"].id), task_id=soon,
                   now=now - timedelta(minutes=10))  # admins may, while the rule allows
    assert task(soon) is None


def test_a_task_is_sent_by_a_hidden_one_component_round_then_read_like_a_flow_task(simulator, http_sink) -> None:  # noqa: ANN001
    who, audience = arrange()
    now = clock.now()
    at = create(who["owner"], audience, send_at=now + timedelta(hours=1))
    assert tick(now)["sent"] == []
    assert tick(now + timedelta(minutes=59))["sent"] == []  # not yet
    assert tick(now + timedelta(hours=1))["sent"] == [at]
    sent = task(at)
    assert sent.status == NormalTaskStatus.SENT and sent.record_id is not None
    with read_session() as session:
        carrier = session.get(Activity, sent.activity_id)
        record = session.get(ExecutionRecord, sent.record_id)
        assert carrier.hidden and not carrier.is_public and record.dispatched_at is None  # the scheduler's outbox
        owner = session.get(User, who["owner"].id)
        listed = list_activities(session=session, actor=owner, query=ListQuery(page_size=100))
        assert carrier.id not in {r.id for r in listed.rows}  # in no activity list
        listed = list_tasks(session=session, actor=owner, channel="sms", query=TaskQuery(page_size=200)).rows
        # in the task table once, as the normal task (never as a flow task of its carrier)
        assert [(t.kind, t.normal_id) for t in listed if t.record_id == record.id] == [("normal", at)]
        assert all(t.kind == "flow" for t in list_tasks(session=session, actor=owner, channel="sms",
                                                        query=TaskQuery(kind="flow", page_size=200)).rows)
    walk(sent.record_id, start(sent.record_id))  # what the workers do with the dispatched round
    settle_receipts(simulator, http_sink)
    row = rows(who["owner"])[at]
    assert row.task_id == f"{sent.record_id}-sms" and row.status in ("sending", "completed")
    assert row.sent == N - N // 50 and row.success > 0  # every customer with a phone got the SMS
    assert row.edit_refusal == SENT_ALREADY
    with read_session() as session:
        details = task_details(session=session, actor=session.get(User, who["owner"].id), channel="sms",
                               task_id=row.task_id)
        assert details.included == N and details.success == row.success and details.rows
        with pytest.raises(NotFound):  # another marketer: not by the details' URL either
            task_details(session=session, actor=session.get(User, who["other"].id), channel="sms",
                         task_id=row.task_id)
    assert at not in rows(who["other"]) and at in rows(who["admin"])


def test_create_refuses_what_cannot_be_sent() -> None:
    who, audience = arrange()
    for kw, message in (({"name": " "}, "name"), ({"content": ""}, "content"), ({"audience_id": 99999}, "audience"),
                        ({"send_at": clock.now() - timedelta(minutes=1)}, "later than now")):
        with pytest.raises(Invalid, match=message):
            create(who["owner"], audience, **kw)
    with pytest.raises(Forbidden):
        create(who["manager"], audience)
    with write_session() as session, pytest.raises(Invalid, match="Email subject"):
        svc.create(session=session, actor=session.get(User, who["owner"].id), channel="email",
                   data=TaskInput(name="x", content="y", audience_id=audience))
    with write_session() as session, pytest.raises(Invalid, match="keywords"):
        svc.create(session=session, actor=session.get(User, who["owner"].id), channel="template-message",
                   data=TaskInput(name="x", template_id="T1", content="no separator", audience_id=audience))
    with write_session() as session, pytest.raises(NotFound):
        svc.create(session=session, actor=session.get(User, who["owner"].id), channel="fax",
                   data=TaskInput(name="x", content="y", audience_id=audience))


def test_the_scheduler_has_work_only_for_moderating_or_due_tasks() -> None:
    who, audience = arrange()
    now = clock.now()

    def work(at) -> bool:  # noqa: ANN001
        with read_session() as session:
            return svc.has_work(session, at)

    assert not work(now)
    create(who["owner"], audience, send_at=now + timedelta(hours=1))
    assert work(now)  # moderating
    tick(now)
    assert not work(now) and not work(now + timedelta(minutes=59)) and work(now + timedelta(hours=1))
    tick(now + timedelta(hours=1))
    assert not work(now + timedelta(hours=2))  # sent


@pytest.fixture
def mail(smtp_server, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201 — tests' SmtpSink
    monkeypatch.setenv("SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    reset_channels()
    yield smtp_server
    reset_channels()
    get_settings.cache_clear()


def test_an_email_normal_task_reaches_the_smtp_server_and_lists_with_the_flow_tasks(mail) -> None:  # noqa: ANN001
    who, audience = arrange()
    now = clock.now()
    with write_session() as session:  # ten customers have an address
        for customer in session.exec(select(Customer).order_by(Customer.id).limit(10)).all():
            customer.email = f"{customer.qaid.lower()}@example.com"
            session.add(customer)
    with write_session() as session:
        moderation.set_words(session=session, actor=session.get(User, who["admin"].id), words=["casino"])
        owner = session.get(User, who["owner"].id)
        mail_id = int(svc.create(session=session, actor=owner, channel="email", data=TaskInput(
            name="Newsletter", subject="News for {name}", content="Hello {name}, our news.", audience_id=audience)).id)
        bad = int(svc.create(session=session, actor=owner, channel="email", data=TaskInput(
            name="Casino mail", subject="Casino night", content="Come", audience_id=audience)).id)
    done = tick(now)
    assert done["rejected"] == [bad] and done["sent"] == [mail_id]
    sent = task(mail_id)
    with read_session() as session:  # the carrier's one component is the Email component with the task's config
        carrier = session.get(Activity, sent.activity_id)
        flow = session.get(ActivityVersion, carrier.live_version_id).flow
        assert carrier.hidden and [(n["type"], n["config"]) for n in flow["nodes"] if n["id"] == "email"] == [
            ("email", {"subject": "News for {name}", "body": "Hello {name}, our news."})]
    walk(sent.record_id, start(sent.record_id))
    received = [m for _f, _to, m in mail.received]
    assert len(received) == 10 and all(m["Subject"].startswith("News for F") for m in received)
    with read_session() as session:
        owner = session.get(User, who["owner"].id)
        found = list_tasks(session=session, actor=owner, channel="email", query=TaskQuery(kind="normal"))
        rejected = list_tasks(session=session, actor=owner, channel="email", query=TaskQuery(status="rejected"))
        other = list_tasks(session=session, actor=session.get(User, who["other"].id), channel="email",
                           query=TaskQuery())
    by_id = {t.normal_id: t for t in found.rows}
    assert set(by_id) == {mail_id, bad} and found.total == 2
    assert by_id[mail_id].success == len(received) and by_id[mail_id].content == "News for {name}"
    assert by_id[mail_id].status == "completed" and by_id[mail_id].edit_refusal == SENT_ALREADY
    assert by_id[bad].status == "rejected" and "casino" in by_id[bad].status_reason and by_id[bad].edit_refusal == ""
    assert [t.normal_id for t in rejected.rows] == [bad]
    assert other.total == 0  # private to its creator and the admins
