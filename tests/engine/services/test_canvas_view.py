"""engine.services.canvas.canvas_view: the one call behind the canvas page — which version is shown, read-only
and why, whether a save creates a new version (the decision save_draft itself follows), the buttons' refusals,
times in the workspace's zone, the template details."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from engine.errors import NotFound
from engine.flow.templates import TEMPLATES
from engine.models import ActivityVersion, Role, User, Workspace
from engine.services import activities as svc
from engine.services import preferences
from engine.services.canvas import TEMPLATE_HIDDEN_PREFERENCE, canvas_view
from engine.status import ActivityStatus
from tests import factories as f

S = ActivityStatus


@pytest.fixture
def ws(session: Session) -> Workspace:
    return f.workspace(session)


@pytest.fixture
def marketer(session: Session, ws: Workspace) -> User:
    return f.user(session, ws, Role.MARKETER)


def version_count(session: Session, activity_id: int) -> int:
    return len(session.exec(select(ActivityVersion).where(ActivityVersion.activity_id == activity_id)).all())


def test_a_draft_is_edited_in_place(session: Session, marketer: User) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT, name="Spring")
    view = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert not view.read_only and view.execution is None
    assert (view.name, view.status, view.version_label, view.version_note) == (
        "Spring", "draft", "V1", "current version")
    assert not view.saving_creates_version and view.editing_note == ""
    assert (view.save_why_not, view.publish_why_not) == ("", "")
    assert [(v.label, v.current, v.shown) for v in view.versions] == [("V1", True, True)]
    assert view.flow == f.valid_flow() and (view.start_label, view.end_label) == ("on publish", "until stopped")
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id, flow=f.valid_flow())
    assert version_count(session, activity.id) == 1


@pytest.mark.parametrize(("status", "note"), [
    (S.IN_PROGRESS, "Saving creates V2; V1 keeps running until you publish."),
    (S.STOPPED, "Saving creates V2; V1 stays as it was."),
    (S.COMPLETED, "Saving creates V2; V1 stays as it was."),
])
def test_saving_an_executed_activity_creates_one_version_as_the_view_says(session: Session, marketer: User,
                                                                          status: ActivityStatus,
                                                                          note: str) -> None:
    activity = f.activity(session, marketer, status=status)
    view = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert view.saving_creates_version and view.editing_note == note
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id, flow=f.valid_flow())
    assert version_count(session, activity.id) == 2
    after = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert not after.saving_creates_version and after.editing_note == "" and after.version_label == "V2"
    if status == S.IN_PROGRESS:  # the published version keeps running while the draft waits
        assert after.version_note == "current version, a draft · V1 is running"
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id, flow=f.valid_flow())
    assert version_count(session, activity.id) == 2  # further saves update that draft


def test_a_not_started_activity_is_edited_in_place(session: Session, marketer: User) -> None:
    activity = f.activity(session, marketer, status=S.NOT_STARTED, start_time=f.later(24))
    view = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert not view.read_only and not view.saving_creates_version
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id, flow=f.valid_flow())
    assert version_count(session, activity.id) == 1


def test_read_only_for_roles_past_versions_rounds_and_details(session: Session, ws: Workspace,
                                                              marketer: User) -> None:
    activity = f.activity(session, marketer, status=S.IN_PROGRESS, public=True)
    svc.save_draft(session=session, actor=marketer, activity_id=activity.id, flow=f.valid_flow())
    v1 = session.exec(select(ActivityVersion).where(ActivityVersion.activity_id == activity.id,
                                                    ActivityVersion.number == 1)).one()
    manager, other = f.user(session, ws, Role.MANAGER), f.user(session, ws, Role.MARKETER)

    as_manager = canvas_view(session=session, actor=manager, activity_id=activity.id)
    assert as_manager.read_only_reason.startswith("Managers have read-only access")
    assert as_manager.publish_why_not == as_manager.read_only_reason == as_manager.save_why_not
    assert as_manager.execution is not None and not as_manager.saving_creates_version
    assert as_manager.editing_note == ""
    assert canvas_view(session=session, actor=other, activity_id=activity.id).read_only_reason == (
        "Only the activity's creator or an admin can do this.")

    old = canvas_view(session=session, actor=marketer, activity_id=activity.id, version_id=v1.id)
    assert old.read_only_reason == "You are viewing V1. Open the current version to edit."
    assert old.version_label == "V1" and old.version_note == "in progress"
    assert [(v.label, v.current, v.shown) for v in old.versions] == [("V2", True, False), ("V1", False, True)]
    details = canvas_view(session=session, actor=marketer, activity_id=activity.id, mode="details")
    assert details.read_only_reason == "Details: the flow of the latest version, read-only."
    assert details.version_label == "V2" and details.execution is not None


def test_a_private_activity_of_someone_else_is_not_found(session: Session, ws: Workspace, marketer: User) -> None:
    activity = f.activity(session, marketer, status=S.DRAFT)
    with pytest.raises(NotFound):
        canvas_view(session=session, actor=f.user(session, ws, Role.MARKETER), activity_id=activity.id)
    with pytest.raises(NotFound):
        canvas_view(session=session, actor=marketer, activity_id=activity.id, version_id=10_000)


def test_times_are_shown_in_the_workspace_zone(session: Session, ws: Workspace, marketer: User) -> None:
    ws.time_zone = "Asia/Shanghai"
    session.add(ws)
    activity = f.activity(session, marketer, status=S.DRAFT, start_time=datetime(2031, 5, 1, 1, 30, tzinfo=UTC),
                          end_time=datetime(2031, 6, 1, 10, 0, tzinfo=UTC))
    view = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert (view.time_zone, view.start_label, view.end_label) == (
        "Asia/Shanghai", "2031-05-01 09:30", "2031-06-01 18:00")


def test_template_details_until_hidden(session: Session, marketer: User) -> None:
    template = TEMPLATES[0]
    activity = f.activity(session, marketer, status=S.DRAFT)
    activity.template_key = template.key
    session.add(activity)
    view = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert (view.template_key, view.template_name) == (template.key, template.name)
    preferences.set_preference(session=session, actor=marketer, key=TEMPLATE_HIDDEN_PREFERENCE, value=True)
    hidden = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert (hidden.template_key, hidden.template_name) == ("", template.name)
