"""Send windows (quiet hours) and rate limits hold customers AT a touch (engine/runtime/pacing.py): real Redis,
real Dramatiq worker threads, the scheduler object and the provider simulator, under the tests' clock."""

import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import select

from engine.db import read_session, write_session
from engine.models import Customer, ExecutionRecord, Role, User
from engine.runtime import pacing as pacing_runtime
from engine.runtime.step import run_step
from engine.services import activities as svc
from engine.services import crowds
from engine.services import pacing as pacing_service
from engine.services import records as record_service
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.services.pacing import PacingInput
from engine.shared.customers import upsert_customers
from engine.status import RecordStatus
from tests import factories as f
from tests.engine.runtime.invariants import Sampler, violations
from tests.engine.runtime.support import steps_of


@pytest.fixture(autouse=True)
def _fresh_rules() -> None:
    """Record ids start again at 1 in every test's database: no pacing cached from another test's round 1."""
    pacing_runtime.forget_cache()


# 20:00 UTC on a December evening: Tokyo 05:00 (before the window), New York 15:00 (inside), UTC 20:00 (after)
EVENING = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
WINDOW = PacingInput(window_start="09:00", window_end="17:00")


def _flow(audience_id: int) -> dict:
    def node(nid: str, type_: str, **config: object) -> dict:
        return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}

    return {"nodes": [node("t", "target_audience", audience_id=audience_id), node("sms", "text_sms", content="Hi"),
                      node("tag", "tag", tag="after", value="yes"), node("e", "end")],
            "edges": [{"source": "t", "branch": "out", "target": "sms"},
                      {"source": "sms", "branch": "out", "target": "tag"},
                      {"source": "tag", "branch": "out", "target": "e"}]}


def _publish(zones: dict[str, str], pacing: PacingInput, channel_limit: str = "") -> tuple[int, dict[str, int], int]:
    """Customers named by their zone key, one activity paced by `pacing`; returns (activity, ids, owner)."""
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        if channel_limit:  # the workspace's Text SMS limit, as an admin sets it in Settings → Channels
            admin = f.user(session, ws, Role.ADMIN)
            pacing_service.save_channel_limits(session=session, actor=admin, limits={"text_sms": channel_limit})
        rows = [{"qaid": q, "name": q, "phone": f"+8613900{i:06d}"} for i, q in enumerate(zones)]
        ids = upsert_customers(session=session, workspace_id=ws.id, rows=rows).ids
        for qaid, zone in zones.items():  # written as a profile edit would (an unknown zone included)
            session.exec(update(Customer).where(Customer.id == ids[qaid]).values(timezone=zone))
        audience = create_static_audience(session=session, workspace_id=ws.id, name="All",
                                          customer_ids=sorted(ids.values()))
        activity = svc.create_activity(session=session, actor=owner, flow=_flow(audience.id),
                                       data=ActivityInput(name="Paced", pacing=pacing))
        svc.publish(session=session, actor=session.get(User, owner.id), activity_id=activity.id)
        return int(activity.id), {q: ids[q] for q in zones}, int(owner.id)


def _record(activity_id: int) -> ExecutionRecord:
    with read_session() as session:
        return session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)).one()


def _parked(engine, record_id: int) -> set[str]:
    return {m.decode() for m in engine.store.r.zrange("waits", 0, -1) if f'"record": {record_id},' in m.decode()}


def _at_rest(engine, record_id: int):
    """Everything walked that can be: every pending batch is parked (held at the touch)."""
    return lambda: len(engine.store.r.smembers(f"pending:{record_id}")) == len(_parked(engine, record_id))


def _sent_to(simulator, record_id: int) -> list[str]:
    got = httpx.get(f"{simulator.url}/admin/messages", params={"prefix": f"{record_id}:sms:", "limit": 1000}).json()
    return sorted(m["to"] for m in got["messages"])


def _check(record_id: int, engine) -> None:
    counters = engine.store.counters(record_id)
    assert not violations(_flow(0), counters, counters["t"]["entered"]), counters


def _sampler(engine, record_id: int, audience: int) -> Sampler:
    """The counting rules at every instant (every 50 ms), and nobody waiting a negative number of times."""
    def waiting(index: int) -> list[str]:
        m = sampler.samples[index].get("sms", {})
        return [f"{kind} held {m.get(kind + '_held', 0)} < released {m.get(kind + '_released', 0)}"
                for kind in ("sw", "rl") if m.get(kind + "_held", 0) < m.get(kind + "_released", 0)]

    sampler = Sampler(lambda: engine.store.counters(record_id), _flow(0), audience, extra=waiting)
    return sampler


def _sms(engine, record_id: int) -> dict[str, int]:
    return engine.store.counters(record_id).get("sms", {})


def test_quiet_hours_wait_until_the_window_opens_in_each_customers_zone(engine, simulator) -> None:
    engine.clock.at = EVENING
    activity_id, ids, _ = _publish({"tokyo": "Asia/Tokyo", "ny": "America/New_York", "nowhere": "Mars/Base"},
                                   WINDOW)  # "Mars/Base" is no zone: the workspace's (UTC) applies
    record_id = _record(activity_id).id
    with _sampler(engine, record_id, 3) as sampler:
        _walk_the_windows(engine, simulator, activity_id, record_id)
    assert sampler.error is None and sampler.problems == [] and len(sampler.samples) >= 3
    c = _sms(engine, record_id)
    assert c["entered"] == c["sent"] == 3 and pacing_service.counts(c)["waiting"] == 0
    steps = [s for s in steps_of(record_id) if s.node_id == "sms"]
    assert sorted(s.customer_id for s in steps) == sorted(ids.values())  # one passage each, at the touch
    tagged = {s.customer_id for s in steps_of(record_id) if s.node_id == "tag"}
    assert tagged == set(ids.values())  # resumed AT the touch, then on through the rest of the flow
    assert httpx.get(f"{simulator.url}/admin/stats").json()["duplicates"] == 0


def _walk_the_windows(engine, simulator, activity_id: int, record_id: int) -> None:
    engine.run_until(_at_rest(engine, record_id))
    assert _sent_to(simulator, record_id) == ["+8613900000001"]  # New York, 15:00 there
    c = _sms(engine, record_id)
    assert c["entered"] == c["sent"] == 1 and pacing_service.counts(c) == {"waiting": 2, "skipped": 0, "backlog": 0}
    assert len(_parked(engine, record_id)) == 2  # Tokyo opens at 00:00 UTC, UTC at 09:00 UTC
    _check(record_id, engine)

    engine.clock.at = datetime(2026, 12, 8, 0, 0, 30, tzinfo=UTC)  # 09:00 in Tokyo, 03:00 in UTC: one opens
    engine.run_until(lambda: len(_sent_to(simulator, record_id)) == 2 and _at_rest(engine, record_id)())
    assert _sent_to(simulator, record_id) == ["+8613900000000", "+8613900000001"]
    assert pacing_service.counts(_sms(engine, record_id))["waiting"] == 1
    assert _record(activity_id).status == RecordStatus.IN_PROGRESS  # the UTC customer still waits

    engine.clock.at = datetime(2026, 12, 8, 9, 1, tzinfo=UTC)
    engine.run_until(lambda: _record(activity_id).status != RecordStatus.IN_PROGRESS)
    assert _record(activity_id).status == RecordStatus.COMPLETED
    assert len(_sent_to(simulator, record_id)) == 3


def test_a_redelivered_held_batch_sends_nobody_twice(engine, simulator) -> None:
    engine.clock.at = EVENING
    activity_id, ids, _ = _publish({"utc": "UTC", "london": "Europe/London"}, WINDOW)
    record_id = _record(activity_id).id
    engine.run_until(_at_rest(engine, record_id))
    (member,) = _parked(engine, record_id)  # both wait for 09:00 UTC: one held batch
    batch = json.loads(member)["batch"]
    # a duplicate delivery of the parked batch while its window is still closed: held again, nobody sent
    run_step(record_id, "sms", batch, store=engine.store, resume=True)
    run_step(record_id, "sms", batch, store=engine.store, resume=True)  # ... and once more: a no-op
    assert _sent_to(simulator, record_id) == []
    assert pacing_service.counts(_sms(engine, record_id))["waiting"] == 2
    engine.clock.at = datetime(2026, 12, 8, 9, 1, tzinfo=UTC)  # the window opens
    engine.run_until(lambda: _record(activity_id).status != RecordStatus.IN_PROGRESS)
    assert _sent_to(simulator, record_id) == ["+8613900000000", "+8613900000001"]
    c = _sms(engine, record_id)
    assert c["entered"] == c["sent"] == 2 and pacing_service.counts(c)["waiting"] == 0
    assert httpx.get(f"{simulator.url}/admin/stats").json()["duplicates"] == 0


def test_skip_mode_passes_customers_outside_the_window_unsent(engine, simulator) -> None:
    engine.clock.at = EVENING
    activity_id, ids, _ = _publish({"tokyo": "Asia/Tokyo", "ny": "America/New_York"},
                                   PacingInput(window_start="09:00", window_end="17:00", outside="skip"))
    record_id = _record(activity_id).id
    engine.run_until(lambda: _record(activity_id).status != RecordStatus.IN_PROGRESS)
    assert _record(activity_id).status == RecordStatus.COMPLETED
    assert _sent_to(simulator, record_id) == ["+8613900000001"]
    c = engine.store.counters(record_id)
    assert c["sms"]["entered"] == 2 and c["sms"]["sent"] == 1 and c["sms"]["skipped"] == 1
    assert c["tag"]["entered"] == 2  # the skipped customer continued on "out"
    _check(record_id, engine)
    sms = {s.customer_id: s for s in steps_of(record_id) if s.node_id == "sms"}
    assert (sms[ids["tokyo"]].result, sms[ids["tokyo"]].reason, sms[ids["tokyo"]].branch) == \
        ("skipped", "quiet hours", "out")
    with read_session() as session:  # the skipped are a result of their own: a crowd can be made of them
        assert crowds.count_with_result(session, record_id, "sms", "skipped") == 1


def test_stopping_the_round_drops_the_customers_held_at_the_touch(engine, simulator) -> None:
    engine.clock.at = EVENING
    activity_id, ids, owner_id = _publish({"tokyo": "Asia/Tokyo", "utc": "UTC"}, WINDOW)
    record_id = _record(activity_id).id
    engine.run_until(_at_rest(engine, record_id))
    with write_session() as session:
        record_service.stop_record(session=session, actor=session.get(User, owner_id), record_id=record_id)
    engine.clock.at = datetime(2026, 12, 8, 9, 1, tzinfo=UTC)
    engine.run_until(lambda: not _parked(engine, record_id))  # the scheduler released them: to a stopped round
    engine.run_until(lambda: _record(activity_id).status != RecordStatus.IN_PROGRESS)
    assert _record(activity_id).status == RecordStatus.STOPPED
    assert _sent_to(simulator, record_id) == []
    assert not engine.store.r.smembers(f"pending:{record_id}")


def test_rate_limit_paces_a_round_and_estimates_its_finish(engine, simulator, monkeypatch) -> None:
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "10")
    from engine.settings import get_settings

    get_settings.cache_clear()
    engine.clock.at = datetime(2026, 12, 7, 10, 0, 5, tzinfo=UTC)
    zones = {f"c{i:02d}": "UTC" for i in range(45)}
    activity_id, _ids, _ = _publish(zones, PacingInput(max_per_minute=20))
    record_id = _record(activity_id).id
    with _sampler(engine, record_id, 45) as sampler:
        _pace_three_minutes(engine, simulator, activity_id, record_id)
    assert sampler.error is None and sampler.problems == [] and len(sampler.samples) >= 3
    per_minute: dict[datetime, int] = {}
    for s in steps_of(record_id):
        if s.node_id == "sms":
            at = s.at.replace(tzinfo=UTC) if s.at.tzinfo is None else s.at
            key = at.replace(second=0, microsecond=0)
            per_minute[key] = per_minute.get(key, 0) + 1
    assert sorted(per_minute.values()) == [5, 20, 20]
    assert pacing_service.counts(_sms(engine, record_id))["backlog"] == 0
    assert _record(activity_id).status == RecordStatus.COMPLETED


def _pace_three_minutes(engine, simulator, activity_id: int, record_id: int) -> None:
    engine.run_until(_at_rest(engine, record_id))
    assert len(_sent_to(simulator, record_id)) == 20  # this minute's budget
    status = pacing_service.touch_status(metrics=_sms(engine, record_id), record_id=record_id, node_id="sms",
                                         time_zone="Asia/Tokyo")
    # 25 wait: 20 in 10:01, 5 in 10:02 — done by 10:03 UTC, 19:03 in the workspace's zone shown
    assert (status.backlog, status.finish) == (25, "19:03")
    assert status.text() == "backlog 25 · expected finish 19:03"
    for minute, total in ((1, 40), (2, 45)):
        engine.clock.at = datetime(2026, 12, 7, 10, minute, 1, tzinfo=UTC)
        engine.run_until(lambda total=total: len(_sent_to(simulator, record_id)) == total
                         and _at_rest(engine, record_id)())
        _check(record_id, engine)
    engine.run_until(lambda: _record(activity_id).status != RecordStatus.IN_PROGRESS)


def test_the_stricter_of_the_activity_and_channel_limits_wins(engine, simulator) -> None:
    engine.clock.at = datetime(2026, 12, 7, 10, 0, 5, tzinfo=UTC)
    activity_id, _ids, _ = _publish({f"c{i:02d}": "UTC" for i in range(8)}, PacingInput(max_per_minute=5),
                                    channel_limit="3")
    record_id = _record(activity_id).id
    engine.run_until(_at_rest(engine, record_id))
    assert len(_sent_to(simulator, record_id)) == 3
    assert pacing_service.counts(_sms(engine, record_id))["backlog"] == 5
    engine.clock.at = datetime(2026, 12, 7, 10, 1, 1, tzinfo=UTC)
    engine.run_until(lambda: len(_sent_to(simulator, record_id)) == 6 and _at_rest(engine, record_id)())
    assert pacing_service.counts(_sms(engine, record_id))["backlog"] == 2
