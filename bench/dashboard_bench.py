"""What the Dashboard service costs over a big round: a million customers through two send components.

    python -m bench.dashboard_bench                    # 1,000,000 customers (2M send step rows), ~1 min
    python -m bench.dashboard_bench --customers 100000

On a temporary SQLite database with the demo data, one In Progress activity of the admin gets a round whose
step rows are written the way the runtime writes them (raw executemany, `at` spread over the last five hours,
85 % success / 5 % failed / 3 % not sent / 7 % pending) and whose counters match them (NodeCounter, as a
finished round's). It prints how long `dashboard(...)` takes for the admin:

- cold: the first read, every component's step rows aggregated (`GROUP BY` round, component, hour, result);
- warm: the counters did not move, nothing is read again (the refresh every open page makes every 2 s);
- moved: a receipt moved one counter, that round's components are read again (no sooner than 4x their last
  cost after the previous read, see engine/services/dashboard_sends.py);
and the raw aggregate alone.
"""

import argparse
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dash-bench-", dir=ROOT / "tmp"))
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"
    redis_server = _redis(work)  # the demo's In Progress rounds read their (empty) live counters
    try:
        run(work, args.customers)
    finally:
        redis_server.terminate()
        redis_server.wait(10)


def _redis(work: Path) -> subprocess.Popen:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    time.sleep(0.3)
    return proc


def run(work: Path, customers: int) -> None:

    from sqlmodel import select

    from engine import clock
    from engine.db import read_session, write_session
    from engine.demo import seed
    from engine.migrate import upgrade_to_head
    from engine.models import ExecutionRecord, NodeCounter, User
    from engine.services import activities as svc
    from engine.services.activities import ActivityInput
    from engine.services.dashboard import dashboard
    from engine.services.dashboard_sends import SendHistory, step_counts
    from engine.status import RecordStatus

    upgrade_to_head()
    flow = {"nodes": [{"id": "t", "type": "target_audience", "config": {"audience_id": 1}},
                      {"id": "sms", "type": "text_sms", "config": {"content": "Hi {name}"}},
                      {"id": "push", "type": "app_push", "config": {"title": "Hi", "body": "Hello"}},
                      {"id": "e", "type": "end", "config": {}}],
            "edges": [{"source": "t", "branch": "out", "target": "sms"},
                      {"source": "sms", "branch": "out", "target": "push"},
                      {"source": "push", "branch": "out", "target": "e"}]}
    now = clock.now()
    with write_session() as session:
        seed(session)
        admin = session.exec(select(User).where(User.username == "admin")).one()
        activity = svc.create_activity(session=session, actor=admin, data=ActivityInput(name="Big round"), flow=flow)
        svc.publish(session=session, actor=admin, activity_id=activity.id)
        record = session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity.id)).one()
        record.status, record.ended_at, record.started_at = RecordStatus.COMPLETED, now, now - timedelta(hours=5)
        session.add(record)
        record_id, admin_id = record.id, admin.id
    print(f"writing {2 * customers:,} step rows ...", flush=True)
    rng = random.Random(1)
    totals: dict[str, dict[str, int]] = {"sms": {}, "push": {}}
    con = sqlite3.connect(work / "bench.db")
    for node in ("sms", "push"):
        rows = []
        for customer in range(customers):
            r = rng.random()
            result, reason = (("success", None) if r < .85 else ("failed", "rejected") if r < .90
                              else ("failed", "no phone number") if r < .93 else ("pending", None))
            metric = "not_sent" if reason == "no phone number" else result
            totals[node][metric] = totals[node].get(metric, 0) + 1
            at = (now - timedelta(minutes=rng.randint(0, 299))).strftime("%Y-%m-%d %H:%M:%S.%f")
            rows.append((record_id, node, customer, "out", result, reason, at))
        con.executemany("INSERT INTO customerstep (record_id, node_id, customer_id, branch, result, reason, at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        con.commit()
    con.close()
    with write_session() as session:
        for node, metrics in totals.items():
            metrics["sent"] = metrics["success"] + metrics["failed"] + metrics["pending"]
            for metric, value in metrics.items():
                session.add(NodeCounter(record_id=record_id, node_id=node, metric=metric, value=value))

    history = SendHistory()

    def timed(label: str) -> float:
        with read_session() as session:
            started = time.perf_counter()
            view = dashboard(session=session, actor=session.get(User, admin_id), history=history)
            took = time.perf_counter() - started
        print(f"{label:<44} {took * 1000:9.1f} ms   (sends {view.totals.sends:,}, components read so far "
              f"{history.reads})", flush=True)
        return took

    with read_session() as session:
        started = time.perf_counter()
        step_counts(session, [(record_id, "sms"), (record_id, "push")], now - timedelta(hours=23))
        print(f"{'the aggregate alone (2 components)':<44} {(time.perf_counter() - started) * 1000:9.1f} ms")
    cost = timed("cold: first read")
    for i in range(3):
        timed(f"warm: nothing moved ({i + 1})")
    with write_session() as session:
        counter = session.get(NodeCounter, (record_id, "sms", "pending"))
        counter.value -= 1
        session.add(counter)
        success = session.get(NodeCounter, (record_id, "sms", "success"))
        success.value += 1
        session.add(success)
    timed("moved, within 4x the last cost: reused")
    time.sleep(4 * cost)
    timed("moved, after 4x the last cost: read again")
    print(f"database: {work / 'bench.db'} (delete it when done)")


if __name__ == "__main__":
    main()
