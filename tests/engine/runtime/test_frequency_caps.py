"""Frequency caps (issue 16) on the real engine (Redis, Dramatiq workers, provider simulator, a test clock): a
capped customer is not sent, is counted "capped" (not "sent") with the rule as the reason, and goes on along the
flow; per channel and across channels; the window slides; transactional activities are exempt and not counted;
a redelivered send takes no second slot; two OS processes sending to the same customers never exceed a cap, nor do
two dramatiq worker processes walking three rounds to the same customers at once."""

import multiprocessing
from pathlib import Path
from typing import Any

import redis

from engine.channels.registry import reset_channels
from engine.db import read_session, write_session
from engine.models import Role, User
from engine.models.frequency_cap import ANY_CHANNEL
from engine.runtime import caps
from engine.runtime.connection import get_redis
from engine.runtime.details import all_steps
from engine.services import activities as acts
from engine.services import approval
from engine.services import frequency_caps as svc
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.settings import get_settings
from engine.shared.customers import upsert_customers
from engine.simulator import SimulatorServer
from engine.status import RecordStatus
from tests import factories as f
from tests.engine.runtime import support as s
from tests.engine.runtime.invariants import Sampler
from tests.engine.runtime.test_scale_out import ClaimWatch

N = 6


def _flow(audience_id: int, touch: str) -> dict[str, Any]:
    config = {"text_sms": {"content": "Hi {name}"}, "app_push": {"title": "Hi", "body": "Hello {name}"}}[touch]
    return {"nodes": [{"id": "t", "type": "target_audience", "config": {"audience_id": audience_id},
                       "position": {"x": 0, "y": 0}},
                      {"id": "m", "type": touch, "config": config, "position": {"x": 1, "y": 0}},
                      {"id": "e", "type": "end", "config": {}, "position": {"x": 2, "y": 0}}],
            "edges": [{"source": "t", "branch": "out", "target": "m"}, {"source": "m", "branch": "out", "target": "e"}]}


class World:
    """A workspace with N customers (phones and push tokens), an admin who sets the caps, a marketer who runs
    activities on them."""

    def __init__(self, n: int = N) -> None:
        caps.forget()
        with write_session() as session:
            ws = f.workspace(session)
            self.admin_id = int(f.user(session, ws, Role.ADMIN).id)
            self.owner_id = int(f.user(session, ws, Role.MARKETER).id)
            rows = [{"qaid": f"C{i}", "name": f"C{i}", "phone": f"+861390000{i:04d}", "push_token": f"tok-{i}"}
                    for i in range(n)]
            ids = upsert_customers(session=session, workspace_id=ws.id, rows=rows).ids
            self.customers = sorted(ids.values())
            self.audience_id = int(create_static_audience(session=session, workspace_id=ws.id, name="All",
                                                          customer_ids=self.customers).id)
            self.workspace_id = int(ws.id)

    def cap(self, channel: str, most: int, days: int) -> None:
        with write_session() as session:
            svc.create_cap(session=session, actor=session.get(User, self.admin_id), channel=channel,
                           max_messages=most, window_days=days)
        caps.forget()

    def run(self, engine, touch: str = "text_sms", *, exempt: bool = False,  # noqa: ANN001
            audience_id: int | None = None) -> int:
        """Publish a one-time activity sending `touch` to everyone (or an audience); returns its round once it
        completed."""
        with write_session() as session:
            owner = session.get(User, self.owner_id)
            activity = acts.create_activity(session=session, actor=owner,
                                            data=ActivityInput(name=f"{touch} run", cap_exempt=exempt),
                                            flow=_flow(audience_id or self.audience_id, touch))
            acts.publish(session=session, actor=owner, activity_id=activity.id)
            activity_id = int(activity.id)
        record_id = int(s.records(activity_id)[-1].id)
        engine.run_until(lambda: s.records_status(record_id) != RecordStatus.IN_PROGRESS)
        assert s.records_status(record_id) == RecordStatus.COMPLETED
        return record_id


def _rows(record_id: int, node: str = "m") -> list[Any]:
    with read_session() as session:
        return [r for r in all_steps(session, record_id) if r.node_id == node]


def _counters(engine, record_id: int) -> dict[str, dict[str, int]]:  # noqa: ANN001
    return engine.store.counters(record_id)


def test_a_channel_cap_stops_the_third_sms_and_the_customers_go_on(engine, simulator) -> None:
    w = World()
    w.cap("text_sms", 2, 7)
    first, second = w.run(engine), w.run(engine)
    third = w.run(engine)

    assert simulator.simulator.snapshot()["unique"] == 2 * N  # the third round sent nothing
    for record in (first, second):
        assert _counters(engine, record)["m"].get("capped", 0) == 0
    m = _counters(engine, third)["m"]
    assert (m["entered"], m["capped"], m["sent"], m["success"] + m["failed"] + m["pending"]) == (N, N, 0, 0)
    assert _counters(engine, third)["e"]["entered"] == N  # capped customers continue on "out"
    rows = _rows(third)
    assert {r.result for r in rows} == {"capped"}
    assert {r.reason for r in rows} == {"Frequency cap: at most 2 Text SMS per customer in 7 days"}
    assert s.persisted_counters(third)["m"]["capped"] == N


def test_an_any_channel_cap_counts_every_touch_but_a_channel_cap_only_its_own(engine, simulator) -> None:
    w = World()
    w.cap(ANY_CHANNEL, 2, 7)
    w.cap("app_push", 5, 7)
    w.run(engine, "text_sms")
    w.run(engine, "app_push")
    capped = w.run(engine, "text_sms")  # the third message of any channel
    assert _counters(engine, capped)["m"]["capped"] == N
    assert {r.reason for r in _rows(capped)} == {
        "Frequency cap: at most 2 messages of any channel per customer in 7 days"}


def test_the_window_slides_with_the_clock(engine, simulator) -> None:
    w = World()
    w.cap("text_sms", 1, 1)
    w.run(engine)
    engine.clock.advance(hours=23)
    assert _counters(engine, w.run(engine))["m"]["capped"] == N  # 23 h later: still inside the day
    engine.clock.advance(hours=1, minutes=1)
    again = w.run(engine)  # a day and a minute after the first: its slot has left the window
    assert _counters(engine, again)["m"].get("capped", 0) == 0
    assert _counters(engine, again)["m"]["sent"] == N
    assert _counters(engine, w.run(engine))["m"]["capped"] == N  # ...and the new send took it again


def test_a_transactional_activity_is_neither_capped_nor_counted(engine, simulator) -> None:
    w = World()
    w.cap("text_sms", 1, 7)
    w.run(engine)
    exempt = w.run(engine, exempt=True)
    assert _counters(engine, exempt)["m"].get("capped", 0) == 0
    assert _counters(engine, exempt)["m"]["sent"] == N
    assert simulator.simulator.snapshot()["unique"] == 2 * N
    w2 = World()  # a fresh workspace: an exempt send first takes no slot, so the capped SMS still goes
    w2.cap("text_sms", 1, 7)
    w2.run(engine, exempt=True)
    assert _counters(engine, w2.run(engine))["m"].get("capped", 0) == 0


def test_the_counters_add_up_at_every_instant_of_a_capped_round(engine, simulator, monkeypatch) -> None:
    """2,000 customers in batches of 100, half of them already at the cap: sampled every 20 ms while the round
    runs, no counter is negative, sent = success + failed + pending and sent + capped ≤ entered throughout."""
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "100")
    get_settings.cache_clear()
    w = World(2000)
    w.cap("text_sms", 1, 7)
    with write_session() as session:
        half = int(create_static_audience(session=session, workspace_id=w.workspace_id, name="Half",
                                          customer_ids=w.customers[:1000]).id)
    w.run(engine, audience_id=half)
    with write_session() as session:
        owner = session.get(User, w.owner_id)
        activity = acts.create_activity(session=session, actor=owner, data=ActivityInput(name="Everyone"),
                                        flow=_flow(w.audience_id, "text_sms"))
    flow = _flow(w.audience_id, "text_sms")
    record: list[int] = []

    def read() -> dict[str, dict[str, int]]:
        return engine.store.counters(record[0]) if record else {}

    with Sampler(read, flow, 2000, every=0.02) as sampler:
        with write_session() as session:
            acts.publish(session=session, actor=session.get(User, w.owner_id), activity_id=activity.id)
        record.append(int(s.records(int(activity.id))[-1].id))
        engine.run_until(lambda: s.records_status(record[0]) != RecordStatus.IN_PROGRESS)
    assert sampler.error is None, sampler.error
    assert not sampler.problems, sampler.problems[:20]
    capped = sampler.series("m", "capped")
    assert any(0 < n < 1000 for n in capped), "capped should grow batch by batch"
    m = read()["m"]
    assert (m["entered"], m["capped"], m["sent"]) == (2000, 1000, 1000)


def test_a_test_round_is_neither_capped_nor_counted(engine, simulator) -> None:
    w = World()
    w.cap("text_sms", 1, 7)
    w.run(engine)  # every customer has had their one SMS
    with write_session() as session:
        owner = session.get(User, w.owner_id)
        draft = acts.create_activity(session=session, actor=owner, data=ActivityInput(name="Tested"),
                                     flow=_flow(w.audience_id, "text_sms"))
        approval.add_tester(session=session, actor=owner, activity_id=int(draft.id), qaid="C0")
        test_round = int(approval.run_test(session=session, actor=owner, activity_id=int(draft.id)).id)
    engine.run_until(lambda: s.records_status(test_round) != RecordStatus.IN_PROGRESS)
    assert _counters(engine, test_round)["m"]["sent"] == 1  # the tester got the test message
    assert _counters(engine, test_round)["m"].get("capped", 0) == 0
    history = engine.store.r.get(caps.history_key(w.workspace_id, w.customers[0]))
    assert history is not None and history.decode().count(";") == 1  # the test took no slot


def test_no_rule_no_cap_and_no_history(engine, simulator) -> None:
    w = World()
    w.run(engine)
    w.run(engine)
    assert not engine.store.r.exists(*[caps.history_key(w.workspace_id, c) for c in w.customers])


def test_a_redelivered_send_takes_no_second_slot(redis_url: str) -> None:
    r = redis.Redis.from_url(redis_url)
    rules = [caps.Rule("text_sms", 2, 7)]
    ids = [101, 102, 103]
    args = {"workspace_id": 999_001, "channel": "text_sms", "customer_ids": ids, "rules": rules, "at": 1e9}
    assert caps.check(r, record_id=1, node_id="m", **args) == {}
    assert caps.check(r, record_id=1, node_id="m", **args) == {}  # the same send again (redelivery): no count
    assert caps.check(r, record_id=2, node_id="m", **args) == {}  # the second real send
    third = caps.check(r, record_id=3, node_id="m", **args)
    assert sorted(third) == ids and {rule.max_messages for rule in third.values()} == {2}
    caps.release(r, workspace_id=999_001, record_id=2, node_id="m", customer_ids=ids)  # never left: freed
    assert caps.check(r, record_id=3, node_id="m", **args) == {}


# ---------------------------------------------------------------- two processes


def _sender(url: str, proc: int, customers: list[int], touches: int, go: Any, out: Any) -> None:
    r = redis.Redis.from_url(url)
    rules = [caps.Rule(ANY_CHANNEL, 3, 7), caps.Rule("text_sms", 2, 7)]
    allowed: dict[int, int] = {}
    go.wait(60)  # both processes start sending together (each imported the engine)
    for t in range(touches):
        channel = "text_sms" if t % 2 else "email"
        for i in range(0, len(customers), 50):  # batches of 50: many calls, interleaved with the other process's
            batch = customers[i:i + 50]
            capped = caps.check(r, workspace_id=999_002, record_id=proc * 1000 + t, node_id="m", channel=channel,
                                customer_ids=batch, rules=rules, at=1e9 + t)
            for cid in batch:
                if cid not in capped:
                    allowed[cid] = allowed.get(cid, 0) + 1
            if t == 0 and i == 0:
                go.wait(60)  # both have checked a batch before either goes on: neither can run alone to the end
    out.put(allowed)


def test_two_processes_never_send_more_than_the_cap(redis_url: str) -> None:
    """Two OS processes each try 8 touches (email and SMS in turn) on the same 500 customers at once: every
    customer gets exactly 3 messages in all (the any-channel cap) and at most 2 SMS, whatever the interleaving."""
    customers = list(range(1, 501))
    ctx = multiprocessing.get_context("spawn")
    out, go = ctx.Queue(), ctx.Barrier(2)
    procs = [ctx.Process(target=_sender, args=(redis_url, p, customers, 8, go, out)) for p in (1, 2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    total = {cid: sum(res.get(cid, 0) for res in results) for cid in customers}
    assert set(total.values()) == {3}
    assert all(results)  # both processes took slots (the second barrier makes sure they overlap)
    r = redis.Redis.from_url(redis_url)
    histories = [r.get(caps.history_key(999_002, cid)) for cid in customers]
    assert all(h is not None and h.decode().count("text_sms") <= 2 and h.decode().count(";") == 3 for h in histories)


def test_two_worker_processes_running_three_rounds_send_each_customer_one_sms(
        database: str, redis_url: str, sim: SimulatorServer, monkeypatch, tmp_path: Path) -> None:
    """The run command's workers as separate processes (two dramatiq processes and a scheduler, sharing Redis and
    the database) walk three rounds of SMS to the same 400 customers at once, under "at most 1 Text SMS in 7
    days": the provider receives exactly one SMS per customer, the other two are counted capped."""
    monkeypatch.setenv("PROVIDER_URL", sim.url)
    monkeypatch.setenv("ENGINE_BATCH_SIZE", "50")
    get_settings.cache_clear()
    reset_channels()
    w = World(400)
    w.cap("text_sms", 1, 7)
    activities = []
    with write_session() as session:
        owner = session.get(User, w.owner_id)
        for i in range(3):
            created = acts.create_activity(session=session, actor=owner, data=ActivityInput(name=f"Round {i}"),
                                           flow=_flow(w.audience_id, "text_sms"))
            acts.publish(session=session, actor=owner, activity_id=created.id)
            activities.append(int(created.id))
    records = [int(s.records(a)[-1].id) for a in activities]
    r = get_redis()
    procs = [s.worker(s.engine_env(), tmp_path, threads=2) for _ in range(2)]
    for i, proc in enumerate(procs):
        proc.name = f"worker{i}"
    try:
        for proc in procs:
            proc.start()
        s.wait_for(lambda: r.zcard("dramatiq:__heartbeats__") >= 2, 60, what="the workers to be up")
        procs.append(s.scheduler(s.engine_env(), tmp_path).start())
        with ClaimWatch(r) as claims:
            s.wait_for(lambda: all(s.records_status(rec) != RecordStatus.IN_PROGRESS for rec in records), 180,
                       what="the rounds to complete")
    finally:
        for proc in procs:
            proc.stop()
    assert all(s.records_status(rec) == RecordStatus.COMPLETED for rec in records)
    assert len(claims.batches) >= 2, claims.batches  # both worker processes walked batches
    stats = sim.simulator.snapshot()
    assert (stats["unique"], stats["duplicates"]) == (400, 0)
    counted = [s.persisted_counters(rec)["m"] for rec in records]
    assert sum(m.get("sent", 0) for m in counted) == 400
    assert sum(m.get("capped", 0) for m in counted) == 800
