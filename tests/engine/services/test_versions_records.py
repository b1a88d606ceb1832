"""Manage Versions and Execution Records services."""

import pytest
from sqlmodel import Session, select

from engine.errors import Conflict, Forbidden
from engine.models import ExecutionRecord, Role, Schedule, Workspace
from engine.models.record import CROWD_DATA_FAILURE
from engine.services import activities as svc
from engine.services import records, versions
from engine.status import Action, ActivityStatus, RecordStatus
from tests import factories as f

S = ActivityStatus


@pytest.fixture
def marketer(session: Session):
    return f.user(session, f.workspace(session), Role.MARKETER)


def test_version_history_view_copy_stop_start(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT, name="Promo")
    svc.publish(session=session, actor=marketer, activity_id=activity.id)
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id, flow=f.valid_flow())
    rows = versions.list_versions(session=session, actor=marketer, activity_id=activity.id)
    assert [(r.number, r.status_label, r.is_live, r.is_current) for r in rows] == [
        (2, "Draft", False, True), (1, "In Progress", True, False)]
    v1, v2 = rows[1], rows[0]
    assert versions.view_version(session=session, actor=marketer, version_id=v1.id) == f.valid_flow()
    with pytest.raises(Conflict, match="not the running version"):
        versions.stop_version(session=session, actor=marketer, version_id=v2.id)
    versions.stop_version(session=session, actor=marketer, version_id=v1.id)
    assert activity.status == S.STOPPED
    with pytest.raises(Conflict, match="draft"):
        versions.start_version(session=session, actor=marketer, version_id=v2.id)
    versions.start_version(session=session, actor=marketer, version_id=v1.id)
    assert activity.status == S.IN_PROGRESS
    copy = versions.copy_version(session=session, actor=marketer, version_id=v1.id)
    assert copy.name == "Promo-Copy" and copy.status == S.DRAFT


def test_records_filter_and_stop_of_a_one_time_activity_stops_it(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT)
    svc.publish(session=session, actor=marketer, activity_id=activity.id)
    rows = records.list_records(session=session, actor=marketer, activity_id=activity.id, status="in_progress")
    assert len(rows) == 1 and rows[0].can_stop
    records.stop_record(session=session, actor=marketer, record_id=rows[0].id)
    assert activity.status == S.STOPPED
    assert records.list_records(session=session, actor=marketer, activity_id=activity.id, status="in_progress") == []
    with pytest.raises(Conflict):
        records.stop_record(session=session, actor=marketer, record_id=rows[0].id)


def test_stopping_one_round_of_a_periodic_activity_keeps_it_running(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT)
    activity.schedule = Schedule.DAILY
    svc.publish(session=session, actor=marketer, activity_id=activity.id)
    record = session.exec(select(ExecutionRecord)).one()
    records.stop_record(session=session, actor=marketer, record_id=record.id)
    assert record.status == RecordStatus.STOPPED and activity.status == S.IN_PROGRESS


def _failed_round(session: Session, activity, kind: str | None = CROWD_DATA_FAILURE) -> ExecutionRecord:
    record = ExecutionRecord(activity_id=activity.id, version_id=activity.live_version_id, number=1,
                             status=RecordStatus.ABNORMAL_END, trigger="publish", failure_kind=kind,
                             failure_reason="Failed to obtain crowd data")
    session.add(record)
    session.flush()
    return record


def test_rerun_after_crowd_failure_is_not_counted_and_ignores_the_window(session: Session, marketer) -> None:
    from datetime import timedelta

    from engine import clock
    activity = f.activity(session, marketer, status=S.ABNORMAL_END, max_runs=1, runs_used=1,
                          end_time=clock.now() - timedelta(days=1))
    failed = _failed_round(session, activity)
    rerun = records.rerun_record(session=session, actor=marketer, record_id=failed.id)
    assert rerun.trigger == "rerun" and rerun.rerun_of_id == failed.id and rerun.number == 2
    assert activity.status == S.IN_PROGRESS and activity.runs_used == 1


def test_rerun_waits_for_the_round_in_progress(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.IN_PROGRESS)
    failed = _failed_round(session, activity)
    session.add(ExecutionRecord(activity_id=activity.id, version_id=activity.live_version_id, number=2,
                                status=RecordStatus.IN_PROGRESS, trigger="schedule"))
    session.flush()
    result = records.rerun_record(session=session, actor=marketer, record_id=failed.id)
    assert result.id == failed.id and result.rerun_pending
    with pytest.raises(Conflict, match="Already queued"):
        records.rerun_record(session=session, actor=marketer, record_id=failed.id)


def test_rerun_refused_for_other_failures_and_for_managers(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.ABNORMAL_END, public=True)
    component_failure = _failed_round(session, activity, kind="component")
    with pytest.raises(Conflict, match="crowd data"):
        records.rerun_record(session=session, actor=marketer, record_id=component_failure.id)
    manager = f.user(session, session.get(Workspace, marketer.workspace_id), Role.MANAGER)
    with pytest.raises(Forbidden):
        records.rerun_record(session=session, actor=manager, record_id=component_failure.id)


def test_version_refusal_gives_what_stop_and_start_of_a_version_would_answer(session: Session, marketer) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT, name="Promo")
    svc.publish(session=session, actor=marketer, activity_id=activity.id)
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id, flow=f.valid_flow())
    draft, live = versions.list_versions(session=session, actor=marketer, activity_id=activity.id)

    def why(row, action):
        return versions.version_refusal(actor=marketer, activity=activity, row=row, action=action)

    assert why(live, Action.STOP) is None
    assert "not the running version" in (why(draft, Action.STOP) or "")
    with pytest.raises(Conflict, match="not the running version"):
        versions.stop_version(session=session, actor=marketer, version_id=draft.id)
    assert "Only a Stopped activity" in (why(live, Action.START) or "")  # the status machine speaks first
    versions.stop_version(session=session, actor=marketer, version_id=live.id)
    assert why(live, Action.START) is None
    assert "draft" in (why(draft, Action.START) or "")
    other = f.user(session, session.get(Workspace, activity.workspace_id), Role.MARKETER)
    assert why(live, Action.START) != versions.version_refusal(actor=other, activity=activity, row=live,
                                                               action=Action.START)
