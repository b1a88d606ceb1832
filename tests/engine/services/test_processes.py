"""Reusable processes (seed 002): saved only from a published version, without secrets, visible as the source
activity was, renamed / deleted by their creator and admins; activities made from one name it; the list searches
and filters by process, audience and status with correct paging."""

import copy

import pytest
from sqlmodel import Session, select

from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Activity, Process, Role, Schedule, VersionAudience, Workspace
from engine.services import activities as svc
from engine.services import local_time
from engine.services import processes as proc
from engine.services.activities import ActivityInput
from engine.services.canvas import canvas_view
from engine.services.listing import ListQuery, list_activities
from engine.status import Action, ActivityStatus, why_not
from tests import factories as f
from tests.engine.services.test_activities import snapshot

S = ActivityStatus


@pytest.fixture
def ws(session: Session) -> Workspace:
    return f.workspace(session)


@pytest.fixture
def marketer(session: Session, ws):
    return f.user(session, ws, Role.MARKETER)


def _published(session: Session, owner, **kw) -> Activity:
    activity = svc.create_activity(session=session, actor=owner, data=ActivityInput(name=kw.pop("name", "Source")),
                                   flow=f.valid_flow(), **kw)
    svc.publish(session=session, actor=owner, activity_id=activity.id)
    return activity


def test_only_a_published_version_is_saved(session: Session, marketer) -> None:
    draft = f.activity(session, marketer, status=S.DRAFT)
    before = snapshot(session)
    with pytest.raises(Conflict, match="Only a published flow can be saved as a process"):
        proc.save_process(session=session, actor=marketer, activity_id=draft.id, name="P")
    assert snapshot(session) == before and session.exec(select(Process)).first() is None
    assert "publish the activity first" in proc.save_refusal(session=session, actor=marketer, activity=draft)

    running = _published(session, marketer)
    # a draft waiting beside the live version: the process is the live (published) one
    edited = copy.deepcopy(f.valid_flow())
    edited["nodes"][1]["config"]["content"] = "draft text"
    svc.save_draft(session=session, actor=marketer, activity_id=running.id, flow=edited)
    with pytest.raises(Conflict, match="is a draft"):
        proc.save_process(session=session, actor=marketer, activity_id=running.id, name="P",
                          version_id=running.current_version_id)
    process = proc.save_process(session=session, actor=marketer, activity_id=running.id, name="Welcome flow",
                                description="register → SMS")
    assert process.flow["nodes"][1]["config"]["content"] == "Hi {name}"
    assert (process.source_activity_name, process.source_version_number) == ("Source", 1)


def test_secrets_are_not_saved(session: Session, marketer) -> None:
    flow = f.valid_flow()
    flow["nodes"].insert(2, {"id": "w", "type": "webhook", "position": {"x": 0, "y": 0},
                             "config": {"url": "https://crm.example.com/hook", "secret": "s3cret-value-123"}})
    flow["edges"] = [{"source": "n1", "branch": "out", "target": "n2"}, {"source": "n2", "branch": "out",
                                                                         "target": "w"},
                     {"source": "w", "branch": "out", "target": "n3"}]
    source = svc.create_activity(session=session, actor=marketer, data=ActivityInput(name="Hooked"), flow=flow)
    svc.publish(session=session, actor=marketer, activity_id=source.id)
    process = proc.save_process(session=session, actor=marketer, activity_id=source.id, name="Hooked process")
    webhook = next(n for n in process.flow["nodes"] if n["id"] == "w")
    assert webhook["config"]["secret"] == {"$secret": None}
    made = proc.create_from_process(session=session, actor=marketer, data=ActivityInput(name="From it"),
                                    process_id=process.id)
    flow_made = svc.current_flow(session=session, activity=made)
    assert next(n for n in flow_made["nodes"] if n["id"] == "w")["config"]["secret"] == {"$secret": None}


@pytest.mark.parametrize("role", [Role.MARKETER, Role.ADMIN, Role.MANAGER])
def test_visibility_follows_the_source_activity(session: Session, ws, marketer, role) -> None:
    other = f.user(session, ws, role)
    private = _published(session, marketer, name="Private")
    public = _published(session, marketer, name="Public", is_public=True)
    p_private = proc.save_process(session=session, actor=marketer, activity_id=private.id, name="From private")
    p_public = proc.save_process(session=session, actor=marketer, activity_id=public.id, name="From public")
    seen = {r.name for r in proc.list_processes(session=session, actor=other)}
    if role == Role.ADMIN:
        assert seen == {"From private", "From public"}
    else:
        assert seen == {"From public"}
        with pytest.raises(NotFound):
            proc.get_process(session=session, actor=other, process_id=p_private.id)
        with pytest.raises(NotFound):
            proc.create_from_process(session=session, actor=other, data=ActivityInput(name="x"),
                                     process_id=p_private.id)
    assert {name for _, name in proc.process_choices(session=session, actor=other)} == seen
    # rename / delete: the creator and admins; a manager never
    expected = {Role.ADMIN: None, Role.MARKETER: "creator or an admin", Role.MANAGER: "read-only"}[role]
    row = next(r for r in proc.list_processes(session=session, actor=other) if r.id == p_public.id)
    if expected is None:
        assert row.manage_why_not == ""
        proc.rename_process(session=session, actor=other, process_id=p_public.id, name="Renamed by admin")
    else:
        assert expected in row.manage_why_not
        before = snapshot(session)
        with pytest.raises(Forbidden, match=expected):
            proc.rename_process(session=session, actor=other, process_id=p_public.id, name="Mine now")
        with pytest.raises(Forbidden, match=expected):
            proc.delete_process(session=session, actor=other, process_id=p_public.id)
        assert snapshot(session) == before
    if role == Role.MANAGER:
        with pytest.raises(Forbidden):
            proc.save_process(session=session, actor=other, activity_id=public.id, name="Manager's")


def test_a_marketer_may_save_a_public_activity_of_someone_else(session: Session, ws, marketer) -> None:
    other = f.user(session, ws, Role.MARKETER)
    public = _published(session, marketer, name="Shared", is_public=True)
    process = proc.save_process(session=session, actor=other, activity_id=public.id, name="Theirs")
    assert (process.owner_id, process.is_public) == (other.id, True)


def test_names_are_checked(session: Session, marketer) -> None:
    source = _published(session, marketer)
    proc.save_process(session=session, actor=marketer, activity_id=source.id, name="Welcome")
    for name, message in [("", "Enter a process name"), ("x" * 61, "at most 60"), ("  welcome ", "already exists")]:
        with pytest.raises((Invalid, Conflict), match=message):
            proc.save_process(session=session, actor=marketer, activity_id=source.id, name=name)
    with pytest.raises(Invalid, match="at most 90"):
        proc.save_process(session=session, actor=marketer, activity_id=source.id, name="Other",
                          description="d" * 91)


def test_an_activity_names_its_process_through_rename_and_delete(session: Session, marketer) -> None:
    source = _published(session, marketer)
    process = proc.save_process(session=session, actor=marketer, activity_id=source.id, name="Welcome")
    made = proc.create_from_process(session=session, actor=marketer, data=ActivityInput(name="Made"),
                                    process_id=process.id)
    assert (made.process_id, made.process_name, made.status, made.is_public) == (process.id, "Welcome", S.DRAFT,
                                                                                  False)
    assert svc.current_flow(session=session, activity=made)["nodes"] == process.flow["nodes"]

    def row():
        page = list_activities(session=session, actor=marketer, query=ListQuery(search="Made"))
        return page.rows[0].process_id, page.rows[0].process_name

    assert row() == (process.id, "Welcome")
    proc.rename_process(session=session, actor=marketer, process_id=process.id, name="Welcome v2")
    assert row() == (process.id, "Welcome v2")
    proc.delete_process(session=session, actor=marketer, process_id=process.id)
    assert session.get(Process, process.id) is None
    assert row() == (None, "Welcome v2")  # the list says where it came from, and that it is gone
    # a copy is detached, as from a template
    copy_ = svc.copy_activity(session=session, actor=marketer, activity_id=made.id)
    assert (copy_.process_id, copy_.process_name) == (None, None)


def test_the_list_filters_by_process_audience_and_status_and_pages(session: Session, marketer) -> None:
    source = _published(session, marketer, name="Source")
    process = proc.save_process(session=session, actor=marketer, activity_id=source.id, name="Welcome")
    other = proc.save_process(session=session, actor=marketer, activity_id=source.id, name="Other")
    made = [proc.create_from_process(session=session, actor=marketer, data=ActivityInput(name=f"From {i:02d}"),
                                     process_id=process.id) for i in range(25)]
    proc.create_from_process(session=session, actor=marketer, data=ActivityInput(name="From other"),
                             process_id=other.id)
    svc.publish(session=session, actor=marketer, activity_id=made[0].id)

    def q(**kw) -> tuple[int, int, list[str]]:
        page = list_activities(session=session, actor=marketer, query=ListQuery(**kw))
        return page.total, page.pages, [r.name for r in page.rows]

    total, pages, names = q(process_id=process.id, page_size=10, page=3, sort="name", descending=False)
    assert (total, pages, names) == (25, 3, [f"From {i:02d}" for i in range(20, 25)])
    assert q(process_id=process.id, status=S.IN_PROGRESS.value)[2] == ["From 00"]
    assert q(process_id=process.id, search="from 1")[0] == 10
    assert q(process_id=other.id)[2] == ["From other"]
    # audience: the Target Audience of the current or the live version
    a1 = q(audience_id=1, page_size=100)
    assert a1[0] == 27  # the source and the 26 made from processes (all audience 1)
    moved = copy.deepcopy(f.valid_flow())
    moved["nodes"][0]["config"]["audience_id"] = 7
    svc.save_draft(session=session, actor=marketer, activity_id=made[1].id, flow=moved)
    svc.save_draft(session=session, actor=marketer, activity_id=made[0].id, flow=moved)  # V1 stays live (1)
    assert sorted(q(audience_id=7)[2]) == ["From 00", "From 01"]
    assert "From 01" not in q(audience_id=1, page_size=100)[2]
    assert "From 00" in q(audience_id=1, page_size=100)[2]
    assert q(audience_id=7, process_id=other.id)[0] == 0
    # deleting an activity takes its audience rows with it
    svc.delete_activity(session=session, actor=marketer, activity_id=made[1].id)
    assert q(audience_id=7)[2] == ["From 00"]
    linked = {v for v in session.exec(select(VersionAudience.version_id)).all()}
    assert made[1].current_version_id not in linked


def test_a_private_activity_made_from_a_process_stays_hidden_from_the_filter(session: Session, ws, marketer) -> None:
    other = f.user(session, ws, Role.MARKETER)
    source = _published(session, marketer, is_public=True)
    process = proc.save_process(session=session, actor=marketer, activity_id=source.id, name="Shared")
    proc.create_from_process(session=session, actor=marketer, data=ActivityInput(name="Mine"), process_id=process.id)
    assert list_activities(session=session, actor=other, query=ListQuery(process_id=process.id)).total == 0


def test_the_canvas_view_says_schedule_next_run_and_process(session: Session, marketer) -> None:
    running = f.activity(session, marketer, status=S.IN_PROGRESS)
    running.schedule, running.next_run_at = Schedule.DAILY, f.later(3)
    session.add(running)
    view = canvas_view(session=session, actor=marketer, activity_id=running.id)
    assert (view.schedule_label, view.schedule_why_not) == ("Daily", why_not(S.IN_PROGRESS, Action.SCHEDULE))
    assert view.next_run_label == local_time.format_local(running.next_run_at, "UTC")
    assert (view.process_why_not, view.process_version_label) == ("", "V1")
    draft = f.activity(session, marketer, status=S.DRAFT)
    draft_view = canvas_view(session=session, actor=marketer, activity_id=draft.id)
    assert (draft_view.schedule_why_not, draft_view.next_run_label) == ("", "")
    assert "publish the activity first" in draft_view.process_why_not
    process = proc.save_process(session=session, actor=marketer, activity_id=running.id, name="P")
    made = proc.create_from_process(session=session, actor=marketer, data=ActivityInput(name="M"),
                                    process_id=process.id)
    assert canvas_view(session=session, actor=marketer, activity_id=made.id).origin_process == "P"
    proc.delete_process(session=session, actor=marketer, process_id=process.id)
    assert canvas_view(session=session, actor=marketer, activity_id=made.id).origin_process == "P (deleted)"
