"""engine.services.reach_tasks on real rounds (real Redis, the provider simulator, its receipts applied as the
API applies them): a task's numbers are the counters the canvas shows, sent = succeeded + failed + no receipt,
statuses follow the round (To be sent → Sending → Completed / Execution Failed, the 72-hour rule under a moved
clock), visibility per role (also the activity filter, as typed into a URL), filters, sorting and paging."""

import time
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from engine import clock
from engine.channels.config import invalidate
from engine.db import read_session, write_session
from engine.errors import Invalid, NotFound
from engine.models import (
    Activity,
    ChannelSetting,
    CustomerStep,
    ExecutionRecord,
    RecordTrigger,
    Schedule,
    User,
    Workspace,
)
from engine.models.activity import ActivityCampaignLink
from engine.runtime.receipts import apply_receipts, expire_pending
from engine.services.execution import execution_view
from engine.services.reach_tasks import (
    CHANNELS,
    TaskQuery,
    TaskStatus,
    _platform,
    list_tasks,
    sms_segments,
    task_status,
)
from engine.status import ActivityStatus, RecordStatus
from tests import factories as f
from tests.engine.runtime.support import seed_activity
from tests.engine.services.exec_support import (  # noqa: F401 — providers is a fixture
    N,
    edge,
    node,
    providers,
    seeded,
    set_public,
    start,
    store,
    users,
    walk,
)

pytestmark = pytest.mark.usefixtures("providers")


def tasks(user: User, channel: str = "sms", **query) -> list:  # noqa: ANN003
    return page(user, channel, **query).rows


def page(user: User, channel: str = "sms", **query):  # noqa: ANN003, ANN201
    with read_session() as session:
        return list_tasks(session=session, actor=session.get(User, user.id), channel=channel,
                          query=TaskQuery(**query))


def settle_receipts(simulator, http_sink) -> int:  # noqa: ANN001
    """Wait until the simulator posted every receipt it scheduled, then apply them as the API would."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        stats = httpx.get(f"{simulator.url}/admin/stats").json()
        if stats["receipts_sent"] >= stats["receipts_scheduled"] and len(http_sink.receipts()) >= stats[
                "receipts_sent"]:
            break
        time.sleep(0.05)
    return apply_receipts(http_sink.receipts(), store=store())


def test_a_round_is_one_task_per_sms_component_with_the_canvas_numbers(simulator, http_sink) -> None:  # noqa: ANN001
    activity_id, _owner, record_id = seeded()
    who = users(activity_id)
    with write_session() as session:
        ws = session.get(Activity, activity_id).workspace_id
        spring = f.campaign(session, session.get(Workspace, ws), "Spring")
        subs = [f.campaign(session, session.get(Workspace, ws), name, spring) for name in ("Coupons", "VIP")]
        for c in subs:
            session.add(ActivityCampaignLink(activity_id=activity_id, campaign_id=c.id))
    walk(record_id, start(record_id))
    settle_receipts(simulator, http_sink)
    [task] = tasks(who["owner"])
    assert (task.record_id, task.node_id, task.name) == (record_id, "sms", "Faults · round 1")
    assert task.content == "Hi {name}" and task.channel_type == "Text SMS" and task.sending_type == "Once"
    assert task.platform == "Provider simulator" and task.segments == 1  # PROVIDER_URL is the simulator on 127.0.0.1
    assert task.campaigns == ["Coupons", "VIP"] and task.audience_name == "All"
    with read_session() as session:  # the canvas's numbers for the same component
        view = execution_view(session=session, actor=session.get(User, who["owner"].id), activity_id=activity_id)
    shown = dict(view.nodes["sms"].values)
    assert (task.audience, task.sent, task.success, task.failed) == (shown["entered"], shown["sent"],
                                                                      shown["success"], shown["failed"])
    assert task.audience == N and task.not_sent == N // 50
    assert task.sent == task.success + task.failed + task.pending == N - N // 50
    assert task.success > 0
    assert [t.node_id for t in tasks(who["owner"], channel="app-push")] == ["push"]  # another channel, same rule


def test_statuses_follow_the_round_and_its_receipts(simulator, http_sink) -> None:  # noqa: ANN001
    # 60 % delivered, 20 % failed, 20 % never get a receipt: the 72-hour rule has sends to fail
    httpx.post(f"{simulator.url}/admin/config", json={"success_rate": 0.6, "failure_rate": 0.2}).raise_for_status()
    activity_id, _owner, record_id = seeded()
    owner = users(activity_id)["owner"]
    batches = start(record_id, batch_size=40)
    [task] = tasks(owner)
    assert (task.status, task.status_label, task.sent, task.live) == (TaskStatus.TO_BE_SENT, "To be sent", 0, True)
    walk(record_id, batches[:1])
    [task] = tasks(owner)
    assert task.status == TaskStatus.SENDING and task.audience == 40 and task.live
    assert task.sent == task.success + task.failed + task.pending == store().counters(record_id)["sms"]["sent"]
    walk(record_id, batches[1:])
    [task] = tasks(owner)  # the round completed, the receipts are still on their way
    assert task.pending > 0 and task.status == TaskStatus.SENDING and task.live
    settle_receipts(simulator, http_sink)
    [task] = tasks(owner)
    assert task.pending > 0 and task.success > 0  # sends without a receipt wait up to 72 hours
    assert task.status == TaskStatus.SENDING and task.live
    later = clock.now() + timedelta(hours=72, minutes=1)
    clock.set_clock(lambda: later)
    try:
        assert expire_pending(store=store(), now=later) >= task.pending  # APP PUSH's too
        [expired] = tasks(owner)
    finally:
        clock.set_clock(None)
    assert expired.pending == 0 and expired.failed == task.failed + task.pending
    assert expired.sent == task.sent and not expired.live
    assert dict(expired.failure_reasons)["No receipt within 72 hours"] == task.pending
    assert expired.status == TaskStatus.COMPLETED and expired.status_label == "Completed"


def test_execution_failed_says_why() -> None:
    activity_id, _owner, record_id = seeded()
    owner = users(activity_id)["owner"]
    with write_session() as session:
        record = session.get(ExecutionRecord, record_id)
        record.status, record.ended_at = RecordStatus.ABNORMAL_END, clock.now()
        record.failure_reason = "Crowd data could not be obtained: audience 7 is gone"
        session.add(record)
    [task] = tasks(owner)
    assert task.status == TaskStatus.FAILED and task.status_label == "Execution Failed"
    assert task.status_reason == "Crowd data could not be obtained: audience 7 is gone"
    assert [t.id for t in tasks(owner, status=TaskStatus.FAILED)] == [task.id]
    assert tasks(owner, status=TaskStatus.COMPLETED) == []


def test_every_send_failing_fails_the_task_with_its_reasons() -> None:
    activity_id, _owner, record_id = seeded()
    owner = users(activity_id)["owner"]
    walk(record_id, start(record_id))
    with read_session() as session:
        ids = [s.customer_id for s in session.exec(select(CustomerStep).where(
            CustomerStep.record_id == record_id, CustomerStep.node_id == "sms"))]
    # every settled or pending send fails, as operators' receipts would say
    apply_receipts([{"id": f"{record_id}:sms:{cid}", "status": "failed", "reason": "Blocked by the operator"}
                    for cid in ids], store=store())
    [task] = tasks(owner)
    if task.success:
        pytest.skip("a receipt had already settled a send as succeeded")  # pragma: no cover
    assert task.status == TaskStatus.FAILED and task.sent == task.failed
    assert "None of the" in task.status_reason and "Blocked by the operator" in task.status_reason
    assert ("no phone number", N // 50) in task.failure_reasons


@pytest.mark.parametrize(("role", "public", "sees"), [
    ("admin", False, True), ("owner", False, True), ("other", False, False), ("manager", False, False),
    ("admin", True, True), ("owner", True, True), ("other", True, True), ("manager", True, True),
])
def test_visibility_per_role(role: str, public: bool, sees: bool) -> None:
    activity_id, _owner, record_id = seeded()
    who = users(activity_id)
    set_public(activity_id, public)
    found = page(who[role])
    assert [t.record_id for t in found.rows] == ([record_id] if sees else [])
    assert [a for a, _ in found.activities] == ([activity_id] if sees else [])
    if sees:
        assert [t.record_id for t in tasks(who[role], activity_id=activity_id)] == [record_id]
    else:  # also when its id is typed into the page's URL
        with pytest.raises(NotFound, match="Activity not found"):
            page(who[role], activity_id=activity_id)


def _more_rounds(activity_id: int) -> list[int]:
    """Three more rounds of the activity that reached nobody, plus a second activity (public, periodic) in the
    same workspace with one round: five tasks in all."""
    with write_session() as session:
        activity = session.get(Activity, activity_id)
        ids = []
        for number in (2, 3, 4):
            record = ExecutionRecord(activity_id=activity_id, version_id=activity.live_version_id, number=number,
                                     status=RecordStatus.COMPLETED, trigger=RecordTrigger.SCHEDULE,
                                     started_at=clock.now() + timedelta(minutes=number), ended_at=clock.now())
            session.add(record)
            session.flush()
            ids.append(int(record.id))
        owner = session.get(User, activity.owner_id)
        other = f.activity(session, owner, status=ActivityStatus.COMPLETED, name="Weekly digest", public=True)
        other.schedule, other.schedule_every = Schedule.MINUTES, 30
        session.add(other)
        record = ExecutionRecord(activity_id=other.id, version_id=other.live_version_id, number=1,
                                 status=RecordStatus.COMPLETED, trigger=RecordTrigger.PUBLISH,
                                 started_at=clock.now() + timedelta(minutes=10), ended_at=clock.now())
        session.add(record)
        session.flush()
        ids.append(int(record.id))
        return ids


def test_filters_sorting_and_paging() -> None:
    activity_id, _owner, first = seeded()
    owner = users(activity_id)["owner"]
    walk(first, start(first))
    r2, r3, r4, digest = _more_rounds(activity_id)
    everything = page(owner)
    assert everything.total == 5  # newest round first by default
    assert [t.record_id for t in everything.rows] == [digest, r4, r3, r2, first]
    assert [name for _, name in everything.activities] == ["Faults", "Weekly digest"]
    weekly = next(t for t in everything.rows if t.record_id == digest)
    assert weekly.sending_type == "Scheduled · Every 30 minutes" and weekly.content == "Hi {name}"
    assert [t.record_id for t in tasks(owner, search="WEEKLY")] == [digest]
    assert [t.record_id for t in tasks(owner, search="round 3")] == [r3]
    assert {t.record_id for t in tasks(owner, activity_id=activity_id)} == {first, r2, r3, r4}
    # rounds that reached nobody completed with zeros; the walked round is the only one with sends
    assert [t.record_id for t in tasks(owner, sort="sent")] == [first, digest, r4, r3, r2]
    assert [t.record_id for t in tasks(owner, sort="name", descending=False)] == [first, r2, r3, r4, digest]
    assert {t.status for t in tasks(owner)} == {TaskStatus.COMPLETED, TaskStatus.SENDING}
    paged = page(owner, page_size=2, page=3)
    assert (paged.total, paged.pages, paged.page, [t.record_id for t in paged.rows]) == (5, 3, 3, [first])
    assert page(owner, page_size=2, page=99).page == 3  # past the end: the last page
    with pytest.raises(Invalid):
        page(owner, sort="owner")
    with pytest.raises(Invalid):
        page(owner, status="paused")
    with pytest.raises(NotFound):
        page(owner, channel="fax")


def test_several_sms_components_are_several_tasks_named_apart() -> None:
    def two_sms(audience: int) -> dict:
        return {"nodes": [node("t", "target_audience", audience_id=audience),
                          node("a", "text_sms", content="First", signature="Shop"),
                          node("b", "text_sms", content="Second"), node("e", "end")],
                "edges": [edge("t", "a"), edge("a", "b"), edge("b", "e")]}

    activity_id, owner_id = seed_activity(10, two_sms)
    with read_session() as session:
        owner = session.get(User, owner_id)
    found = sorted(tasks(owner), key=lambda t: t.node_id)
    assert [(t.node_id, t.name, t.content) for t in found] == [
        ("a", "Faults · round 1 · SMS 1", "【Shop】First"), ("b", "Faults · round 1 · SMS 2", "Second")]
    assert activity_id == found[0].activity_id


@pytest.mark.parametrize(("text", "expected"), [
    ("", (0, 0)), ("a" * 160, (160, 1)), ("a" * 161, (161, 2)), ("a" * 306, (306, 2)), ("a" * 307, (307, 3)),
    ("{x}" + "a" * 155, (160, 1)), ("{x}" + "a" * 156, (161, 2)),  # braces are GSM extension characters: two units each
    ("中" * 70, (70, 1)), ("中" * 71, (71, 2)), ("中" * 134, (134, 2)), ("中" * 135, (135, 3)),
    ("【Shop】" + "a" * 63, (69, 1)),  # one non-GSM character makes the whole message UCS-2: 70 per SMS
    ("😀" * 35, (70, 1)), ("😀" * 36, (72, 2)),  # an emoji is two UTF-16 units
])
def test_sms_segments_follow_the_gsm_and_ucs2_limits(text: str, expected: tuple[int, int]) -> None:
    assert sms_segments(text) == expected


@pytest.mark.parametrize(("record_status", "ended_h", "metrics", "expected"), [
    (RecordStatus.IN_PROGRESS, None, {}, TaskStatus.TO_BE_SENT),
    (RecordStatus.IN_PROGRESS, None, {"entered": 5, "sent": 5, "pending": 5}, TaskStatus.SENDING),
    (RecordStatus.COMPLETED, 1, {"entered": 5, "sent": 5, "success": 4, "pending": 1}, TaskStatus.SENDING),
    # past 72 hours a pending send is the scheduler's to fail: the task no longer waits for it
    (RecordStatus.COMPLETED, 73, {"entered": 5, "sent": 5, "success": 4, "pending": 1}, TaskStatus.COMPLETED),
    (RecordStatus.COMPLETED, 1, {"entered": 5, "sent": 5, "success": 5}, TaskStatus.COMPLETED),
    (RecordStatus.STOPPED, 1, {"entered": 5, "sent": 5, "success": 1, "failed": 4}, TaskStatus.COMPLETED),
    (RecordStatus.COMPLETED, 1, {"entered": 5, "sent": 5, "failed": 5}, TaskStatus.FAILED),
    (RecordStatus.COMPLETED, 1, {"entered": 2, "not_sent": 2}, TaskStatus.FAILED),  # nobody had a phone
    (RecordStatus.COMPLETED, 1, {}, TaskStatus.COMPLETED),  # the round reached nobody here
    (RecordStatus.ABNORMAL_END, 1, {"entered": 5, "sent": 5, "success": 5}, TaskStatus.FAILED),
])
def test_task_status_from_the_round_and_its_counters(record_status: RecordStatus, ended_h: float | None,
                                                     metrics: dict[str, int], expected: str) -> None:
    now = clock.now()
    record = ExecutionRecord(activity_id=1, version_id=1, number=1, status=record_status,
                             trigger=RecordTrigger.PUBLISH, started_at=now - timedelta(hours=80),
                             ended_at=None if ended_h is None else now - timedelta(hours=ended_h))
    status, why = task_status(record, metrics, now)
    assert status == expected
    assert bool(why) == (expected == TaskStatus.FAILED)


def test_the_platform_column_names_each_channels_own_provider_as_the_workspace_sets_it() -> None:
    """Email names its SMTP relay (not the SMS provider); a workspace's Settings → Channels override wins."""
    activity_id, _owner, _record_id = seeded()
    with write_session() as session:
        ws = session.get(Activity, activity_id).workspace_id
    invalidate()
    assert _platform(CHANNELS["sms"], ws) == "Provider simulator"
    assert _platform(CHANNELS["email"], ws) == "SMTP relay (local)"
    with write_session() as session:
        session.add(ChannelSetting(workspace_id=ws, name="smtp_host", value="mail.shop.example"))
        session.add(ChannelSetting(workspace_id=ws, name="provider_url", value="https://sms.vendor.example/api"))
    invalidate()
    assert _platform(CHANNELS["email"], ws) == "mail.shop.example"
    assert _platform(CHANNELS["app-push"], ws) == "sms.vendor.example"
    invalidate()
