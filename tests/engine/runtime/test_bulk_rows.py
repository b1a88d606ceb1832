"""The walk's bulk reads and writes take shortcuts on SQLite (a range scan for a run of ids, one statement per
group of rows that share all but the customer); each must give exactly what the plain path gives."""

import pytest
from sqlmodel import Session, select

from engine import clock
from engine.flow.graph import FlowGraph
from engine.models import Customer, CustomerStep, CustomerTag
from engine.runtime.customers import load_view_map
from engine.runtime.details import STEP_COLUMNS, STEP_TABLE
from engine.runtime.sql import GROUPED_MIN, insert_ignore_grouped
from engine.runtime.step import plan_for, step_time
from tests import factories as f


def _customers(session: Session, ws_id: int, ids: list[int]) -> None:
    for cid in ids:
        session.add(Customer(id=cid, workspace_id=ws_id, qaid=f"Q{cid}", name=f"C{cid}", phone=f"+86{cid}",
                             attributes={"n": cid}))
        session.add(CustomerTag(customer_id=cid, tag="level", value="vip" if cid % 2 else "gold"))
    session.flush()


@pytest.mark.parametrize("wanted", [
    list(range(1, 41)),  # a run of consecutive ids: the range scan
    [3, 5, 7, 9, 11, 13, 15, 17, 19, 21],  # gaps, within twice the count: the range scan, filtered
    [1, 40, 80, 120],  # sparse: one look-up per id
    [2, 4, 999, 6],  # one id that is nobody (a deleted customer)
])
def test_the_loader_reads_exactly_the_asked_customers(session: Session, wanted: list[int]) -> None:
    ws = f.workspace(session)
    _customers(session, int(ws.id or 0), [*range(1, 61), 80, 120])
    session.commit()
    views = load_view_map(session, wanted)
    present = [cid for cid in wanted if cid != 999]
    assert sorted(views) == sorted(present)
    for cid in present:
        view = views[cid]
        assert (view.qaid, view.name, view.phone) == (f"Q{cid}", f"C{cid}", f"+86{cid}")
        assert view.tags == {"level": "vip" if cid % 2 else "gold"}
        assert view.attributes == {"n": cid}


def test_grouped_rows_are_the_rows_and_a_second_write_changes_nothing(session: Session) -> None:
    rid = int(f.record(session).id or 0)
    at = step_time(clock.now())
    big = list(range(1, GROUPED_MIN + 5))  # one statement
    small = [500, 501]  # bound rows
    groups = {(rid, "sms", "out", "pending", None, at): big,
              (rid, "sms", "out", "failed", "no phone number", at): small,
              (rid, "hook", "out", "success", None, at): [*big, 7]}  # a customer given twice: one row
    insert_ignore_grouped(session, STEP_TABLE, STEP_COLUMNS, "customer_id", groups)
    first = {(s.node_id, s.customer_id): (s.branch, s.result, s.reason)
             for s in session.exec(select(CustomerStep).where(CustomerStep.record_id == rid))}
    assert len(first) == 2 * len(big) + len(small)
    assert all(first[("sms", c)] == ("out", "pending", None) for c in big)
    assert all(first[("sms", c)] == ("out", "failed", "no phone number") for c in small)
    assert all(first[("hook", c)] == ("out", "success", None) for c in big)
    changed = {(rid, "sms", "out", "success", None, at): big}  # a redelivered walk: the first rows stay
    insert_ignore_grouped(session, STEP_TABLE, STEP_COLUMNS, "customer_id", changed)
    again = {(s.node_id, s.customer_id): (s.branch, s.result, s.reason)
             for s in session.exec(select(CustomerStep).where(CustomerStep.record_id == rid))}
    assert again == first


@pytest.mark.parametrize("wanted", [list(range(1, 41)), [1, 40, 80, 120]])  # a range scan, look-ups
def test_the_loader_reads_only_the_tags_the_flow_reads(session: Session, wanted: list[int]) -> None:
    ws = f.workspace(session)
    _customers(session, int(ws.id or 0), [*range(1, 61), 80, 120])
    for cid in [*range(1, 61), 80, 120]:
        session.add(CustomerTag(customer_id=cid, tag="city", value=f"city{cid % 3}"))
    session.commit()
    every = load_view_map(session, wanted)
    level = load_view_map(session, wanted, tags=frozenset({"level"}))
    none = load_view_map(session, wanted, tags=frozenset())
    for cid in wanted:
        assert every[cid].tags == {"level": "vip" if cid % 2 else "gold", "city": f"city{cid % 3}"}
        assert level[cid].tags == {"level": "vip" if cid % 2 else "gold"}
        assert none[cid].tags == {}
        assert (level[cid].name, none[cid].name) == (f"C{cid}", f"C{cid}")


def test_a_walk_loads_the_tags_its_components_read_and_all_of_them_when_one_may_read_any() -> None:
    def needs(*touch: dict) -> frozenset[str] | None:
        nodes = [{"id": "t", "type": "target_audience", "config": {"audience_id": 1}},
                 {"id": "tj", "type": "tag_judgment", "config": {"groups": [
                     {"name": "VIP", "conditions": [{"tag": "level", "op": "eq", "value": "vip"}]}]}},
                 *({"id": f"s{i}", **node} for i, node in enumerate(touch)),
                 {"id": "end", "type": "end", "config": {}}]
        chain = [n["id"] for n in nodes]
        edges = [{"source": a, "target": b} for a, b in zip(chain, chain[1:], strict=False)]
        return plan_for(FlowGraph({"nodes": nodes, "edges": edges})).needs("t")[2]

    sms = {"type": "text_sms", "config": {"content": "Hi {name}"}}
    assert needs(sms) == {"level"}
    assert needs(sms, {"type": "wait_until", "config": {"mode": "period", "minutes": 5}}) == {"level"}
    assert needs({"type": "text_sms", "config": {"content": "Hi {name} in {city}"}}) == {"level", "city"}
    assert needs(sms, {"type": "webhook", "config": {"url": "http://h.example/x"}}) == {"level"}
    assert needs(sms, {"type": "webhook", "config": {"url": "http://h.example/x", "fields": ["tags"]}}) is None
