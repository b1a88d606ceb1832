"""How long a counter change in the engine takes to show in the action analysis panel, on a 100k-customer round;
and what open pages cost the engine.

    python -m bench.live_refresh                      # 3 rounds of 100,000 customers; ~4 min (+ a first build)
    python -m bench.live_refresh --customers 20000 --web-dir tmp/bench-live-web
    python -m bench.live_refresh --customers 20000 --rounds 1 --pages 50   # 49 more tabs watch the same panel

Starts the app with its engine as the browser tests do (tests/browser/live.py `live_stack`: `reflex run --env
prod`, the provider simulator, the API, an SMTP sink, a Dramatiq worker and the scheduler on one redis-server,
the demo data), adds N customers and an audience of them (bench/seed.py, straight into SQLite), publishes
Target Audience → Text SMS → Wait Until 1 hour → End as the demo marketer, opens the round's canvas in headless
Chromium and the Text SMS component's action analysis panel — the worker paused (SIGSTOP) from the publish until
the panel is open, so the whole round is watched. The round stays In Progress (customers wait) while its
counters move: `entered` as the walks go through, `success` as the provider's receipts come back. --rounds
such rounds (3) one after the other.

Measured, many times: a thread polls the engine's Redis counters (RoundStore.counters, every 5 ms) and stamps
each new value of `entered` and `success`; in the page a MutationObserver stamps each change of the panel's
`data-entered` / `data-success` attributes (what the chips and charts show come from the same update). The
delay of an engine value is the first page stamp showing that value or more, minus the engine stamp (one
clock: the same machine). Prints p50 / p95 / max (target p95 ≤ 300 ms: the page is pushed, not polled — the
app's one Redis subscription wakes the panel's follower on every PUBLISH of the record id), the samples, and what
one refresh of the panel costs on the server (the services it calls, over the round's 100k details).

--pages N opens N-1 more tabs (one Chromium) on the same canvas and panel before the worker resumes, and prints
per round what the engine spent: the worker processes' CPU seconds, the PUBLISHes and the engine's write
commands in Redis (INFO commandstats), next to the app process's CPU. Run it with 1 and with 50 pages: the
engine's figures must not depend on the pages (one PUBLISH per write, whoever listens); the app's do.
"""

import argparse
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import redis  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from bench import seed  # noqa: E402
from bench.page_bench import cpu_model, percentile, sign_in  # noqa: E402
from tests.browser.harness import free_port, launch_chromium  # noqa: E402
from tests.browser.live import live_stack  # noqa: E402
from tests.engine.runtime.support import RedisServer  # noqa: E402

METRICS = ("entered", "success")
NODE = "sms"
#: Redis commands only the engine sends (the app only reads; the broker's Lua polling is left out: it follows time)
ENGINE_WRITES = ("hset", "hincrby", "sadd", "expire", "publish")
OBSERVE = """
() => {
  window.__seen = [];
  const el = document.querySelector('#analysis-panel');
  const record = () => window.__seen.push({t: Date.now(), entered: +el.dataset.entered,
                                           success: +el.dataset.success});
  record();
  new MutationObserver(record).observe(el, {attributes: true, attributeFilter: ['data-entered', 'data-success']});
}
"""


def flow(audience_id: int) -> dict:
    nodes = [seed.node("t", "target_audience", audience_id=audience_id),
             seed.node(NODE, "text_sms", content="Hi {name}, the spring sale starts today"),
             seed.node("w", "wait_until", mode="period", hours=1), seed.node("e", "end")]
    for index, item in enumerate(nodes):
        item["position"] = {"x": 300 * index, "y": 0}
    return {"nodes": nodes, "edges": [seed.edge("t", NODE), seed.edge(NODE, "w"), seed.edge("w", "e")]}


class EnginePoller(threading.Thread):
    """Stamps every new value of the component's counters in Redis (what the panel reads)."""

    def __init__(self, record_id: int) -> None:
        super().__init__(daemon=True)
        from engine.runtime.connection import get_redis
        from engine.runtime.store import RoundStore

        self.store = RoundStore(get_redis())
        self.record_id = record_id
        self.changes: list[tuple[str, int, float]] = []  # metric, value, epoch ms
        self.last: dict[str, int] = {}
        self.stop_at = 0.0
        self.quiet_since = time.monotonic()
        self.running = True

    def run(self) -> None:
        import redis

        while self.running:
            try:
                now = self.store.counters(self.record_id).get(NODE, {})
            except redis.RedisError:
                return  # the stack is going away
            stamp = time.time() * 1000
            for metric in METRICS:
                value = int(now.get(metric, 0))
                if value != self.last.get(metric, 0):
                    self.changes.append((metric, value, stamp))
                    self.last[metric] = value
                    self.quiet_since = time.monotonic()
            time.sleep(0.005)


def delays(changes: list[tuple[str, int, float]], seen: list[dict], since_ms: float) -> tuple[list[float], int]:
    """Per engine change after `since_ms`: ms until the page first showed that value or more; and how many never
    showed."""
    out, missed = [], 0
    for metric, value, stamp in changes:
        if stamp < since_ms:
            continue
        shown = next((s["t"] for s in seen if s[metric] >= value), None)
        if shown is None:
            missed += 1
        else:
            out.append(max(0.0, shown - stamp))
    return out, missed


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (a Dramatiq worker's processes, the app's server)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def app_pid(url: str) -> int:
    """The process listening on the app's port."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return int(conn.pid)
    return 0


def redis_writes(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ENGINE_WRITES}


def open_panel(page, url: str, activity_id: int) -> None:  # noqa: ANN001 — a Playwright Page
    page.goto(f"{url}/activities/{activity_id}/canvas?mode=details")
    page.locator(f"#exec-{NODE}").click()
    page.locator(f"#analysis-panel[data-node='{NODE}']").wait_for()
    page.locator("#analysis-title").wait_for()
    page.locator("#analysis-follow").wait_for(state="attached")  # its follower runs on the server


def refresh_cost(record_id: int, runs: int = 10) -> float:
    """p50 ms of what one panel refresh asks of the services (analysis + one page of details + operations)."""
    from sqlmodel import select

    from engine.db import read_session
    from engine.models import User
    from engine.services import analysis, crowds

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with read_session() as session:
            user = session.exec(select(User).where(User.username == "marketer")).one()
            analysis.node_analysis(session=session, actor=user, record_id=record_id, node_id=NODE)
            analysis.customer_details(session=session, actor=user, record_id=record_id, node_id=NODE)
            crowds.list_operations(session=session, actor=user, record_id=record_id, node_id=NODE)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--web-dir", default=str(ROOT / "tmp" / "bench-live-web"))
    parser.add_argument("--rounds", type=int, default=3, help="rounds measured one after the other")
    parser.add_argument("--quiet-s", type=float, default=8.0, help="a round's measure ends once its counters "
                                                                    "rest this long")
    parser.add_argument("--max-s", type=float, default=240.0, help="stop measuring after this long at most")
    parser.add_argument("--pages", type=int, default=1, help="tabs watching the round's panel (one is measured)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="live-refresh-", dir=ROOT / "tmp"))
    redis_server = RedisServer(work, free_port()).start()
    try:
        with live_stack(work / "stack", Path(args.web_dir), redis_server.url) as stack:
            run(stack, args)
    finally:
        redis_server.stop()


def measure_round(stack, page, others: list, marketer_id: int, audience_id: int, number: int,  # noqa: ANN001
                  args: argparse.Namespace) -> tuple[list[float], int, int, int]:
    """One round of the audience, watched from its start: the worker is paused (SIGSTOP) from the publish until
    the panels are open, so every counter change of the round happens while the pages watch. Returns the
    delays, the changes never shown, the page updates seen and the record id."""
    from sqlalchemy.exc import OperationalError
    from sqlmodel import select

    from engine import db
    from engine.models import ExecutionRecord

    worker = stack.procs["worker"]
    for attempt in range(20):  # a worker paused inside a write (the demo's rounds run) holds SQLite's lock
        worker.signal(signal.SIGSTOP)
        try:
            activity_id = seed.publish(marketer_id, f"Live refresh benchmark {number}", flow(audience_id))
            break
        except OperationalError:
            worker.signal(signal.SIGCONT)
            if attempt == 19:
                raise
            time.sleep(0.2)
    try:
        with db.read_session() as session:
            record_id = int(session.exec(select(ExecutionRecord.id).where(
                ExecutionRecord.activity_id == activity_id)).one())
        poller = EnginePoller(record_id)
        poller.start()
        for other in others:
            open_panel(other, stack.url, activity_id)
        open_panel(page, stack.url, activity_id)
        page.evaluate(OBSERVE)
        since = time.time() * 1000
        engine_redis = redis.Redis.from_url(stack.env["REDIS_URL"])
        worker_pid, app = worker.proc.pid, app_pid(stack.url)
        cpu0, app0, writes0 = tree_cpu(worker_pid), tree_cpu(app) if app else 0.0, redis_writes(engine_redis)
    finally:
        worker.signal(signal.SIGCONT)
    started = time.monotonic()
    while time.monotonic() - started < args.max_s:
        if poller.changes and time.monotonic() - poller.quiet_since > args.quiet_s:
            break
        time.sleep(0.5)
    poller.running = False
    poller.join()
    cpu, app_cpu = tree_cpu(worker_pid) - cpu0, (tree_cpu(app) - app0) if app else 0.0
    writes = {k: v - writes0[k] for k, v in redis_writes(engine_redis).items()}
    print(f"round {number}, {1 + len(others)} pages: worker CPU {cpu:.1f} s · PUBLISH {writes['publish']:,} · "
          f"engine write commands {sum(writes.values()):,} · app CPU {app_cpu:.1f} s", flush=True)
    seen = page.evaluate("window.__seen")
    got, missed = delays(poller.changes, seen, since)
    final = poller.last
    print(f"round {number}: entered {final.get('entered', 0):,}, success {final.get('success', 0):,}; "
          f"{len(got)} engine changes measured (+{missed} never shown), {len(seen)} page updates"
          + (f"; p50 {percentile(got, 50):.0f} ms, max {max(got):.0f} ms" if got else ""), flush=True)
    return got, missed, len(seen), record_id


def run(stack, args: argparse.Namespace) -> None:  # noqa: ANN001 — a LiveStack
    from sqlmodel import select

    from engine import db
    from engine.models import User, Workspace

    db.reset_engine()
    with db.read_session() as session:
        marketer = session.exec(select(User).where(User.username == "marketer")).one()
        workspace = session.get(Workspace, marketer.workspace_id)
        assert workspace is not None
    t0 = time.monotonic()
    _ids, audience_id = seed.customers(int(workspace.id), args.customers, audience_name="Live refresh bench")
    print(f"{args.customers:,} customers and their audience in {time.monotonic() - t0:.1f} s", flush=True)

    got: list[float] = []
    missed = updates = 0
    record_id = 0
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        sign_in(page, stack.url, "marketer")
        others = [context.new_page() for _ in range(max(0, args.pages - 1))]  # tabs of the same signed-in user
        for other in others:
            other.set_default_timeout(120_000)
        for number in range(1, args.rounds + 1):
            delays_, missed_, updates_, record_id = measure_round(stack, page, others, int(marketer.id),
                                                                  audience_id, number, args)
            got += delays_
            missed += missed_
            updates += updates_
        browser.close()

    cost = refresh_cost(record_id)
    print()
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"{args.rounds} rounds of {args.customers:,} customers (Target Audience → Text SMS → Wait Until), "
          f"{args.pages} open pages · load average {os.getloadavg()[0]:.1f}")
    print(f"engine changes measured: {len(got)} (+{missed} never shown), page updates seen: {updates}")
    if got:
        print(f"delay counter change → page: p50 {percentile(got, 50):.0f} ms · p95 {percentile(got, 95):.0f} ms · "
              f"max {max(got):.0f} ms (target p95 ≤ 300 ms)")
    print(f"one panel refresh on the server (analysis + details page + operations, {args.customers:,} details): "
          f"p50 {cost:.0f} ms")


if __name__ == "__main__":
    main()
