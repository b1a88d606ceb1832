"""Activity lifecycle services on the real (migrated SQLite) database: every status × action, versions,
copy, move, publicity, and that each refusal changes nothing."""

from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Activity, ActivityVersion, ExecutionRecord, Role
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.status import ACTIVITY_RULES, Action, ActivityStatus, RecordStatus, VersionState
from tests import factories as f

S = ActivityStatus


@pytest.fixture
def ws(session: Session):
    return f.workspace(session)


@pytest.fixture
def marketer(session: Session, ws):
    return f.user(session, ws, Role.MARKETER)


def snapshot(session: Session) -> list[tuple]:
    """Everything a refused call must leave untouched."""
    session.expire_all()
    acts = session.exec(select(Activity).order_by(Activity.id)).all()
    vers = session.exec(select(ActivityVersion).order_by(ActivityVersion.id)).all()
    recs = session.exec(select(ExecutionRecord).order_by(ExecutionRecord.id)).all()
    return [tuple(sorted(r.model_dump().items(), key=lambda kv: kv[0])) for r in [*acts, *vers, *recs]]


def call(action: Action, session: Session, actor, activity: Activity):
    kw = {"session": session, "actor": actor, "activity_id": activity.id}
    return {
        Action.STOP: lambda: svc.stop(**kw),
        Action.START: lambda: svc.start(**kw),
        Action.DELETE: lambda: svc.delete_activity(**kw),
        Action.PUBLISH: lambda: svc.publish(**kw),
        Action.SAVE_DRAFT: lambda: svc.save_draft(**kw),
        Action.SET_PUBLIC: lambda: svc.set_public(**kw, public=True),
        Action.CANCEL_PUBLIC: lambda: svc.set_public(**kw, public=False),
        Action.MOVE: lambda: svc.move(**kw, group_id=None),
    }[action]()


SERVICE_ACTIONS = [Action.STOP, Action.START, Action.DELETE, Action.PUBLISH, Action.SAVE_DRAFT, Action.SET_PUBLIC,
                   Action.CANCEL_PUBLIC, Action.MOVE]


@pytest.mark.parametrize("status", list(ActivityStatus))
@pytest.mark.parametrize("action", SERVICE_ACTIONS)
def test_every_status_and_action_through_the_service(session: Session, marketer, status, action) -> None:
    # a Paused activity is published again only with a new start time (tests/engine/services/test_schedules.py)
    start = f.later(2) if status == S.PAUSED else None
    activity = f.activity(session, marketer, status=status, start_time=start)
    before = snapshot(session)
    if status not in ACTIVITY_RULES[action].allowed_from:
        with pytest.raises(Conflict) as err:
            call(action, session, marketer, activity)
        assert ActivityStatus(status).label in err.value.message
        assert snapshot(session) == before
        return
    call(action, session, marketer, activity)
    session.flush()
    if action == Action.DELETE:
        assert session.get(Activity, activity.id) is None
        assert session.exec(select(func.count()).select_from(ActivityVersion)).one() == 0
    else:
        session.refresh(activity)
        expected = {Action.STOP: S.STOPPED, Action.START: S.IN_PROGRESS,
                    Action.PUBLISH: S.NOT_STARTED if status == S.PAUSED else S.IN_PROGRESS,
                    Action.SAVE_DRAFT: status if status in (S.IN_PROGRESS, S.PAUSED) else S.DRAFT}.get(action, status)
        assert activity.status == expected


def test_publish_with_future_start_waits_not_started_without_a_record(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT, start_time=f.later(2), end_time=f.later(5))
    svc.publish(session=session, actor=marketer, activity_id=activity.id)
    assert activity.status == S.NOT_STARTED
    assert session.exec(select(func.count()).select_from(ExecutionRecord)).one() == 0


def test_publish_now_creates_a_record_and_publishes_the_version(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT)
    svc.publish(session=session, actor=marketer, activity_id=activity.id)
    version = session.get(ActivityVersion, activity.current_version_id)
    assert version.state == VersionState.PUBLISHED and activity.live_version_id == version.id
    record = session.exec(select(ExecutionRecord)).one()
    assert (record.number, record.status, record.trigger) == (1, RecordStatus.IN_PROGRESS, "publish")
    assert activity.runs_used == 1


def test_publish_refuses_an_invalid_flow_and_saves_nothing(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT, flow={"nodes": [], "edges": []})
    before = snapshot(session)
    with pytest.raises(Invalid, match="trigger"), session.begin_nested():  # as write_session rolls back
        svc.publish(session=session, actor=marketer, activity_id=activity.id,
                    flow={"nodes": [{"id": "x", "type": "end"}]})
    assert snapshot(session) == before


def test_publish_refuses_a_past_end_time(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT, end_time=clock.now() - timedelta(hours=1))
    with pytest.raises(Invalid, match="end time"):
        svc.publish(session=session, actor=marketer, activity_id=activity.id)


def test_stop_stops_running_records(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT)
    svc.publish(session=session, actor=marketer, activity_id=activity.id)
    svc.stop(session=session, actor=marketer, activity_id=activity.id)
    record = session.exec(select(ExecutionRecord)).one()
    assert record.status == RecordStatus.STOPPED and record.ended_at is not None


def test_restart_begins_a_new_record_from_the_first_component(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT)
    svc.publish(session=session, actor=marketer, activity_id=activity.id)
    svc.stop(session=session, actor=marketer, activity_id=activity.id)
    svc.start(session=session, actor=marketer, activity_id=activity.id)
    numbers = session.exec(select(ExecutionRecord.number, ExecutionRecord.trigger)
                           .order_by(ExecutionRecord.number)).all()
    assert numbers == [(1, "publish"), (2, "restart")] and activity.runs_used == 2


@pytest.mark.parametrize(("kw", "message"), [
    ({"end_time": clock.now() - timedelta(minutes=1)}, "end time has passed"),
    ({"max_runs": 2, "runs_used": 2}, "all of its 2 runs"),
])
def test_start_refused_outside_window_or_runs(session: Session, marketer, kw, message) -> None:
    activity = f.activity(session, marketer, status=S.STOPPED, **kw)
    before = snapshot(session)
    with pytest.raises(Conflict, match=message):
        svc.start(session=session, actor=marketer, activity_id=activity.id)
    assert snapshot(session) == before


def test_start_before_the_start_time_waits(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.STOPPED, start_time=f.later(3))
    svc.start(session=session, actor=marketer, activity_id=activity.id)
    assert activity.status == S.NOT_STARTED


def test_batch_stop_is_all_or_nothing(session: Session, marketer) -> None:
    running = f.activity(session, marketer, status=S.IN_PROGRESS, name="Running one")
    draft = f.activity(session, marketer, status=S.DRAFT, name="Just a draft")
    before = snapshot(session)
    with pytest.raises(Conflict) as err:
        svc.batch_stop(session=session, actor=marketer, activity_ids=[running.id, draft.id])
    assert "Just a draft" in err.value.message and "Nothing was stopped" in err.value.message
    assert snapshot(session) == before
    svc.batch_stop(session=session, actor=marketer, activity_ids=[running.id])
    assert running.status == S.STOPPED


def test_batch_delete(session: Session, marketer) -> None:
    ids = [f.activity(session, marketer, status=s).id for s in (S.DRAFT, S.STOPPED, S.COMPLETED, S.ABNORMAL_END)]
    assert svc.batch_delete(session=session, actor=marketer, activity_ids=ids) == 4
    assert session.exec(select(func.count()).select_from(Activity)).one() == 0


def test_save_draft_version_rules(session: Session, marketer) -> None:
    draft = f.activity(session, marketer, status=S.DRAFT)
    svc.save_draft(session=session, actor=marketer, activity_id=draft.id, flow=f.valid_flow())
    assert session.exec(select(func.count()).select_from(ActivityVersion)
                        .where(ActivityVersion.activity_id == draft.id)).one() == 1

    running = f.activity(session, marketer, status=S.IN_PROGRESS)
    live = running.live_version_id
    svc.save_draft(session=session, actor=marketer, activity_id=running.id, flow=f.valid_flow())
    svc.save_draft(session=session, actor=marketer, activity_id=running.id, flow=f.valid_flow())  # same draft
    versions = session.exec(select(ActivityVersion).where(ActivityVersion.activity_id == running.id)
                            .order_by(ActivityVersion.number)).all()
    assert [(v.number, v.state) for v in versions] == [(1, "published"), (2, "draft")]
    assert running.live_version_id == live and running.current_version_id == versions[1].id
    assert running.status == S.IN_PROGRESS  # keeps running its published version

    svc.publish(session=session, actor=marketer, activity_id=running.id)
    assert running.live_version_id == versions[1].id
    assert session.exec(select(func.count()).select_from(ExecutionRecord)
                        .where(ExecutionRecord.activity_id == running.id)).one() == 1


def test_stopped_activity_saved_as_draft_gets_a_new_version_and_becomes_draft(session: Session, marketer) -> None:
    stopped = f.activity(session, marketer, status=S.STOPPED)
    svc.save_draft(session=session, actor=marketer, activity_id=stopped.id)
    v = session.get(ActivityVersion, stopped.current_version_id)
    assert (stopped.status, v.number, v.state) == (S.DRAFT, 2, "draft")


def test_copy_names_detaches_and_keeps_configuration(session: Session, ws, marketer) -> None:
    parent = f.campaign(session, ws, "Spring")
    sub = f.campaign(session, ws, "Spring SMS", parent)
    group = f.group(session, ws, "G")
    source = svc.create_activity(
        session=session, actor=marketer, flow=f.valid_flow(), template_key="new_member_first_order",
        data=ActivityInput(name="x" * 60, description="d", group_id=group.id, campaign_ids=[sub.id]),
    )
    source.is_public = True
    other = f.user(session, ws, Role.MARKETER)
    copy = svc.copy_activity(session=session, actor=other, activity_id=source.id)
    assert copy.name == "x" * 55 + "-Copy" and len(copy.name) == 60
    assert copy.template_key is None and copy.owner_id == other.id and not copy.is_public
    assert copy.status == S.DRAFT and copy.group_id == group.id
    assert svc.current_flow(session=session, activity=copy) == f.valid_flow()


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "  "}, "Enter an activity name"),
    ({"name": "n" * 61}, "at most 60"),
    ({"name": "ok", "description": "d" * 91}, "at most 90"),
    ({"name": "ok", "start_time": f.later(2), "end_time": f.later(1)}, "later than the start"),
    ({"name": "ok", "group_id": 999}, "Group not found"),
    ({"name": "ok", "max_runs": 0}, "at least 1"),
])
def test_creation_limits_are_refused_and_nothing_is_saved(session: Session, marketer, data, message) -> None:
    with pytest.raises((Invalid, NotFound), match=message):
        svc.create_activity(session=session, actor=marketer, data=ActivityInput(**data))
    assert session.exec(select(func.count()).select_from(Activity)).one() == 0


def test_primary_campaign_selects_all_its_subs(session: Session, ws, marketer) -> None:
    primary = f.campaign(session, ws, "Double 11")
    subs = [f.campaign(session, ws, f"D11 {i}", primary) for i in range(3)]
    a = svc.create_activity(session=session, actor=marketer,
                            data=ActivityInput(name="A", campaign_ids=[primary.id]))
    from engine.models import ActivityCampaignLink
    linked = session.exec(select(ActivityCampaignLink.campaign_id)
                          .where(ActivityCampaignLink.activity_id == a.id)).all()
    assert sorted(linked) == sorted(s.id for s in subs)


def test_move_and_public(session: Session, ws, marketer) -> None:
    g = f.group(session, ws, "Target")
    a, b = f.activity(session, marketer), f.activity(session, marketer)
    svc.batch_move(session=session, actor=marketer, activity_ids=[a.id, b.id], group_id=g.id)
    assert a.group_id == b.group_id == g.id
    with pytest.raises(NotFound):
        svc.batch_move(session=session, actor=marketer, activity_ids=[a.id], group_id=12345)
    svc.set_public(session=session, actor=marketer, activity_id=a.id, public=True)
    assert a.is_public


@pytest.mark.parametrize("action", SERVICE_ACTIONS)
def test_manager_is_read_only(session: Session, ws, marketer, action) -> None:
    manager = f.user(session, ws, Role.MANAGER)
    activity = f.activity(session, marketer, status=S.IN_PROGRESS, public=True)
    before = snapshot(session)
    with pytest.raises(Forbidden, match="read-only"):
        call(action, session, manager, activity)
    assert snapshot(session) == before


@pytest.mark.parametrize("action", SERVICE_ACTIONS)
def test_marketer_cannot_change_someone_elses_public_activity(session: Session, ws, marketer, action) -> None:
    other = f.user(session, ws, Role.MARKETER)
    activity = f.activity(session, other, status=S.STOPPED, public=True)
    with pytest.raises(Forbidden, match="creator or an admin"):
        call(action, session, marketer, activity)


@pytest.mark.parametrize("action", SERVICE_ACTIONS)
def test_admin_may_change_anyones_private_activity(session: Session, ws, marketer, action) -> None:
    admin = f.user(session, ws, Role.ADMIN)
    activity = f.activity(session, marketer, status=S.STOPPED, public=False)
    if S.STOPPED in ACTIVITY_RULES[action].allowed_from:
        call(action, session, admin, activity)
    else:
        with pytest.raises(Conflict):
            call(action, session, admin, activity)


def test_private_activity_of_another_marketer_is_not_found(session: Session, ws, marketer) -> None:
    other = f.user(session, ws, Role.MARKETER)
    private = f.activity(session, other, status=S.STOPPED)
    for fn in (svc.get_activity, svc.copy_activity, svc.stop, svc.start, svc.delete_activity):
        with pytest.raises(NotFound):
            fn(session=session, actor=marketer, activity_id=private.id)


def test_other_workspace_is_invisible_even_to_admins(session: Session, marketer) -> None:
    other_ws = f.workspace(session)
    admin = f.user(session, other_ws, Role.ADMIN)
    public = f.activity(session, marketer, public=True)
    with pytest.raises(NotFound):
        svc.get_activity(session=session, actor=admin, activity_id=public.id)


def test_new_from_template_keeps_its_origin_and_a_copy_detaches(session: Session, marketer) -> None:
    from engine.flow.templates import get_template

    a = svc.create_from_template(session=session, actor=marketer, data=ActivityInput(name="Welcome"),
                                 template_key="new_member_first_order")
    assert a.template_key == "new_member_first_order"
    assert svc.current_flow(session=session, activity=a) == get_template("new_member_first_order").flow
    copy = svc.copy_activity(session=session, actor=marketer, activity_id=a.id)
    assert copy.template_key is None and svc.current_flow(session=session, activity=copy) == \
        svc.current_flow(session=session, activity=a)
    with pytest.raises(NotFound):
        svc.create_from_template(session=session, actor=marketer, data=ActivityInput(name="x"), template_key="nope")
