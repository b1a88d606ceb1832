"""What a conversion goal, exit criteria and a holdout cost the walk and the events API (issue 16).

    .venv/bin/python -m bench.goals --customers 50000

One process, a fresh SQLite database and redis-server, the provider simulator on loopback. The same audience
walks the same flow (Target Audience → Random Grouping 50/50 → Text SMS / Wait-free End) three times, each in
its own activity, every batch walked here one after the other (no worker pool: the walk's own cost):
1. nothing set; 2. a conversion goal only (what the lead's 1M benchmark switches on); 3. goal + exit on the
goal + an exit event + an exit condition on an attribute + a 10 % holdout. Then the events API's hook: 1,000
goal events per request for customers of the three rounds. Prints walk seconds, customers/s and the ratios.
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-goals-"))
    from tests.engine.channels.helpers import free_port
    from tests.redis_process import RedisProcess

    redis_proc = RedisProcess(work, free_port(), persistent=False).start()
    os.environ.update({"DATABASE_URL": f"sqlite:///{work / 'bench.db'}", "REDIS_URL": redis_proc.url,
                       "RECEIPT_CALLBACK_TOKEN": "bench-token"})
    from engine.simulator import SimConfig, SimulatorServer

    sim = SimulatorServer(SimConfig(receipt_delay=3600, callback_url="http://127.0.0.1:9/receipts")).start()
    os.environ.update({"PROVIDER_URL": sim.url, "OUTBOUND_ALLOW": sim.url.removeprefix("http://")})
    try:
        run(args.customers)
    finally:
        sim.stop()
        redis_proc.stop()


def run(n: int) -> None:
    from sqlmodel import select

    from engine.db import write_session
    from engine.migrate import upgrade_to_head
    from engine.models import ExecutionRecord, Role, User
    from engine.runtime.connection import get_redis
    from engine.runtime.goals import on_goal_events
    from engine.runtime.rounds import finish_if_done, start_round
    from engine.runtime.step import run_step
    from engine.runtime.store import RoundStore
    from engine.services import activities as svc
    from engine.services.activities import ActivityInput
    from engine.services.audiences import create_static_audience
    from engine.shared.customers import upsert_customers
    from engine.shared.goal_rules import GoalSettings
    from tests import factories as f

    upgrade_to_head()
    with write_session() as session:
        ws = f.workspace(session)
        owner = f.user(session, ws, Role.MARKETER)
        ids = upsert_customers(session=session, workspace_id=ws.id, rows=[
            {"qaid": f"G{i:07d}", "name": f"G{i}", "phone": f"+86139{i:08d}"} for i in range(n)]).ids
        audience = create_static_audience(session=session, workspace_id=ws.id, name="All",
                                          customer_ids=sorted(ids.values()))
        workspace_id, owner_id, audience_id = int(ws.id), int(owner.id), int(audience.id)  # type: ignore[arg-type]

    def flow() -> dict:
        def node(nid: str, type_: str, **config: object) -> dict:
            return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}
        return {"nodes": [node("t", "target_audience", audience_id=audience_id),
                          node("rg", "random_grouping", groups=[{"ratio": 50}, {"ratio": 50}]),
                          node("sms", "text_sms", content="Hi {name}"), node("e1", "end"), node("e2", "end")],
                "edges": [{"source": "t", "branch": "out", "target": "rg"},
                          {"source": "rg", "branch": "group_1", "target": "sms"},
                          {"source": "rg", "branch": "group_2", "target": "e2"},
                          {"source": "sms", "branch": "out", "target": "e1"}]}

    variants = {
        "nothing set": None,
        "goal only": GoalSettings(goal_event="order_paid", goal_days=7),
        "goal + exits + 10 % holdout": GoalSettings(
            goal_event="order_paid", goal_days=7, exit_on_goal=True, exit_events=["unsubscribe"],
            exit_attributes=[{"property": "vip", "op": "eq", "value": True}], holdout_pct=10),
    }
    store = RoundStore(get_redis())
    timings: dict[str, float] = {}
    records: dict[str, int] = {}
    for label, goal in variants.items():
        with write_session() as session:
            owner = session.get(User, owner_id)
            created = svc.create_activity(session=session, actor=owner, flow=flow(),
                                          data=ActivityInput(name=label[:60], goal=goal))
            svc.publish(session=session, actor=owner, activity_id=int(created.id))  # type: ignore[arg-type]
            record = session.exec(select(ExecutionRecord).where(
                ExecutionRecord.activity_id == created.id)).one()
            record_id = int(record.id)  # type: ignore[arg-type]
        batches: list[tuple[str, str]] = []
        start_round(record_id, enqueue=lambda r, node, b, into=batches: into.append((node, b)), store=store)
        started = time.perf_counter()
        for node_id, batch in batches:
            run_step(record_id, node_id, batch, store=store)
        timings[label] = time.perf_counter() - started
        finish_if_done(record_id, store=store)
        records[label] = record_id
        print(f"{label:30s} {timings[label]:7.2f} s  {n / timings[label]:9,.0f} customers/s  "
              f"({n / timings[label] / (n / timings['nothing set']):.0%} of nothing set)", flush=True)
    qaids = sorted(ids.values())
    events = [(cid, "order_paid", {}, datetime.now(UTC)) for cid in qaids[:: max(1, n // 1000)][:1000]]
    started = time.perf_counter()
    conversions, exited = on_goal_events(workspace_id, events, store=store)
    took = time.perf_counter() - started
    print(f"events hook: 1,000 goal events → {conversions} conversions in 3 rounds in {took * 1000:.0f} ms")
    started = time.perf_counter()
    on_goal_events(workspace_id, [(cid, "add_to_cart", {}, datetime.now(UTC)) for cid in qaids[:1000]], store=store)
    print(f"events hook: 1,000 events of no goal in {(time.perf_counter() - started) * 1000:.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
