"""Issue 15's speed work, checked for exactness: a rule that starts from its most selective indexed condition
(`index_sizes`) matches exactly who the plain form matches, for every condition kind beside it; the page's CSV
import in a child process (`ImportJob`) reports progress, writes everything, and on a bad row writes nothing."""

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from engine import clock, db
from engine.models import Audience, BehaviorEvent, Customer, Role
from engine.services import audiences as aud
from engine.services.audience_import import ImportJob, ImportStatus
from engine.shared import audiences as who
from engine.shared import customers as cust
from tests import factories as f

PEOPLE = [
    # qaid, attributes, tags, email, purchases (days ago)
    ("P1", {"age": 25, "city": "Shanghai"}, {"level": "gold", "score": "10"}, "p1@example.com", [1, 2]),
    ("P2", {"age": 40}, {"level": "vip", "score": "3"}, None, [1]),
    ("P3", {"age": 61, "city": "Beijing"}, {"level": "regular"}, "p3@example.com", [40]),
    ("P4", {}, {"level": "gold"}, None, []),
    ("P5", {"age": "n/a"}, {}, "p5@example.com", [2, 3, 4]),
]
DRIVERS = [
    {"field": "tag:level", "op": "in", "value": ["gold", "vip"]},
    {"field": "tag:level", "op": "eq", "value": "gold"},
    {"field": "event:purchase", "op": "did", "value": {"days": 30}},
    {"field": "event:purchase", "op": "did", "value": {"times": 2, "days": 30}},
]
OTHERS = [
    {"field": "tag:score", "op": "gt", "value": 3},
    {"field": "tag:level", "op": "neq", "value": "vip"},
    {"field": "tag:level", "op": "not_in", "value": ["vip"]},
    {"field": "tag:level", "op": "exists", "value": False},
    {"field": "tag:level", "op": "contains", "value": "ol"},
    {"field": "attr:age", "op": "gte", "value": 30},
    {"field": "attr:city", "op": "neq", "value": "Shanghai"},
    {"field": "attr:age", "op": "exists"},
    {"field": "email", "op": "contains", "value": "@example"},
    {"field": "email", "op": "exists", "value": False},
    {"field": "created_at", "op": "within_days", "value": 30},
    {"field": "event:purchase", "op": "did_not", "value": {"days": 30}},
    {"field": "event:purchase", "op": "did", "value": {"times": 3, "days": 10}},
    {"any": [{"field": "tag:level", "op": "eq", "value": "regular"}, {"field": "attr:age", "op": "lt", "value": 30}]},
]


@pytest.fixture
def people(session: Session) -> tuple[Any, dict[str, int]]:
    ws = f.workspace(session)
    rows = [{"qaid": q, "attributes": a, "tags": t, "email": e} for q, a, t, e, _ in PEOPLE]
    ids = cust.upsert_customers(session=session, workspace_id=ws.id, rows=rows).ids
    for qaid, *_, days in PEOPLE:
        for d in days:
            session.add(BehaviorEvent(workspace_id=ws.id, customer_id=ids[qaid], name="purchase",
                                      occurred_at=clock.now() - timedelta(days=d)))
    other = f.workspace(session)  # the same tags and events in another workspace never leak in
    copy = cust.upsert_customers(session=session, workspace_id=other.id, rows=[{**rows[0], "qaid": "X1"}]).ids
    session.add(BehaviorEvent(workspace_id=other.id, customer_id=copy["X1"], name="purchase",
                              occurred_at=clock.now() - timedelta(days=1)))
    session.flush()
    return ws, ids


def _ids(session: Session, ws_id: int, rule: dict[str, Any], driven: bool) -> list[int]:
    sizes = who.index_sizes(session, ws_id) if driven else None
    query = who.rule_query(ws_id, rule, who.audience_loader(session, ws_id), sizes=sizes)
    return sorted(session.execute(query).scalars())


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: f"{d['field']}-{d['op']}-{d['value']}")
def test_a_driven_rule_matches_exactly_what_the_plain_rule_matches(
        session: Session, people: tuple[Any, dict[str, int]], driver: dict[str, Any]) -> None:
    ws, _ = people
    alone = {"all": [driver]}
    assert _ids(session, ws.id, alone, True) == _ids(session, ws.id, alone, False) != []
    for other in OTHERS:
        for rule in ({"all": [driver, other]}, {"all": [other, driver]},
                     {"all": [driver], "any": [other, {"field": "qaid", "op": "eq", "value": "P2"}]}):
            assert _ids(session, ws.id, rule, True) == _ids(session, ws.id, rule, False), rule
            assert who.validate_rule(rule) == []


def test_the_smallest_indexed_condition_drives(session: Session, people: tuple[Any, dict[str, int]]) -> None:
    ws, ids = people
    level = {"field": "tag:level", "op": "in", "value": ["gold", "vip"]}  # 3 of the workspace's 5 (+ X1)
    bought = {"field": "event:purchase", "op": "did", "value": {"days": 30}}  # 6 events of the workspace
    sizes = who.index_sizes(session, ws.id)
    assert (sizes(level), sizes(bought), sizes({"field": "attr:age", "op": "exists"})) == (4, 6, None)
    sql = str(who.rule_query(ws.id, {"all": [bought, level]}, sizes=sizes))
    assert "customer.id IN (SELECT customertag.customer_id" in sql  # the tag list starts, the event is probed
    assert "EXISTS (SELECT" in sql and "behaviorevent.customer_id = customer.id" in sql
    admin = f.user(session, ws, Role.ADMIN)
    est = aud.estimate_rule(session=session, actor=admin, rule={"all": [bought, level]})
    assert (est.size, [c["qaid"] for c in est.sample]) == (2, ["P1", "P2"])


# ---------------------------------------------------------------- the import in a child process


def _setup(role: Role = Role.MARKETER) -> tuple[int, int]:
    with db.write_session() as session:
        ws = f.workspace(session)
        user = f.user(session, ws, role)
        cust.upsert_customers(session=session, workspace_id=ws.id, rows=[{"qaid": "K1", "name": "Known"}])
        return ws.id, user.id


def _finish(job: ImportJob, deadline_s: float = 120) -> tuple[ImportStatus, list[tuple[str, int, int]]]:
    """Poll until the job ends (or the deadline passes), collecting the distinct progress figures seen."""
    seen: list[tuple[str, int, int]] = []
    deadline = time.monotonic() + deadline_s
    status = job.poll()
    while status.state == "running" and time.monotonic() < deadline:
        if not seen or seen[-1] != (status.phase, status.done, status.total):
            seen.append((status.phase, status.done, status.total))
        job.wait(0.05)
        status = job.poll()
    assert status.state != "running", "the import did not end in time"
    return status, seen


def _counts(ws_id: int) -> tuple[int, list[str]]:
    with db.read_session() as session:
        customers = session.execute(select(func.count()).select_from(Customer)
                                    .where(Customer.workspace_id == ws_id)).scalar_one()
        names = list(session.execute(select(Audience.name).where(Audience.workspace_id == ws_id)).scalars())
        return int(customers), names


def test_the_import_runs_in_a_child_and_reports_progress(database: str, tmp_path: Path) -> None:
    ws_id, user_id = _setup()
    path = tmp_path / "list.csv"
    path.write_text("qaid,name,tag:level,attr:age\nK1,Known again,vip,33\n"
                    + "".join(f"N{i},Name {i},gold,{20 + i % 50}\n" for i in range(12_000)), encoding="utf-8")
    job = ImportJob(user_id=user_id, name="Big list", path=str(path))
    assert job.pid is not None
    status, seen = _finish(job)
    assert status.state == "done", status.message
    assert (status.rows, status.members, status.customers_created, status.customers_updated) == (
        12_001, 12_001, 12_000, 1)
    assert status.audience_name == "Big list" and status.audience_id
    assert (status.phase, status.done) == ("saving", status.total)  # the last figure: everything written
    assert _counts(ws_id) == (12_001, ["Big list"])
    with db.read_session() as session:
        k1 = cust.get_customer(session=session, workspace_id=ws_id, qaid="K1")
        assert (k1.name, k1.attributes) == ("Known again", {"age": 33})
        assert cust.get_tags(session=session, customer_ids=[k1.id]) == {k1.id: {"level": "vip"}}


def test_the_service_reports_reading_and_saving_progress(session: Session) -> None:
    ws = f.workspace(session)
    marketer = f.user(session, ws)
    heard: list[tuple[str, int, int]] = []
    text = "qaid,email,tag:level\n" + "".join(f"Q{i},q{i}@example.com,gold\n" for i in range(12_000))
    aud.import_csv(session=session, actor=marketer, name="Progress", csv_text=text,
                   progress=lambda phase, n, total: heard.append((phase, n, total)))
    reading = [h for h in heard if h[0] == "reading"]
    saving = [h for h in heard if h[0] == "saving"]
    assert [n for _, n, _ in reading] == [5000, 10000] and reading[0][2] == 12_002
    # customers, tags, members: 36,000 rows written in 5,000-row blocks, reported as they go
    assert saving[0] == ("saving", 0, 36_000) and saving[-1] == ("saving", 36_000, 36_000)
    assert len(saving) > 6 and [n for _, n, _ in saving] == sorted(n for _, n, _ in saving)


def test_a_bad_row_refuses_the_file_in_the_child_and_writes_nothing(database: str, tmp_path: Path) -> None:
    ws_id, user_id = _setup()
    path = tmp_path / "bad.csv"
    path.write_text("qaid,email\n" + "".join(f"N{i},n{i}@example.com\n" for i in range(6000))
                    + "N6000,not-an-email\nN6001,n6001@example.com\n", encoding="utf-8")
    status, _ = _finish(ImportJob(user_id=user_id, name="Bad list", path=str(path)))
    assert status.state == "refused"
    assert [line for line, _ in status.errors] == [6002] and "email" in status.errors[0][1]
    assert "not imported" in status.message
    assert _counts(ws_id) == (1, [])  # no customer and no audience written


def test_refusals_before_reading_the_file(database: str, tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("qaid,name\nA,B\n", encoding="utf-8")
    _, manager_id = _setup(Role.MANAGER)
    status, _ = _finish(ImportJob(user_id=manager_id, name="List", path=str(path)))
    assert (status.state, "read-only" in status.message) == ("failed", True)
    ws_id, marketer_id = _setup()
    assert _finish(ImportJob(user_id=marketer_id, name="List", path=str(path)))[0].state == "done"
    status, _ = _finish(ImportJob(user_id=marketer_id, name="List", path=str(path)))
    assert (status.state, "already exists" in status.message) == ("failed", True)
    status, _ = _finish(ImportJob(user_id=marketer_id, name="Gone", path=str(tmp_path / "missing.csv")))
    assert status.state == "failed" and "nothing was imported" in status.message
    assert _counts(ws_id) == (2, ["List"])


def test_an_empty_cell_keeps_the_stored_value(session: Session) -> None:
    """The import hands its parsed rows to the upsert (no copy): an empty cell still means "keep"."""
    ws = f.workspace(session)
    marketer = f.user(session, ws)
    cust.upsert_customers(session=session, workspace_id=ws.id, rows=[
        {"qaid": "K1", "name": "Known", "phone": "+8613800000001", "attributes": {"a": 1}, "tags": {"t": "x"}}])
    aud.import_csv(session=session, actor=marketer, name="Keep",
                   csv_text="qaid,name,phone,attr:b,tag:t\nK1,,+86 139 0000 0002,2,\nK1,Again,,,y\n")
    k1 = cust.get_customer(session=session, workspace_id=ws.id, qaid="K1")
    assert (k1.name, k1.phone, k1.attributes) == ("Again", "+8613900000002", {"a": 1, "b": 2})
    assert cust.get_tags(session=session, customer_ids=[k1.id]) == {k1.id: {"t": "y"}}


def test_a_bulk_import_refreshes_postgresqls_statistics_for_the_rounds_first_read(database: str) -> None:
    """A round that starts right after a big import reads the audience on fresh planner statistics: PostgreSQL
    last saw these tables empty, and until autovacuum runs it planned the members' read as a nested loop over
    every customer (the 100,000-customer live-counters round spent 9 minutes there). SQLite has no such step."""
    n = cust.ANALYZE_AFTER
    with db.write_session() as session:
        ws = f.workspace(session)
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL's planner statistics only")
        before = _estimated_rows(session)
        ids = cust.upsert_customers(session=session, workspace_id=ws.id,
                                    rows=[{"qaid": f"S{i:05d}", "tags": {"level": "gold"}} for i in range(n)]).ids
        audience = aud.create_static_audience(session=session, workspace_id=ws.id, name="Imported",
                                              customer_ids=sorted(ids.values()))
        audience_id = audience.id
    assert set(before) == BULK_TABLES and all(rows < n for rows in before.values()), before
    with db.read_session() as session:
        after = _estimated_rows(session)
        assert set(after) == BULK_TABLES and all(rows >= 0.9 * n for rows in after.values()), after
        members = who.materialize(session=session, audience_id=audience_id)
    assert members == sorted(ids.values())


BULK_TABLES = {"customer", "customertag", "audiencemember"}


def _estimated_rows(session: Session) -> dict[str, float]:
    """The planner's row count of the tables a bulk import writes (-1: never analysed)."""
    rows = session.execute(select(text("relname"), text("reltuples")).select_from(text("pg_class")).where(
        text("relname = ANY(:names)")), {"names": sorted(BULK_TABLES)}).all()
    return {name: float(tuples) for name, tuples in rows}
