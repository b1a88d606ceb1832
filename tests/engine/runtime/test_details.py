"""The route rows read back as the per-step rows they replace: every kind of passage (routed, judged, ended,
failed, parked, released by a later walk), idempotent writes, entered customers and the 7-day purge."""

from datetime import timedelta

from sqlmodel import Session

from engine import clock
from engine.components.base import Outcome
from engine.runtime.details import Routes, all_steps, entered_ids, insert_routes, purge, steps
from engine.runtime.step import insert_steps, step_time
from tests import factories as f

FLOW = {"nodes": [{"id": "t", "type": "target_audience", "config": {"audience_id": 1}},
                  {"id": "tj", "type": "tag_judgment", "config": {}},
                  {"id": "w", "type": "wait_until", "config": {}},
                  {"id": "sms", "type": "text_sms", "config": {"content": "Hi"}},
                  {"id": "e", "type": "end", "config": {}}],
        "edges": [{"source": "t", "branch": "out", "target": "tj"},
                  {"source": "tj", "branch": "group_1", "target": "w"},
                  {"source": "tj", "branch": "others", "target": "e"},
                  {"source": "w", "branch": "out", "target": "sms"},
                  {"source": "sms", "branch": "out", "target": "e"}]}


def _record(session: Session) -> int:
    return int(f.record(session, flow=FLOW).id or 0)


def _entry_walk(record_id: int, at: object) -> list[tuple]:
    """Customers 1–4 enter: 1 and 2 are VIPs and wait, 3 ends, 4 hits a component that fails for them."""
    routes = Routes()
    routes.add("t", [1, 2, 3, 4], Outcome(routes={"out": [1, 2, 3, 4]}))
    routes.add("tj", [1, 2, 3, 4], Outcome(routes={"group_1": [1, 2], "others": [3]},
                                           results={1: ("group_1", None), 2: ("group_1", None),
                                                    3: ("others", None), 4: ("failed", 'Boom: "x", [y]')}))
    routes.add("w", [1, 2], Outcome(parked=[(clock.now(), [1, 2])], results={1: ("parked", None),
                                                                          2: ("parked", None)}))
    routes.add("e", [3], Outcome(results={3: ("passed", None)}))
    return routes.rows(record_id, "t", at)


def test_routes_read_back_as_step_rows_and_a_resumed_walk_supersedes_parked(session: Session) -> None:
    record_id = _record(session)
    at = step_time(clock.now())
    insert_routes(session, _entry_walk(record_id, at))
    insert_routes(session, _entry_walk(record_id, at))  # a redelivered walk: ignored
    resumed = Routes()  # customer 1 is released by the scheduler's walk; 2 still waits
    resumed.add("w", [1], Outcome(routes={"out": [1]}))
    resumed.add("e", [1], Outcome(results={1: ("passed", None)}))
    insert_routes(session, resumed.rows(record_id, "w", at))
    insert_steps(session, [(record_id, "sms", 1, "out", "pending", None, at)])
    got = sorted((s.node_id, s.customer_id, s.branch, s.result, s.reason) for s in all_steps(session, record_id))
    assert got == sorted([
        ("t", 1, "out", "passed", None), ("t", 2, "out", "passed", None), ("t", 3, "out", "passed", None),
        ("t", 4, "out", "passed", None),
        ("tj", 1, "group_1", "group_1", None), ("tj", 2, "group_1", "group_1", None),
        ("tj", 3, "others", "others", None), ("tj", 4, "", "failed", 'Boom: "x", [y]'),
        ("w", 1, "out", "passed", None), ("w", 2, "", "parked", None),
        ("e", 1, "", "passed", None), ("e", 3, "", "passed", None),
        ("sms", 1, "out", "pending", None)])
    one_node = steps(session, record_id, node_id="w")
    assert sorted((s.customer_id, s.result) for s in session.execute(one_node.select())) == [(1, "passed"),
                                                                                              (2, "parked")]
    assert entered_ids(session, [record_id]) == {1, 2, 3, 4}  # the resumed walk is not a second entry


def test_the_purge_removes_route_rows_older_than_the_cutoff(session: Session) -> None:
    record_id = _record(session)
    now = clock.now()
    insert_routes(session, _entry_walk(record_id, step_time(now - timedelta(days=8))))
    fresh = Routes()
    fresh.add("t", [9], Outcome(routes={"out": [9]}))
    insert_routes(session, fresh.rows(record_id, "t", step_time(now)))
    assert purge(session, now - timedelta(days=7)) == 4
    assert {s.customer_id for s in all_steps(session, record_id)} == {9}
