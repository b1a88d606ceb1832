"""The Audiences page's CSV import of a million rows, through the page's own path, and how the web process
answers while it runs. Target: ≤ 60 s, the page responsive throughout.

    .venv/bin/python -m bench.audience_import                       # 1,000,000 rows, 200,000 of them known
    .venv/bin/python -m bench.audience_import --rows 100000 --existing 20000
    .venv/bin/python -m bench.audience_import --mode thread         # the old path: a thread of the web process

A temporary SQLite database (migrated; bench/seed.py's workspace, marketer and `--existing` customers), and a
CSV `qaid,name,phone,email,tag:level,attr:age` whose first `--existing` rows name known customers (updated)
and the rest new ones (created). `--mode process` (the page's path): `engine.services.audience_import.ImportJob`
runs the import in a child process; `--mode thread`: `import_csv` in a thread of this process, as the page did
before. Meanwhile this process, standing in for the web server, times a page read every 100 ms (a Customers
search by QAID, `search_customers`: its own session, as a page event has) and polls the job's progress; at the
end: the import's wall time, how long the write transaction held SQLite's write lock (process mode), the reads'
p50 / p95 / max, the progress updates seen, and the peak memory (this process, and the child's).
"""

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _csv(path: Path, rows: int, existing: int) -> None:
    rng = random.Random(3)
    levels = ("vip", "gold", "regular")
    with path.open("w", encoding="utf-8") as out:
        out.write("qaid,name,phone,email,tag:level,attr:age\n")
        for i in range(rows):
            qaid = f"B{i + 1:07d}" if i < existing else f"N{i:07d}"
            out.write(f"{qaid},Imported {i},+86139{i:08d},i{i}@example.com,{levels[rng.randrange(3)]},"
                      f"{18 + i % 60}\n")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(q * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--existing", type=int, default=200_000)
    parser.add_argument("--mode", choices=("process", "thread"), default="process")
    args = parser.parse_args()
    (ROOT / "tmp").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="import-bench-", dir=ROOT / "tmp"))
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"

    from bench import seed
    from engine.db import read_session, write_session
    from engine.migrate import upgrade_to_head
    from engine.models import User
    from engine.services import audiences
    from engine.services.customers import search_customers

    upgrade_to_head()
    ws, user_id = seed.workspace_and_user()
    if args.existing:
        seed.customers(ws, args.existing)
    path = work / "import.csv"
    _csv(path, args.rows, args.existing)
    print(f"{args.rows:,} rows ({args.existing:,} known customers), {path.stat().st_size / 2**20:.0f} MiB; "
          f"mode {args.mode}", flush=True)

    outcome: dict[str, object] = {}
    started = time.perf_counter()
    if args.mode == "process":
        from engine.services.audience_import import ImportJob  # here: `--mode thread` also runs on older code

        job = ImportJob(user_id=user_id, name="Bench import", path=str(path))

        def finished() -> bool:
            status = job.poll()
            outcome["progress"] = (status.phase, status.done, status.total)
            if status.phase == "saving" and "saving_from" not in outcome:
                outcome["saving_from"] = time.perf_counter()  # the write transaction has begun
            return status.state != "running"
    else:
        def run() -> None:
            with write_session() as session:
                actor = session.get(User, user_id)
                assert actor is not None
                result = audiences.import_csv(session=session, actor=actor, name="Bench import",
                                              csv_text=path.read_text(encoding="utf-8"),
                                              progress=lambda *p: outcome.__setitem__("progress", p))
                outcome["members"] = result.members
        thread = threading.Thread(target=run)
        thread.start()

        def finished() -> bool:
            return not thread.is_alive()

    reads: list[float] = []
    seen: set[tuple[object, ...]] = set()
    qaids = [f"B{i:07d}" for i in range(1, max(2, args.existing))]
    rng = random.Random(4)
    while not finished():
        t0 = time.perf_counter()
        with read_session() as session:
            actor = session.get(User, user_id)
            assert actor is not None
            search_customers(session=session, actor=actor, query=rng.choice(qaids))
        reads.append((time.perf_counter() - t0) * 1000)
        seen.add(tuple(outcome.get("progress", ())))  # type: ignore[arg-type]
        time.sleep(max(0.0, 0.1 - (time.perf_counter() - t0)))
    elapsed = time.perf_counter() - started
    if args.mode == "process":
        status = job.poll()
        assert status.state == "done", (status.state, status.message, status.errors[:3])
        members, created, updated = status.members, status.customers_created, status.customers_updated
    else:
        members, created, updated = int(outcome["members"]), -1, -1  # type: ignore[call-overload]
    with read_session() as session:
        imported = [a for a in audiences.list_audiences(session=session, actor=session.get(User, user_id))
                    if a.name == "Bench import"]
        stored = len(audiences.static_sizes(session=session, audience_ids=[a.id for a in imported]) or {})
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"imported {members:,} members ({created:,} created, {updated:,} updated; audience stored: "
          f"{bool(stored)}) in {elapsed:.1f} s; target <= 60 s: {'met' if elapsed <= 60 else 'NOT met'}")
    if "saving_from" in outcome:
        print(f"the write transaction (SQLite's write lock) held for the last "
              f"{time.perf_counter() - float(outcome['saving_from']):.1f} s (+/- one 100 ms poll)")  # type: ignore[arg-type]
    print(f"page reads during the import: {len(reads)}, p50 {statistics.median(reads):.1f} ms, "
          f"p95 {_pct(reads, 0.95):.1f} ms, max {max(reads):.1f} ms; progress updates seen: {len(seen)}")
    print(f"peak memory: this process {own:.0f} MiB, the import's child process {child:.0f} MiB")


if __name__ == "__main__":
    main()
