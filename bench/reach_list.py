"""Time the Reach Tasks list (`reach_tasks.list_tasks`, what /reach/sms reads per click) over 100,000 SMS tasks.

    python bench/reach_list.py --database-url sqlite:///tmp/bench/reach.db            # seeds once, then measures
    python bench/reach_list.py --database-url sqlite:///tmp/bench/reach.db --user marketer --runs 20

Seeding (once per database; refused a second time: the name prefix marks its rows): migrations, the demo data
(its users), then 2,000 periodic activities (every owner, 70 % public), one version each with the demo's
audience → SMS → End flow, and 100,000 ended rounds spread over them (50 each; 4 % Abnormal End) with the SMS
component's persisted counters (entered, sent, success, failed, pending), in one transaction with SQLAlchemy
Core. Every round is one SMS task.

Measuring: a redis-server of its own on a free port (counters of a round are read from Redis and the database,
as the page does), then for each interaction `--runs` calls after one warm-up, p50 / p95 in ms of the service
call plus the row conversion the page state does (`states.reach.row`), as the signed-in `--user` would make
them: the first page (newest first), ten name searches in turn, Next page after page, a deep page, one
activity's tasks, every sort both ways, status filters and the Normal type filter. Since issue 14's stored rows
(`reachtask`) every one of them is one indexed query plus the page's 20 rows read in full. The page's
own round trip (websocket, render, paint) adds what the activity list's benchmark measured in the browser
(≈ 30 ms per frame on the same machine).
"""

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PREFIX = "ReachBench"
WORDS = ["coupon", "welcome", "birthday", "flash", "VIP", "cart", "points", "holiday", "launch", "renewal"]


def seed(tasks: int, activities: int) -> None:
    from sqlalchemy import func, insert, select

    from engine import clock
    from engine.db import write_session
    from engine.demo import WORKSPACE, demo_flow
    from engine.demo import main as load_demo
    from engine.migrate import upgrade_to_head
    from engine.models import Activity, ActivityVersion, ExecutionRecord, NodeCounter, User, Workspace
    from engine.shared.reach_rows import backfill
    from engine.status import ActivityStatus, RecordStatus, VersionState

    upgrade_to_head()
    load_demo()
    rng = random.Random(2026)
    started = time.perf_counter()
    with write_session() as session:
        ws = session.exec(select(Workspace).where(Workspace.name == WORKSPACE)).scalar_one()
        if session.exec(select(func.count()).select_from(Activity).where(
                Activity.name.like(f"{PREFIX}%"))).scalar_one():
            print("reach bench data already present: nothing to seed")
            return
        users = [u for u in session.exec(select(User).where(User.workspace_id == ws.id)).scalars()
                 if u.role != "manager"]
        first_aid = (session.exec(select(func.max(Activity.id))).scalar_one() or 0) + 1
        first_vid = (session.exec(select(func.max(ActivityVersion.id))).scalar_one() or 0) + 1
        first_rid = (session.exec(select(func.max(ExecutionRecord.id))).scalar_one() or 0) + 1
        now = clock.now()
        per = -(-tasks // activities)
        acts, versions, records, counters = [], [], [], []
        for i in range(activities):
            aid, vid = first_aid + i, first_vid + i
            owner = rng.choice(users)
            created = now - timedelta(days=60 + rng.uniform(0, 300))
            acts.append({
                "id": aid, "workspace_id": ws.id, "name": f"{PREFIX} {rng.choice(WORDS)} #{i + 1:04d}",
                "description": "Generated for the reach list benchmark", "owner_id": owner.id,
                "is_public": rng.random() < 0.7, "group_id": None, "status": ActivityStatus.COMPLETED.value,
                "schedule": "daily", "schedule_every": 1, "runs_used": per, "current_version_id": vid,
                "live_version_id": vid, "created_at": created, "updated_at": created, "published_at": created,
            })
            versions.append({"id": vid, "activity_id": aid, "number": 1, "author_id": owner.id,
                             "flow": demo_flow(0), "state": VersionState.PUBLISHED.value, "created_at": created,
                             "published_at": created})
        for n in range(tasks):
            i, number = n % activities, n // activities + 1
            rid = first_rid + n
            start = now - timedelta(days=50) + timedelta(minutes=n)
            failed_round = rng.random() < 0.04
            records.append({
                "id": rid, "activity_id": first_aid + i, "version_id": first_vid + i, "number": number,
                "status": (RecordStatus.ABNORMAL_END if failed_round else RecordStatus.COMPLETED).value,
                "trigger": "schedule", "started_at": start, "ended_at": start + timedelta(minutes=20),
                "failure_reason": "Provider unreachable" if failed_round else None, "rerun_pending": False,
                "entry_closed": True,
            })
            entered = rng.randint(50, 5000)
            success = int(entered * rng.uniform(0.6, 0.95))
            failed = entered - success - entered // 50
            for metric, value in (("entered", entered), ("sent", entered - entered // 50), ("success", success),
                                  ("failed", failed), ("pending", 0), ("not_sent", entered // 50)):
                counters.append({"record_id": rid, "node_id": "n2", "metric": metric, "value": value})
        session.execute(insert(Activity.__table__), acts)
        session.execute(insert(ActivityVersion.__table__), versions)
        for chunk in range(0, len(records), 20_000):
            session.execute(insert(ExecutionRecord.__table__), records[chunk:chunk + 20_000])
        for chunk in range(0, len(counters), 50_000):
            session.execute(insert(NodeCounter.__table__), counters[chunk:chunk + 50_000])
        # bulk-loaded with SQL, past the engine's session listener: their stored task rows as the migration writes
        written = backfill(session.connection())
        print(f"stored {written} reach task rows")
    print(f"seeded {activities} activities and {tasks} rounds (one SMS task each) in "
          f"{time.perf_counter() - started:.1f} s")


def measure(user: str, runs: int) -> list[tuple[str, float, float, int]]:
    from sqlmodel import select

    from engine.db import read_session
    from engine.models import Activity, User
    from engine.services.reach_tasks import TaskQuery, list_tasks
    from marketing_app.states.reach import row

    def call(query: TaskQuery) -> int:
        with read_session() as session:
            actor = session.exec(select(User).where(User.username == user)).one()
            page = list_tasks(session=session, actor=actor, channel="sms", query=query)
            [row(t) for t in page.rows]
            return page.total

    with read_session() as session:
        one = session.exec(select(Activity.id).where(Activity.name.like(f"{PREFIX}%"),
                                                     Activity.is_public)).first()
    cases: list[tuple[str, Callable[[int], TaskQuery]]] = [
        ("first page (newest first)", lambda i: TaskQuery()),
        ("name search", lambda i: TaskQuery(search=WORDS[i % len(WORDS)])),
        ("next page", lambda i: TaskQuery(page=i + 2)),
        ("deep page (2,500 of 5,001)", lambda i: TaskQuery(page=2500 + i)),
        ("one activity's tasks", lambda i: TaskQuery(activity_id=one)),
        *[(f"sort by {sort}{' ↑' if asc else ''}", lambda i, s=sort, a=asc: TaskQuery(sort=s, descending=not a))
          for sort in ("name", "activity", "audience", "sent", "success", "failed", "status") for asc in (False, True)],
        ("status filter Completed", lambda i: TaskQuery(status="completed")),
        ("status filter Execution Failed", lambda i: TaskQuery(status="execution_failed")),
        ("Execution Failed, by Sent", lambda i: TaskQuery(status="execution_failed", sort="sent")),
        ("type filter Normal", lambda i: TaskQuery(kind="normal")),
    ]
    out = []
    for name, make in cases:
        total = call(make(0))  # warm-up
        times = []
        for i in range(runs):
            t0 = time.perf_counter()
            call(make(i))
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        out.append((name, statistics.median(times), p95, total))
        print(f"{name:28s} p50 {statistics.median(times):9.1f} ms   p95 {p95:9.1f} ms   ({total:,} tasks)",
              flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--user", default="admin")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL")
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = args.database_url
    from tests.browser.harness import free_port
    from tests.redis_process import RedisProcess

    redis_dir = Path(tempfile.mkdtemp(prefix="reach-bench-redis-"))
    server = RedisProcess(redis_dir, free_port(), persistent=False).start()
    os.environ["REDIS_URL"] = server.url
    try:
        seed(args.tasks, args.activities)
        print(f"{platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · "
              f"load average {os.getloadavg()[0]:.1f} · user {args.user}", flush=True)
        measure(args.user, args.runs)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
