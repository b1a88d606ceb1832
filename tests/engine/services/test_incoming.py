"""engine.services.incoming: the customers who entered a real round, their result (Success / Failure with its
cause / still in the flow), the time filters and paging, the 7-day retention, one customer's route, and
visibility per role."""

from datetime import timedelta

import pytest

from engine import clock
from engine.db import read_session, write_session
from engine.errors import Invalid, NotFound
from engine.models import Customer, User
from engine.runtime.lifecycle import purge_details
from engine.services import records
from engine.services.incoming import FAILURE, IN_FLOW, STOPPED_REASON, SUCCESS, customer_route, incoming_users
from tests.engine.runtime.support import steps_of
from tests.engine.services.exec_support import N, providers, seeded, set_public, start, users, walk  # noqa: F401

pytestmark = pytest.mark.usefixtures("providers")


def incoming(user: User, record_id: int, **kw):  # noqa: ANN003, ANN201
    with read_session() as session:
        return incoming_users(session=session, actor=session.get(User, user.id), record_id=record_id, **kw)


def route(user: User, record_id: int, customer_id: int):  # noqa: ANN201
    with read_session() as session:
        return customer_route(session=session, actor=session.get(User, user.id), record_id=record_id,
                              customer_id=customer_id)


def branch_of(record_id: int, node_id: str, customer_id: int) -> str:
    [branch] = [step.branch for step in steps_of(record_id)
                if step.node_id == node_id and step.customer_id == customer_id]
    return branch


def test_everyone_who_entered_a_completed_round_succeeded_with_paging_and_filters() -> None:
    activity_id, _owner_id, record_id = seeded()
    owner = users(activity_id)["owner"]
    walk(record_id, start(record_id))
    first = incoming(owner, record_id, page_size=30)
    assert (first.total, first.pages, first.page, first.trigger_id, first.expired) == (N, 4, 1, "t", False)
    assert len(first.rows) == 30 and {r.status for r in first.rows} == {SUCCESS}
    last = incoming(owner, record_id, page=4, page_size=30)
    assert len(last.rows) == N - 90
    every = [r.customer_id for p in range(1, 5) for r in incoming(owner, record_id, page=p, page_size=30).rows]
    assert len(set(every)) == N  # each customer once over the pages
    with read_session() as session:
        customer = session.get(Customer, first.rows[0].customer_id)
    assert (first.rows[0].qaid, first.rows[0].name) == (customer.qaid, customer.name)
    assert incoming(owner, record_id, window="5m").total == N  # they all entered just now
    clock.set_clock(lambda: first.rows[0].entered_at + timedelta(minutes=6))
    assert incoming(owner, record_id, window="5m").total == 0 and incoming(owner, record_id).total == N
    with pytest.raises(Invalid):
        incoming(owner, record_id, window="1h")


def test_a_route_is_the_components_and_links_the_customer_passed() -> None:
    activity_id, _owner_id, record_id = seeded()
    owner = users(activity_id)["owner"]
    walk(record_id, start(record_id))
    rows = incoming(owner, record_id, page_size=100).rows
    a = next(r for r in rows if branch_of(record_id, "ab", r.customer_id) == "group_1")
    b = next(r for r in rows if branch_of(record_id, "ab", r.customer_id) == "group_2")
    assert route(owner, record_id, a.customer_id).nodes == ["t", "sms", "ab", "push", "e1"]
    assert route(owner, record_id, a.customer_id).edges == sorted(
        ["t|out|sms", "sms|out|ab", "ab|group_1|push", "push|out|e1"])
    got = route(owner, record_id, b.customer_id)
    assert (got.nodes, got.qaid) == (["t", "sms", "ab", "tag", "e2"], b.qaid)
    assert "ab|group_2|tag" in got.edges and "ab|group_1|push" not in got.edges
    with pytest.raises(NotFound):
        route(owner, record_id, 10**9)


def test_waiting_customers_are_in_the_flow_until_their_round_is_stopped() -> None:
    activity_id, _owner_id, record_id = seeded(wait=True)
    owner = users(activity_id)["owner"]
    batches = start(record_id, batch_size=50)
    walk(record_id, batches[:1])
    page = incoming(owner, record_id, page_size=100)
    assert page.total == 50
    waiting = [r for r in page.rows if r.status == IN_FLOW]
    assert waiting and all((r.reason, r.node_id) == ("Waiting", "w") for r in waiting)
    assert {r.status for r in page.rows} == {IN_FLOW, SUCCESS}  # group A reached its End
    with write_session() as session:
        records.stop_record(session=session, actor=session.get(User, owner.id), record_id=record_id)
    after = incoming(owner, record_id, page_size=100)
    stopped = {r.customer_id: r for r in after.rows if r.status == FAILURE}
    assert set(stopped) == {r.customer_id for r in waiting}
    assert all(r.reason == STOPPED_REASON for r in stopped.values())


def test_a_failing_component_is_the_failure_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.components.registry import get_component

    def explode(*_args, **_kw):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("tag store unavailable")

    monkeypatch.setattr(type(get_component("tag")), "execute", explode)
    activity_id, _owner_id, record_id = seeded()
    owner = users(activity_id)["owner"]
    walk(record_id, start(record_id))
    rows = incoming(owner, record_id, page_size=100).rows
    failed = [r for r in rows if r.status == FAILURE]
    assert failed and all("tag store unavailable" in r.reason and r.node_id == "tag" for r in failed)
    assert {r.customer_id for r in failed} == {r.customer_id for r in rows
                                                if branch_of(record_id, "ab", r.customer_id) == "group_2"}


def test_details_older_than_seven_days_are_gone_and_the_page_says_so() -> None:
    activity_id, _owner_id, record_id = seeded()
    owner = users(activity_id)["owner"]
    walk(record_id, start(record_id))
    later = clock.now() + timedelta(days=7, hours=1)
    with write_session() as session:
        assert purge_details(session, later) > 0
    clock.set_clock(lambda: later)
    page = incoming(owner, record_id)
    assert (page.total, page.rows, page.expired, page.retention_days) == (0, [], True, 7)


@pytest.mark.parametrize(("role", "public", "sees"), [
    ("admin", False, True), ("owner", False, True), ("other", False, False), ("manager", False, False),
    ("other", True, True), ("manager", True, True),
])
def test_visibility_per_role(role: str, public: bool, sees: bool) -> None:
    activity_id, _owner_id, record_id = seeded()
    who = users(activity_id)
    walk(record_id, start(record_id))
    set_public(activity_id, public)
    customer_id = incoming(who["owner"], record_id).rows[0].customer_id
    if sees:
        assert incoming(who[role], record_id).total == N
        assert route(who[role], record_id, customer_id).nodes[0] == "t"
    else:
        with pytest.raises(NotFound, match="Activity not found"):
            incoming(who[role], record_id)
        with pytest.raises(NotFound, match="Activity not found"):
            route(who[role], record_id, customer_id)
