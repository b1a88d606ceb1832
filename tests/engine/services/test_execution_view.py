"""engine.services.execution.execution_view: the execution data the canvas shows per component, from a real
round (real Redis, the provider simulator): the numbers equal the runtime's counters, live while In Progress
and persisted after; which version and round is shown; visibility per role."""

from datetime import timedelta

import pytest

from engine import clock
from engine.db import read_session, write_session
from engine.errors import NotFound
from engine.models import Activity, ActivityVersion, BehaviorEvent, ExecutionRecord, User
from engine.runtime.abtest import refresh_record
from engine.runtime.details import all_steps
from engine.services import activities as svc
from engine.services import records
from engine.services.execution import AB, END, FLOW, SEND, counters_of, display_kind, execution_view
from engine.status import RecordStatus
from tests.engine.runtime.support import persisted_counters
from tests.engine.services.exec_support import (  # noqa: F401 — providers is a fixture
    N,
    node,
    providers,
    seeded,
    set_public,
    start,
    store,
    users,
    walk,
)

pytestmark = pytest.mark.usefixtures("providers")


def view_as(user: User, activity_id: int, **kw):  # noqa: ANN003, ANN201
    with read_session() as session:
        return execution_view(session=session, actor=session.get(User, user.id), activity_id=activity_id, **kw)


def values(view, node_id: str) -> dict[str, int]:  # noqa: ANN001
    return dict(view.nodes[node_id].values)


def test_display_form_comes_from_the_component_registry() -> None:
    from engine.components.registry import COMPONENTS
    from engine.components.sending import SendingComponent

    sends = {t for t, c in COMPONENTS.items() if isinstance(c, SendingComponent)}
    assert sends == {"text_sms", "digital_sms", "email", "wechat_message", "template_message", "app_push",
                     "webhook", "push_kafka"}  # the seed's list of "failed / succeeded / sent / entered"
    assert {t: display_kind(t) for t in COMPONENTS if display_kind(t) not in (SEND, FLOW)} == {"ab_test": AB,
                                                                                            "end": END}


def test_a_completed_round_shows_its_persisted_counters_in_the_seed_order() -> None:
    activity_id, _owner_id, record_id = seeded()
    who = users(activity_id)
    walk(record_id, start(record_id))
    view = view_as(who["owner"], activity_id)
    assert (view.record_id, view.record_status, view.live) == (record_id, RecordStatus.COMPLETED, False)
    counters = persisted_counters(record_id)
    assert counters, "the runtime persisted the round's counters"
    # triggers, splits, Tag: met the condition / entered
    assert view.nodes["t"].values == [("met", N), ("entered", N)] and view.nodes["t"].trigger
    tag = counters["tag"]
    assert view.nodes["tag"].values == [("met", tag["passed"]), ("entered", tag["entered"])]
    # sends: failed / succeeded / actually sent / entered — the counters themselves, in that order
    sms = counters["sms"]
    assert view.nodes["sms"].kind == SEND
    pending = [("pending", sms["pending"])] if sms["pending"] else []  # "no receipt" shows while there is any
    assert view.nodes["sms"].values == [("failed", sms["failed"]), ("success", sms["success"]), *pending,
                                        ("sent", sms["sent"]), ("entered", N)]
    assert sms["sent"] == N - N // 50 == sms["success"] + sms["failed"] + sms["pending"]  # no phone: not sent
    assert view.nodes["sms"].extra == {"pending": sms["pending"], "not_sent": N // 50, "stopped": 0, "opted_out": 0}
    push = counters["push"]
    assert [k for k, _ in view.nodes["push"].values] == ["failed", "success", *(["pending"] if push["pending"] else []),
                                                         "sent", "entered"]
    assert values(view, "push")["entered"] == push["entered"] == counters["ab"]["branch:group_1"]
    # AB test: winning group / targets achieved / inflows
    assert view.nodes["ab"].values == [("winner", 0), ("targets", 0), ("inflows", N)] and view.nodes["ab"].winner == ""
    # End: reached
    assert values(view, "e1")["reached"] + values(view, "e2")["reached"] == N


def test_the_ab_winner_follows_the_refresh_after_the_round_ended() -> None:
    activity_id, _owner_id, record_id = seeded()
    who = users(activity_id)
    walk(record_id, start(record_id))
    with write_session() as session:
        record = session.get(ExecutionRecord, record_id)
        b_group = sorted(step.customer_id for step in all_steps(session, record_id)
                         if step.node_id == "ab" and step.branch == "group_2")
        activity = session.get(Activity, activity_id)
        for cid in b_group[:5]:
            session.add(BehaviorEvent(workspace_id=activity.workspace_id, customer_id=cid, name="purchase",
                                      occurred_at=clock.now() + timedelta(minutes=1)))
        session.flush()
        refresh_record(session, store(), record)
    view = view_as(who["owner"], activity_id)
    assert view.nodes["ab"].values == [("winner", 2), ("targets", 5), ("inflows", N)]
    assert view.nodes["ab"].winner == "B"


def test_while_in_progress_the_numbers_are_the_live_counters() -> None:
    activity_id, _owner_id, record_id = seeded()
    who = users(activity_id)
    batches = start(record_id, batch_size=40)
    assert len(batches) == 3
    before = view_as(who["owner"], activity_id)
    assert before.live and before.record_id == record_id
    assert values(before, "t") == {"met": 0, "entered": 0}
    walk(record_id, batches[:1])
    first = view_as(who["owner"], activity_id)
    live = store().counters(record_id)
    assert first.live and values(first, "t")["entered"] == 40 == live["t"]["entered"]
    pending = {"pending": live["sms"]["pending"]} if live["sms"].get("pending") else {}
    assert values(first, "sms") == {"failed": live["sms"]["failed"], "success": live["sms"]["success"], **pending,
                                    "sent": live["sms"]["sent"], "entered": 40}
    walk(record_id, batches[1:])
    done = view_as(who["owner"], activity_id)
    assert not done.live and done.record_status == RecordStatus.COMPLETED and values(done, "t")["entered"] == N


def test_a_stopped_round_keeps_its_numbers_and_routes_nobody_further() -> None:
    activity_id, _owner_id, record_id = seeded(wait=True)
    who = users(activity_id)
    batches = start(record_id, batch_size=40)
    walk(record_id, batches[:1])
    with write_session() as session:
        records.stop_record(session=session, actor=session.get(User, who["owner"].id), record_id=record_id)
    persisted = persisted_counters(record_id)
    assert persisted["t"]["entered"] == 40, "the stop persisted the counters so far"
    walk(record_id, batches[1:])  # messages still queued when the round stopped: nobody goes further
    parked = store().due_waits(float("inf"))
    for member, data in parked:  # the parked customers wake up: a stopped round resumes nobody
        from engine.runtime.step import run_step

        run_step(data["record"], data["node"], data["batch"], store=store(), resume=True)
        store().unpark(member)
    view = view_as(who["owner"], activity_id, record_id=record_id)
    assert view.record_status == RecordStatus.STOPPED and not view.live
    assert values(view, "t")["entered"] == 40
    assert values(view, "w")["met"] == 0 and view.nodes["w"].extra == {"waiting": values(view, "w")["entered"]}
    assert values(view, "e2")["reached"] == 0


def test_which_version_and_round_is_shown() -> None:
    activity_id, _owner_id, record_id = seeded()
    who = users(activity_id)
    owner = who["owner"]
    walk(record_id, start(record_id))
    with write_session() as session:  # edit the executed activity: a new draft version with one more component
        activity = session.get(Activity, activity_id)
        v1 = activity.live_version_id
        flow = dict(session.get(ActivityVersion, v1).flow)
        flow = {"nodes": [*flow["nodes"], node("extra", "end")], "edges": flow["edges"]}
        svc.save_draft(session=session, actor=session.get(User, owner.id), activity_id=activity_id, flow=flow)
        v2 = session.get(Activity, activity_id).current_version_id
    details = view_as(owner, activity_id)  # Details: the latest version, the latest round's numbers
    assert (details.version_id, details.version_number, details.record_id) == (v2, 2, record_id)
    assert details.record_version_number == 1
    assert "extra" not in details.nodes and values(details, "t")["entered"] == N
    by_version = view_as(owner, activity_id, version_id=v1)  # Manage Versions: that version, its latest round
    assert (by_version.version_id, by_version.record_id) == (v1, record_id)
    never_ran = view_as(owner, activity_id, version_id=v2)
    assert never_ran.record_id is None and never_ran.nodes == {}
    by_record = view_as(owner, activity_id, record_id=record_id)  # Execution Records: that round, its version
    assert (by_record.version_id, by_record.record_number) == (v1, 1)
    other_activity, _, other_record = seeded()
    with pytest.raises(NotFound):
        view_as(owner, activity_id, record_id=other_record)
    assert other_activity != activity_id


def test_a_draft_shows_the_configuration_only(session) -> None:  # noqa: ANN001
    from engine.models import Role
    from tests import factories as f

    marketer = f.user(session, f.workspace(session), Role.MARKETER)
    draft = f.activity(session, marketer)
    view = execution_view(session=session, actor=marketer, activity_id=draft.id)
    assert view.record_id is None and view.nodes == {} and not view.live


@pytest.mark.parametrize(("role", "public", "sees"), [
    ("admin", False, True), ("owner", False, True), ("other", False, False), ("manager", False, False),
    ("admin", True, True), ("owner", True, True), ("other", True, True), ("manager", True, True),
])
def test_visibility_per_role(role: str, public: bool, sees: bool) -> None:
    activity_id, _owner_id, record_id = seeded()
    who = users(activity_id)
    set_public(activity_id, public)
    if sees:
        assert view_as(who[role], activity_id, record_id=record_id).record_id == record_id
    else:
        with pytest.raises(NotFound, match="Activity not found"):
            view_as(who[role], activity_id, record_id=record_id)
        with pytest.raises(NotFound):
            view_as(who[role], activity_id)


def test_counters_of_overlays_redis_on_the_persisted_copy() -> None:
    activity_id, _owner_id, record_id = seeded()
    walk(record_id, start(record_id))
    with read_session() as session:
        record = session.get(ExecutionRecord, record_id)
        assert counters_of(session, record) == persisted_counters(record_id)
        store().count(record_id, "sms", "rcpt", {"success": 3})  # a late receipt after the round ended
        assert counters_of(session, record)["sms"]["success"] == persisted_counters(record_id)["sms"]["success"] + 3
