"""Customer search over a million customers: what the Customers page's search costs (p50 / p95 / max per kind of
term and over all of them; target p95 ≤ 100 ms, issue 15).

    python -m bench.customer_search                       # 1,000,000 customers (seeding ~1 min), 600 searches
    python -m bench.customer_search --customers 100000 --searches 300

On a temporary SQLite database migrated to head (the indexes of migration 0013_customers), one workspace gets
`--customers` customers written with Core executemany the way an import does (QAIDs QA1000000000…, names from
the demo's name lists, phones +86 139…, emails, a few attributes). Then `search_customers` — the very service
call of the page, a 20-row first page with its capped total — runs for terms drawn from the stored customers:

- qaid: a whole QAID; qaid-prefix: a QAID without its last two digits (~100 matches);
- name: a whole name ("Wei Wang"), lower case; surname: a given name alone, the broadest term (tens of
  thousands of matches: total capped at 10,000, the page still sorted by QAID);
- email: the part before the @; phone (admin): the first 9 digits; phone (marketer): the whole number (a
  marketer finds by the whole number only);
- empty: the first page of everyone.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 50_000


def seed(customers: int, rng: random.Random) -> tuple[int, int, list[dict[str, str]]]:
    """(admin id, marketer id, a sample of the customers written)."""
    from sqlalchemy import insert

    from engine import clock
    from engine.db import write_session
    from engine.demo_customers import _GIVEN_F, _GIVEN_M, _SURNAMES
    from engine.migrate import upgrade_to_head
    from engine.models import Customer, Role, User, Workspace, row_id, table_of

    upgrade_to_head()
    table = table_of(Customer)
    given = _GIVEN_F + _GIVEN_M
    now = clock.now()
    sample: list[dict[str, str]] = []
    with write_session() as session:
        ws = Workspace(name="Search bench")
        session.add(ws)
        session.flush()
        users = []
        for name, role in (("bench-admin", Role.ADMIN), ("bench-marketer", Role.MARKETER)):
            user = User(workspace_id=row_id(ws), username=name, display_name=name, password_hash="x", role=role)
            session.add(user)
            users.append(user)
        session.flush()
        admin_id, marketer_id = row_id(users[0]), row_id(users[1])
        ws_id = row_id(ws)
    started = time.perf_counter()
    for start in range(0, customers, CHUNK):
        rows = []
        for i in range(start, min(customers, start + CHUNK)):
            first, last = rng.choice(given), rng.choice(_SURNAMES)
            rows.append({"workspace_id": ws_id, "qaid": f"QA{1_000_000_000 + i}", "name": f"{first} {last}",
                         "phone": f"+86139{rng.randrange(10**8):08d}" if i % 10 else None,
                         "email": f"{first.lower()}.{last.lower()}{i}@example.com" if i % 4 else None,
                         "timezone": "Asia/Shanghai", "attributes": {"orders": i % 17}, "created_at": now})
        with write_session() as session:
            session.execute(insert(table), rows)
        sample += rng.sample(rows, min(len(rows), 40))
        print(f"  seeded {min(customers, start + CHUNK):,} customers ({time.perf_counter() - started:.0f} s)",
              flush=True)
    return admin_id, marketer_id, sample


def terms(sample: list[dict[str, str]], rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, viewer, term) for every kind of search, from stored customers."""
    out: list[tuple[str, str, str]] = []
    for c in sample:
        out += [("qaid", "admin", c["qaid"]), ("qaid-prefix", "admin", c["qaid"][:-2]),
                ("name", "marketer", c["name"].lower()), ("surname", "admin", c["name"].split()[0])]
        if c["email"]:
            out.append(("email", "marketer", c["email"].split("@")[0]))
        if c["phone"]:
            out += [("phone-admin", "admin", c["phone"][:9]), ("phone-marketer", "marketer", c["phone"])]
    out += [("empty", "admin", "")] * 10
    rng.shuffle(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=600)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="customer-search-", dir=ROOT / "tmp"))
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"

    from engine.db import read_session
    from engine.models import User
    from engine.services.customers import search_customers

    rng = random.Random(2026)
    admin_id, marketer_id, sample = seed(args.customers, rng)
    planned = terms(sample, rng)[:args.searches]
    timings: dict[str, list[float]] = {}
    found: dict[str, list[int]] = {}
    with read_session() as session:
        viewers = {"admin": session.get(User, admin_id), "marketer": session.get(User, marketer_id)}
        for _kind, viewer, term in planned[:20]:  # warm the page cache once, as a running app's is
            search_customers(session=session, actor=viewers[viewer], query=term)
        for kind, viewer, term in planned:
            started = time.perf_counter()
            page = search_customers(session=session, actor=viewers[viewer], query=term)
            timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
            found.setdefault(kind, []).append(page.total)

    def line(label: str, values: list[float], totals: list[int] | None = None) -> str:
        ordered = sorted(values)
        p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
        extra = f"  matches median {statistics.median(totals):,.0f}" if totals else ""
        return (f"{label:<16} n={len(values):<4} p50 {statistics.median(values):6.1f} ms  p95 {p95:6.1f} ms  "
                f"max {ordered[-1]:6.1f} ms{extra}")

    print(f"\ncustomer search over {args.customers:,} customers (SQLite, {len(planned)} searches, 20 a page)")
    for kind in sorted(timings):
        print(line(kind, timings[kind], found[kind]))
    print(line("all", [t for values in timings.values() for t in values]))


if __name__ == "__main__":
    main()
