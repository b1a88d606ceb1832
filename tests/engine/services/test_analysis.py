"""Action analysis of a component in a real round: the panel's numbers are the round's counters, its details
are the step rows (with QAIDs), per label and period, and they say when they have expired; only those who may
see the activity see any of it."""

from datetime import timedelta

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from engine import clock
from engine.channels.registry import reset_channels
from engine.components.text_sms import short_code
from engine.db import read_session, write_session
from engine.errors import Invalid, NotFound
from engine.models import Activity, BehaviorEvent, CustomerStep, ExecutionRecord
from engine.runtime import abtest
from engine.runtime.lifecycle import purge_details
from engine.services import analysis
from engine.services.execution import counters_of
from engine.settings import get_settings
from tests.engine.runtime.support import steps_of
from tests.engine.services import analysis_support as sup

N = 200  # every 50th customer has no phone: 4 are not sent, and wait at the Wait Until


@pytest.fixture
def live(database: str, redis_url: str, simulator, http_sink, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "50")
    monkeypatch.setenv("WEBHOOK_BACKOFF", "0.01")
    get_settings.cache_clear()
    reset_channels()
    yield sup.seed_round(N, http_sink, simulator)
    reset_channels()
    clock.set_clock(None)


def _analysis(rnd: sup.Round, node_id: str, actor=None) -> analysis.NodeAnalysis:  # noqa: ANN001
    with read_session() as session:
        user = actor or sup.users_of(rnd.owner_id)["owner"]
        return analysis.node_analysis(session=session, actor=user, record_id=rnd.record_id, node_id=node_id)


def _counters(rnd: sup.Round, node_id: str) -> dict[str, int]:
    with read_session() as session:
        return counters_of(session, rnd.record()).get(node_id, {})


def _details(rnd: sup.Round, node_id: str, actor, **kw) -> analysis.DetailsPage:  # noqa: ANN001
    with read_session() as session:
        return analysis.customer_details(session=session, actor=actor, record_id=rnd.record_id, node_id=node_id, **kw)


def _rows(rnd: sup.Round, node_id: str, **where: str) -> int:
    return sum(1 for step in steps_of(rnd.record_id) if step.node_id == node_id
               and all(getattr(step, column) == value for column, value in where.items()))


def test_a_send_component_shows_its_counters_results_reasons_clicks_and_details(live: sup.Round) -> None:
    owner = sup.users_of(live.owner_id)["owner"]
    got = _analysis(live, "sms", owner)
    c = _counters(live, "sms")
    assert got.kind == analysis.SEND and got.component_label == "Text SMS" and got.live
    assert got.record_number == 1 and got.record_status_label == "In Progress"
    assert c["entered"] == N and c["not_sent"] == 4 and c["sent"] == N - 4
    assert c["success"] > 0 and c["failed"] > 0  # the receipts came and were applied
    labels = {label.key: label for label in got.labels}
    assert {k: v.count for k, v in labels.items()} == {
        "result:success": c["success"], "result:failed": c["failed"] + c["not_sent"], "result:pending": c["pending"]}
    assert [(label.name, label.tone) for label in got.labels] == [
        ("Succeeded", "success"), ("Failed or not sent", "failed"), ("No receipt yet", "pending")]
    # the labels are the step rows too: the details filtered by a label list exactly its customers
    for key, label in labels.items():
        assert _rows(live, "sms", result=label.value) == label.count
        page = _details(live, "sms", owner, label=key, page_size=100)
        assert page.total == label.count and page.state == analysis.DETAILS_OK
        assert {r.result for r in page.rows} <= {label.value}
    assert got.funnel == [("Entered", N), ("Actually sent", c["sent"]), ("Succeeded", c["success"])]
    # results over time: every step row once, by result
    assert got.timeline.unit == "minute" and sum(map(sum, got.timeline.counts)) == N
    assert set(got.timeline.series) <= set(labels)
    # failure reasons: every failed customer once; the customers without a phone say why
    assert sum(n for _, n in got.reasons) == labels["result:failed"].count
    assert ("no phone number", 4) in got.reasons
    assert got.can_generate_crowd and got.details_state == analysis.DETAILS_OK
    # the QAID and name of each customer; newest first, then by customer; pages of 20
    first = _details(live, "sms", owner)
    assert first.total == N and first.pages == N // 20 and len(first.rows) == 20
    assert all(r.qaid.startswith("F") and r.name == f"F{int(r.qaid[1:])}" for r in first.rows)
    last = _details(live, "sms", owner, page=99)
    assert last.page == first.pages and {r.customer_id for r in last.rows}.isdisjoint(
        {r.customer_id for r in first.rows})
    # short-link clicks: the real API counts them (one customer twice, another once)
    assert got.clicks == analysis.Clicks(clicks=0, clickers=0, link_url=sup.LINK)
    succeeded = _details(live, "sms", owner, label="result:success")  # any page may hold few successes
    assert succeeded.total == labels["result:success"].count and {r.result for r in succeeded.rows} == {"success"}
    customers = [r.customer_id for r in succeeded.rows][:2]
    from engine.api.app import create_app

    with TestClient(create_app()) as api:
        for cid in (customers[0], customers[0], customers[1]):
            answer = api.get(f"/s/{short_code(live.record_id, 'sms', cid)}", follow_redirects=False)
            assert answer.status_code == 302 and answer.headers["location"] == sup.LINK
    assert _analysis(live, "sms", owner).clicks == analysis.Clicks(clicks=3, clickers=2, link_url=sup.LINK)


def test_judgment_ab_test_webhook_and_wait_show_their_branches(live: sup.Round) -> None:
    owner = sup.users_of(live.owner_id)["owner"]
    rj, c = _analysis(live, "rj", owner), _counters(live, "rj")
    assert rj.kind == analysis.BRANCHES and not rj.can_generate_crowd and rj.funnel == []
    assert [(label.key, label.name, label.count) for label in rj.labels] == [
        ("branch:group_1", "Reached", c["branch:group_1"]), ("branch:others", "Others", c["branch:others"])]
    assert c["branch:group_1"] == N - 4 and c["branch:others"] == 4
    assert _details(live, "rj", owner, label="branch:others").total == 4
    assert set(rj.timeline.series) == {"branch:group_1", "branch:others"}

    ab, c = _analysis(live, "ab", owner), _counters(live, "ab")
    assert ab.kind == analysis.AB and ab.ab is not None
    assert [(g.name, g.ratio, g.inflow, g.achieved) for g in ab.ab.groups] == [
        ("A", 50, c["inflow_group_1"], 0), ("B", 50, c["inflow_group_2"], 0)]
    assert ab.ab.total_inflow == N - 4 and ab.ab.winner == "" and ab.ab.target_event == "purchase"
    assert [label.name for label in ab.labels] == ["A · 50%", "B · 50%"]
    # customers of group B buy within the window: the scheduler's AB refresh finds them; B wins
    group_b = [r.customer_id for r in _details(live, "ab", owner, label="branch:group_2", page_size=100).rows][:10]
    with write_session() as session:
        activity = session.get(Activity, live.activity_id)
        for cid in group_b:
            session.add(BehaviorEvent(workspace_id=activity.workspace_id, customer_id=cid, name="purchase",
                                      occurred_at=clock.now() + timedelta(minutes=5)))
    with read_session() as session:
        abtest.refresh_record(session, live.store, session.get(ExecutionRecord, live.record_id))
    ab = _analysis(live, "ab", owner)
    assert ab.ab is not None and ab.ab.winner == "group_2" and ab.ab.total_achieved == 10
    assert [g.achieved for g in ab.ab.groups] == [0, 10] and ab.ab.groups[1].rate == 10 / c["inflow_group_2"]

    hook, c = _analysis(live, "hook", owner), _counters(live, "hook")
    assert hook.kind == analysis.SEND and hook.can_generate_crowd and hook.clicks is None
    assert c["success"] == c["entered"] == _counters(live, "ab")["inflow_group_1"]
    assert {label.key: label.count for label in hook.labels}["result:success"] == c["success"]

    wait = _analysis(live, "w", owner)
    assert [(label.name, label.count) for label in wait.labels] == [("Waiting", 4), ("Released", 0)]
    assert sup.release_waits(live.record_id, live.store) >= 1
    wait = _analysis(live, "w", owner)
    assert [(label.name, label.count) for label in wait.labels] == [("Waiting", 0), ("Released", 4)]
    assert not wait.live and wait.record_status_label == "Completed"
    assert _details(live, "w", owner, label="result:passed").total == 4
    # the round is over, but sends still awaiting their receipt keep the SMS's numbers moving (72 hours at most)
    sms = _analysis(live, "sms", owner)
    assert not sms.live and sms.metrics["pending"] > 0 and sms.awaiting_receipts
    assert not _analysis(live, "rj", owner).awaiting_receipts  # nothing to wait for at a judgment
    later = clock.now() + timedelta(hours=73)
    clock.set_clock(lambda: later)
    assert not _analysis(live, "sms", owner).awaiting_receipts


def test_last_5_minutes_hour_buckets_and_expired_details(live: sup.Round) -> None:
    owner = sup.users_of(live.owner_id)["owner"]
    assert _details(live, "sms", owner, period=analysis.LAST_5_MINUTES).total == N
    later = clock.now() + timedelta(minutes=10)
    clock.set_clock(lambda: later)
    assert _details(live, "sms", owner, period=analysis.LAST_5_MINUTES).total == 0
    assert _details(live, "sms", owner, period=analysis.TO_DATE).total == N
    # a round spanning hours is shown per hour
    with write_session() as session:
        session.exec(update(CustomerStep).where(CustomerStep.record_id == live.record_id, CustomerStep.node_id == "sms",
                                                CustomerStep.customer_id % 2 == 0)
                     .values(at=clock.now() - timedelta(hours=5)))
    shown = _analysis(live, "sms", owner).timeline
    assert shown.unit == "hour" and len(shown.buckets) >= 2 and shown.buckets[0].endswith(":00")
    assert sum(map(sum, shown.counts)) == N
    # the round began more than 7 days ago: its oldest details may be gone
    with write_session() as session:
        record = session.get(ExecutionRecord, live.record_id)
        record.started_at = clock.now() - timedelta(days=8)
        session.add(record)
    got = _analysis(live, "sms", owner)
    assert got.details_state == analysis.DETAILS_PARTIAL and "7 days" in got.details_note
    # seven days later every detail is purged: the panel says so instead of an empty table
    with write_session() as session:
        assert purge_details(session, clock.now() + timedelta(days=8)) > 0
    got = _analysis(live, "sms", owner)
    assert got.details_state == analysis.DETAILS_EXPIRED and got.details_note == analysis.EXPIRED_NOTE
    assert [label.count for label in got.labels] != [0, 0, 0]  # the counters remain
    page = _details(live, "sms", owner)
    assert page.total == 0 and page.state == analysis.DETAILS_EXPIRED and page.note == analysis.EXPIRED_NOTE


def test_only_those_who_may_see_the_activity_see_its_analysis(live: sup.Round) -> None:
    users = sup.users_of(live.owner_id)
    for who in ("owner", "admin"):
        assert _analysis(live, "sms", users[who]).entered == N
    for who in ("other", "manager"):  # a private activity of someone else: as if it did not exist
        with pytest.raises(NotFound):
            _analysis(live, "sms", users[who])
        with pytest.raises(NotFound):
            _details(live, "sms", users[who])
    with write_session() as session:
        activity = session.get(Activity, live.activity_id)
        activity.is_public = True
        session.add(activity)
    for who in ("other", "manager"):
        assert _analysis(live, "sms", users[who]).entered == N
        assert _details(live, "sms", users[who]).total == N
    with pytest.raises(NotFound, match="not part of the round"):
        _analysis(live, "nope", users["owner"])
    with pytest.raises(NotFound):
        with read_session() as session:
            analysis.node_analysis(session=session, actor=users["owner"], record_id=10_000, node_id="sms")
    with pytest.raises(Invalid, match="Unknown result label"):
        _details(live, "sms", users["owner"], label="branch:group_1")
    with pytest.raises(Invalid, match="Unknown period"):
        _details(live, "sms", users["owner"], period="yesterday")
