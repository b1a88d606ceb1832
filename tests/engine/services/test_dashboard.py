"""The Dashboard service on real rounds: seeded activities walked by the runtime against the provider simulator
(receipts applied as the API would), Redis counters and step rows compared with what the dashboard says, the
24-hour window under a moved clock, and visibility per role."""

import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from engine import clock
from engine.channels.registry import reset_channels
from engine.db import read_session, write_session
from engine.models import Activity, CustomerStep, ExecutionRecord, Role, Schedule, User, Workspace
from engine.runtime.connection import get_redis
from engine.runtime.receipts import apply_receipts
from engine.runtime.store import RoundStore
from engine.services import activities as activity_service
from engine.services.dashboard import HOURS, Dashboard, dashboard, window
from engine.services.dashboard_sends import NOT_SENT_REASONS, SendHistory, count_statements
from engine.services.execution import counters_of
from engine.settings import get_settings
from tests import factories as f
from tests.engine.runtime import support as s

N = 300  # customers: every 50th without a phone (not sent by Text SMS); half reach APP PUSH
T0 = datetime(2026, 3, 2, 9, 41, tzinfo=UTC)


@pytest.fixture
def env(database: str, redis_url: str, simulator, http_sink, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "100")
    get_settings.cache_clear()
    reset_channels()
    yield
    reset_channels()


@pytest.fixture
def at() -> Iterator[list[datetime]]:
    """The engine's clock, set by the test: at[0] is now."""
    now = [T0]
    clock.set_clock(lambda: now[0])
    yield now
    clock.set_clock(None)


def _users(activity_id: int) -> dict[str, User]:
    """The owner of the seeded activity plus an admin, another marketer and a manager of its workspace."""
    with write_session() as session:
        activity = session.get(Activity, activity_id)
        ws = session.get(Workspace, activity.workspace_id)
        users = {"owner": session.get(User, activity.owner_id), "admin": f.user(session, ws, Role.ADMIN),
                 "other": f.user(session, ws, Role.MARKETER), "manager": f.user(session, ws, Role.MANAGER)}
        session.flush()
        return {k: User.model_validate(u.model_dump()) for k, u in users.items()}


def _view(user: User, **kw) -> Dashboard:
    with read_session() as session:
        return dashboard(session=session, actor=session.get(User, user.id), **kw)


def _settle_receipts(simulator, http_sink) -> int:
    """Wait for the simulator to post every receipt it scheduled, then apply them as the API would."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        stats = httpx.get(f"{simulator.url}/admin/stats").json()
        sent = stats["receipts_sent"]
        if sent >= stats["receipts_scheduled"] and len(http_sink.receipts()) >= sent:
            break
        time.sleep(0.05)
    return apply_receipts(http_sink.receipts(), store=RoundStore(get_redis()))


def _step_truth(record_ids: list[int], since: datetime | None = None) -> dict[str, dict[str, int]]:
    """node -> result -> customers, counted straight from the step rows (not sent apart)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with read_session() as session:
        for step in session.exec(select(CustomerStep).where(CustomerStep.record_id.in_(record_ids))):
            if since is not None and step.at.replace(tzinfo=UTC) < since:
                continue
            result = "not_sent" if step.result == "failed" and step.reason in NOT_SENT_REASONS else step.result
            out[step.node_id][result] += 1
    return out


def _counters(record_id: int) -> dict[str, dict[str, int]]:
    with read_session() as session:
        return counters_of(session, session.get(ExecutionRecord, record_id))


def _seed_periodic(n: int = N) -> tuple[int, int]:
    """The support's activity (Target Audience → Text SMS → split → APP PUSH), daily so it stays In Progress
    after its round; returns (activity id, record id)."""
    activity_id, _ = s.seed_activity(n, schedule=Schedule.DAILY)
    return activity_id, s.records(activity_id)[0].id


def test_numbers_equal_the_counters_and_the_step_rows(env, simulator, http_sink) -> None:
    activity_id, record_id = _seed_periodic()
    s.run_in_process(record_id)
    assert _settle_receipts(simulator, http_sink) > 0
    users = _users(activity_id)
    counters, truth = _counters(record_id), _step_truth([record_id])
    sms, push = counters["sms"], counters["push"]
    assert sms["not_sent"] == N // 50 and sms["success"] > 0 and sms["failed"] > 0  # a real mix of results

    view = _view(users["owner"])
    assert view.in_progress == 1
    [pulse] = view.activities
    assert pulse.id == activity_id and pulse.channels == ["Text SMS", "APP PUSH"]
    for metric in ("success", "failed", "pending", "not_sent"):
        assert getattr(pulse.totals, metric) == sms.get(metric, 0) + push.get(metric, 0), metric
        assert getattr(pulse.totals, metric) == truth["sms"][metric] + truth["push"][metric], metric
    assert pulse.totals.sends == sms["sent"] + push["sent"]
    assert pulse.totals.success_rate == pytest.approx(pulse.totals.success / pulse.totals.sends)
    assert view.totals == pulse.totals

    by_label = {c.label: c for c in view.channels}
    assert list(by_label) == ["Text SMS", "APP PUSH"]  # registry order, one chart per channel in use
    for label, node in (("Text SMS", sms), ("APP PUSH", push)):
        series = by_label[label]
        assert series.category == "Marketing Touch"
        assert (series.totals.sends, series.totals.success, series.totals.failed, series.totals.pending) == (
            node["sent"], node["success"], node["failed"], node.get("pending", 0))
        assert len(series.sends) == HOURS and sum(series.sends) == node["sent"]
        assert series.sends[-1] == node["sent"]  # all of it in the current hour
        assert all(series.sends[i] == series.success[i] + series.failed[i] + series.pending[i] for i in range(HOURS))
    assert sum(c.totals.sends for c in view.channels) == view.totals.sends


def test_running_round_reads_live_counters_and_rereads_only_what_moved(env, simulator, http_sink) -> None:
    from engine.runtime.rounds import finish_if_done, start_round
    from engine.runtime.step import run_step

    activity_id, record_id = _seed_periodic()
    users = _users(activity_id)
    store = RoundStore(get_redis())
    batches: list[tuple[str, str]] = []
    start_round(record_id, enqueue=lambda r, n, b: batches.append((n, b)), store=store)
    assert len(batches) == 3
    history = SendHistory(reuse_factor=0)  # re-read whenever the counters moved, however slow the machine
    for node, batch in batches[:2]:
        run_step(record_id, node, batch, store=store)
    assert s.records_status(record_id) == "in_progress"
    live = store.counters(record_id)
    view = _view(users["admin"], history=history)
    assert view.totals.sends == live["sms"]["sent"] + live["push"]["sent"] > 0
    reads = history.reads
    assert _view(users["admin"], history=history).totals == view.totals
    assert history.reads == reads  # nothing moved: nothing read again

    run_step(record_id, *batches[2], store=store)  # the last batch: the counters move, so does the dashboard
    finish_if_done(record_id, store=store)
    moved = _view(users["admin"], history=history)
    assert history.reads > reads
    counters = _counters(record_id)
    assert moved.totals.sends == counters["sms"]["sent"] + counters["push"]["sent"] > view.totals.sends
    _settle_receipts(simulator, http_sink)  # receipts move pending to success / failed: read again
    settled = _view(users["admin"], history=history)
    truth = _step_truth([record_id])
    assert settled.totals.success == truth["sms"]["success"] + truth["push"]["success"] > 0
    assert settled.totals.pending < moved.totals.pending


def test_the_window_is_the_last_24_whole_hours(env, at) -> None:
    from engine.runtime.rounds import finish_if_done, start_round
    from engine.runtime.step import run_step

    activity_id, record_id = _seed_periodic()
    users = _users(activity_id)
    store = RoundStore(get_redis())
    batches: list[tuple[str, str]] = []
    start_round(record_id, enqueue=lambda r, n, b: batches.append((n, b)), store=store)
    run_step(record_id, *batches[0], store=store)  # the first batch at T0 (09:41)
    first = store.counters(record_id)["sms"]["sent"]

    view = _view(users["owner"], now=T0 + timedelta(hours=5))
    assert view.hours[0] == datetime(2026, 3, 1, 15, tzinfo=UTC)
    assert view.hours[-1] == datetime(2026, 3, 2, 14, tzinfo=UTC)
    sms = next(c for c in view.channels if c.type == "text_sms")
    assert sms.sends[HOURS - 1 - 5] == first == sum(sms.sends)
    # 23 hours later the 09:00 hour is the window's first: still counted
    assert window(T0 + timedelta(hours=23))[0] == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert _view(users["owner"], now=T0 + timedelta(hours=23)).totals == view.totals

    at[0] = T0 + timedelta(hours=24, minutes=30)  # 10:11 the next day: the rest of the round
    for batch in batches[1:]:
        run_step(record_id, *batch, store=store)
    assert finish_if_done(record_id, store=store)
    view = _view(users["owner"], now=at[0])
    counters = _counters(record_id)
    truth = _step_truth([record_id], since=view.since)
    assert view.totals.sends == sum(truth[n][r] for n in ("sms", "push") for r in ("success", "failed", "pending"))
    sms = next(c for c in view.channels if c.type == "text_sms")
    assert sms.sends[-1] == sum(sms.sends) == counters["sms"]["sent"] - first  # the first batch left the window
    assert view.totals.sends < counters["sms"]["sent"] + counters["push"]["sent"]


def test_a_private_activity_reaches_only_its_creator_and_admins(env) -> None:
    activity_id, record_id = _seed_periodic(120)
    s.run_in_process(record_id)
    users = _users(activity_id)
    sends = _counters(record_id)["sms"]["sent"] + _counters(record_id)["push"]["sent"]
    for role in ("owner", "admin"):
        view = _view(users[role])
        assert [a.id for a in view.activities] == [activity_id] and view.totals.sends == sends, role
    for role in ("other", "manager"):
        view = _view(users[role])
        assert view.activities == [] and view.in_progress == 0, role
        assert view.channels == [] and view.totals.sends == view.totals.not_sent == 0, role

    with write_session() as session:  # Set Public: the whole workspace sees it, the manager too
        activity_service.set_public(session=session, actor=session.get(User, users["owner"].id),
                                    activity_id=activity_id, public=True)
    for role in ("owner", "admin", "other", "manager"):
        view = _view(users[role])
        assert [a.id for a in view.activities] == [activity_id] and view.totals.sends == sends, role


def test_only_in_progress_activities_and_an_empty_workspace(env) -> None:
    activity_id, record_id = _seed_periodic(60)
    s.run_in_process(record_id)
    users = _users(activity_id)
    with write_session() as session:
        activity_service.stop(session=session, actor=session.get(User, users["owner"].id), activity_id=activity_id)
    view = _view(users["admin"])
    assert (view.in_progress, view.activities, view.channels, view.totals.sends) == (0, [], [], 0)
    with write_session() as session:  # another workspace's admin sees nothing of this one
        ws = f.workspace(session)
        stranger = f.user(session, ws, Role.ADMIN)
        session.flush()
        stranger_id = stranger.id
    with read_session() as session:
        assert dashboard(session=session, actor=session.get(User, stranger_id)).activities == []


@pytest.mark.sqlite_only("EXPLAIN QUERY PLAN is SQLite's")
def test_the_aggregate_reads_the_primary_key(database) -> None:
    with read_session() as session:
        stmts = count_statements(session, [(1, "sms"), (1, "push"), (2, "sms")], datetime(2026, 1, 1, tzinfo=UTC))
        assert len(stmts) == 1
        for stmt in stmts:
            sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "USING PRIMARY KEY" in plan and "SCAN customerstep" not in plan, plan

