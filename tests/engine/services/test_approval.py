"""Seed 004 through the services, on the real migrated database: every (status, approval status) × approval
action with the setting on, compared with the expected matrix of tests/engine/test_approval_status.py; the
roles; Submission Failed; the history; the reviewer's queue and diff; and that a refusal changes nothing."""

import pytest
from sqlmodel import Session, func, select

from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import (
    Activity,
    ActivityTester,
    ActivityVersion,
    ApprovalEvent,
    ApprovalRequest,
    Customer,
    ExecutionRecord,
    RecordTrigger,
    Role,
    Workspace,
)
from engine.services import activities as acts
from engine.services import approval as svc
from engine.services.listing import ListQuery, list_activities
from engine.status import Action, ActivityStatus, ApprovalStatus, RecordStatus, VersionState
from tests import factories as f
from tests.engine.test_approval_status import expected

S = ActivityStatus
A = ApprovalStatus


@pytest.fixture
def ws(session: Session) -> Workspace:
    return f.workspace(session)


@pytest.fixture
def marketer(session: Session, ws):
    return f.user(session, ws, Role.MARKETER)


@pytest.fixture
def reviewer(session: Session, ws):
    return f.user(session, ws, Role.REVIEWER)


def require_approval(session: Session, ws: Workspace) -> None:
    ws.approval_required = True
    session.add(ws)
    session.flush()


def customer(session: Session, ws: Workspace, qaid: str) -> Customer:
    c = Customer(workspace_id=ws.id, qaid=qaid, name=qaid, phone="+8613800000000")
    session.add(c)
    session.flush()
    return c


def snapshot(session: Session) -> list[tuple]:
    """Everything a refused call must leave untouched."""
    session.expire_all()
    rows = [*session.exec(select(Activity).order_by(Activity.id)), *session.exec(select(ActivityVersion)),
            *session.exec(select(ExecutionRecord)), *session.exec(select(ApprovalRequest)),
            *session.exec(select(ApprovalEvent)), *session.exec(select(ActivityTester))]
    return [tuple(sorted(r.model_dump().items(), key=lambda kv: kv[0])) for r in rows]


def prepared(session: Session, ws: Workspace, owner, status: S, approval: A | None) -> Activity:
    """An activity in (status, approval) that meets every precondition but the machine's: a tester, a tested
    current version that is not the live one, and — under review — the owner's open request."""
    activity = f.activity(session, owner, status=status)
    if status == S.TESTING:  # never live: its first version is still a draft
        first = session.get(ActivityVersion, activity.current_version_id)
        first.state, first.published_at, activity.live_version_id = VersionState.DRAFT, None, None
        session.add(first)
    elif activity.live_version_id is not None:
        draft = ActivityVersion(activity_id=activity.id, number=2, flow=f.valid_flow(), author_id=owner.id)
        session.add(draft)
        session.flush()
        activity.current_version_id = draft.id
    session.add(ActivityTester(activity_id=activity.id, customer_id=customer(session, ws, f"T{activity.id}").id,
                               added_by=owner.id))
    session.add(ExecutionRecord(activity_id=activity.id, version_id=activity.current_version_id, number=1,
                                status=RecordStatus.COMPLETED, trigger=RecordTrigger.TEST, is_test=True))
    activity.approval_status = approval
    session.add(activity)
    session.flush()
    if approval == A.UNDER_REVIEW:
        session.add(ApprovalRequest(workspace_id=ws.id, activity_id=activity.id, version_id=activity.current_version_id,
                                    base_version_id=activity.live_version_id, requested_by=owner.id))
        session.flush()
    return activity


ACTIONS = [Action.TEST, Action.REQUEST_LIVE, Action.WITHDRAW, Action.APPROVE, Action.REJECT, Action.FINISH]


def call(action: Action, session: Session, owner, reviewer, activity: Activity) -> None:
    kw = {"session": session, "activity_id": activity.id}
    {
        Action.TEST: lambda: svc.run_test(**kw, actor=owner),
        Action.REQUEST_LIVE: lambda: svc.request_live(**kw, actor=owner),
        Action.WITHDRAW: lambda: svc.withdraw(**kw, actor=owner),
        Action.APPROVE: lambda: svc.approve(**kw, actor=reviewer),
        Action.REJECT: lambda: svc.reject(**kw, actor=reviewer, comment="Not yet"),
        Action.FINISH: lambda: svc.finish(**kw, actor=owner),
    }[action]()


@pytest.mark.parametrize("approval", [None, *A])
@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_status_approval_and_action_through_the_services(
        session: Session, ws, marketer, reviewer, action: Action, status: S, approval: A | None) -> None:
    require_approval(session, ws)
    activity = prepared(session, ws, marketer, status, approval)
    activity.is_public = True  # the reviewer sees it whatever its approval status: only the machine refuses
    session.flush()
    want = expected(action, status, approval, True)
    before = snapshot(session)
    if want is None:
        with pytest.raises(Conflict) as err, session.begin_nested():
            call(action, session, marketer, reviewer, activity)
        assert status.label in err.value.message
        assert snapshot(session) == before
        return
    call(action, session, marketer, reviewer, activity)
    session.flush()
    session.refresh(activity)
    assert (activity.status, activity.approval_status) == want


def test_the_whole_workflow_with_history(session: Session, ws, marketer, reviewer) -> None:
    require_approval(session, ws)
    activity = f.activity(session, marketer, status=S.DRAFT)
    with pytest.raises(Conflict, match="requires approval"):
        acts.publish(session=session, actor=marketer, activity_id=activity.id)
    with pytest.raises(Invalid, match="at least one tester"):
        svc.run_test(session=session, actor=marketer, activity_id=activity.id)
    customer(session, ws, "Q1")
    with pytest.raises(NotFound, match="No customer"):
        svc.add_tester(session=session, actor=marketer, activity_id=activity.id, qaid="nobody")
    svc.add_tester(session=session, actor=marketer, activity_id=activity.id, qaid=" Q1 ")
    with pytest.raises(Conflict, match="already a tester"):
        svc.add_tester(session=session, actor=marketer, activity_id=activity.id, qaid="Q1")
    assert [t.qaid for t in svc.list_testers(session=session, actor=marketer, activity_id=activity.id)] == ["Q1"]
    with pytest.raises(Conflict, match="Only a tested activity"):
        svc.request_live(session=session, actor=marketer, activity_id=activity.id)

    test = svc.run_test(session=session, actor=marketer, activity_id=activity.id)
    assert activity.status == S.TESTING and test.is_test and test.trigger == RecordTrigger.TEST
    assert activity.runs_used == 0 and activity.live_version_id is None

    svc.request_live(session=session, actor=marketer, activity_id=activity.id)
    assert activity.approval_status == A.UNDER_REVIEW
    with pytest.raises(Conflict, match="under review"):
        acts.save_draft(session=session, actor=marketer, activity_id=activity.id)
    with pytest.raises(Invalid, match="comment is required"):
        svc.reject(session=session, actor=reviewer, activity_id=activity.id, comment="  ")
    svc.reject(session=session, actor=reviewer, activity_id=activity.id, comment="Say which store")
    assert (activity.status, activity.approval_status) == (S.TESTING, A.REJECTED)

    svc.request_live(session=session, actor=marketer, activity_id=activity.id)  # after a rejection: again
    svc.withdraw(session=session, actor=marketer, activity_id=activity.id)
    assert activity.approval_status == A.WITHDRAWN
    svc.request_live(session=session, actor=marketer, activity_id=activity.id)
    request = svc.approve(session=session, actor=reviewer, activity_id=activity.id, comment="Fine")
    assert request.status == A.APPROVED
    assert (activity.status, activity.approval_status) == (S.IN_PROGRESS, A.APPROVED)
    version = session.get(ActivityVersion, activity.live_version_id)
    assert version.state == VersionState.PUBLISHED
    real = session.exec(select(ExecutionRecord).where(ExecutionRecord.is_test == False)).all()  # noqa: E712
    assert [(r.trigger, r.status) for r in real] == [(RecordTrigger.PUBLISH, RecordStatus.IN_PROGRESS)]
    assert activity.runs_used == 1

    rows = svc.history(session=session, actor=marketer, activity_id=activity.id)
    who = {marketer.id: marketer.display_name, reviewer.id: reviewer.display_name}
    assert [(r.what, r.who, r.comment) for r in reversed(rows)] == [
        ("Requested", who[marketer.id], ""), ("Rejected", who[reviewer.id], "Say which store"),
        ("Requested", who[marketer.id], ""), ("Withdrawn", who[marketer.id], ""),
        ("Requested", who[marketer.id], ""), ("Approved", who[reviewer.id], "Fine"),
    ]

    # Running ↔ Paused, then Complete: it never runs again
    acts.pause(session=session, actor=marketer, activity_id=activity.id)
    svc.finish(session=session, actor=marketer, activity_id=activity.id)
    assert activity.status == S.COMPLETED
    assert session.get(ExecutionRecord, real[0].id).status == RecordStatus.STOPPED
    for refused in (lambda: acts.save_draft(session=session, actor=marketer, activity_id=activity.id),
                    lambda: acts.start(session=session, actor=marketer, activity_id=activity.id),
                    lambda: svc.run_test(session=session, actor=marketer, activity_id=activity.id)):
        with pytest.raises(Conflict):
            refused()
    copy = acts.copy_activity(session=session, actor=marketer, activity_id=activity.id)
    assert copy.status == S.DRAFT and copy.approval_status is None


def test_nobody_approves_their_own_request(session: Session, ws, marketer) -> None:
    require_approval(session, ws)
    admin, other_admin = f.user(session, ws, Role.ADMIN), f.user(session, ws, Role.ADMIN)
    activity = prepared(session, ws, admin, S.TESTING, None)
    svc.request_live(session=session, actor=admin, activity_id=activity.id)
    before = snapshot(session)
    for decide in (lambda: svc.approve(session=session, actor=admin, activity_id=activity.id),
                   lambda: svc.reject(session=session, actor=admin, activity_id=activity.id, comment="x")):
        with pytest.raises(Forbidden, match="own request"), session.begin_nested():
            decide()
    assert snapshot(session) == before
    with pytest.raises(Forbidden, match="Only the requester"):
        svc.withdraw(session=session, actor=other_admin, activity_id=activity.id)
    svc.approve(session=session, actor=other_admin, activity_id=activity.id)
    assert activity.status == S.IN_PROGRESS


@pytest.mark.parametrize("role", [Role.MARKETER, Role.MANAGER])
def test_only_admins_and_reviewers_decide(session: Session, ws, marketer, role: Role) -> None:
    require_approval(session, ws)
    other = f.user(session, ws, role)
    activity = prepared(session, ws, marketer, S.TESTING, None)
    activity.is_public = True
    svc.request_live(session=session, actor=marketer, activity_id=activity.id)
    with pytest.raises(Forbidden):
        svc.approve(session=session, actor=other, activity_id=activity.id)
    with pytest.raises(Forbidden):
        svc.review_queue(session=session, actor=other)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.REVIEWER])
def test_managers_and_reviewers_change_nothing_else(session: Session, ws, marketer, role: Role) -> None:
    require_approval(session, ws)
    reader = f.user(session, ws, role)
    activity = prepared(session, ws, marketer, S.TESTING, None)
    activity.is_public = True
    session.flush()
    before = snapshot(session)
    for attempt in (lambda: svc.run_test(session=session, actor=reader, activity_id=activity.id),
                    lambda: svc.request_live(session=session, actor=reader, activity_id=activity.id),
                    lambda: svc.add_tester(session=session, actor=reader, activity_id=activity.id, qaid="x"),
                    lambda: acts.save_draft(session=session, actor=reader, activity_id=activity.id),
                    lambda: svc.set_approval_required(session=session, actor=reader, required=False)):
        with pytest.raises(Forbidden), session.begin_nested():
            attempt()
    assert snapshot(session) == before
    assert svc.history(session=session, actor=reader, activity_id=activity.id) == []  # reads


def test_a_reviewer_sees_what_was_submitted_and_its_diff(session: Session, ws, marketer, reviewer) -> None:
    require_approval(session, ws)
    private = prepared(session, ws, marketer, S.TESTING, None)
    with pytest.raises(NotFound):
        svc.history(session=session, actor=reviewer, activity_id=private.id)
    svc.request_live(session=session, actor=marketer, activity_id=private.id)
    queue = svc.review_queue(session=session, actor=reviewer)
    assert [(q.activity_id, q.base_label, q.own) for q in queue] == [(private.id, "—", False)]
    assert "Added Text SMS (n2)" in queue[0].changes

    running = prepared(session, ws, marketer, S.IN_PROGRESS, A.APPROVED)
    draft = session.get(ActivityVersion, running.current_version_id)
    flow = f.valid_flow()
    flow["nodes"][1]["config"] = {"content": "Hello again"}
    draft.flow = flow
    session.add(draft)
    session.flush()
    svc.request_live(session=session, actor=marketer, activity_id=running.id)
    item = next(q for q in svc.review_queue(session=session, actor=reviewer) if q.activity_id == running.id)
    assert (item.base_label, item.version_label, item.changes) == ("V1", "V2", ["Changed Text SMS (n2): content"])
    svc.approve(session=session, actor=reviewer, activity_id=running.id)
    assert running.live_version_id == draft.id and running.status == S.IN_PROGRESS  # the new version took over


def test_flow_diff_lists_added_removed_changed_and_links() -> None:
    before = f.valid_flow()
    after = f.valid_flow()
    after["nodes"] = [after["nodes"][0], after["nodes"][2],
                      {"id": "n4", "type": "email", "config": {"subject": "Hi"}}]
    after["edges"] = [{"source": "n1", "branch": "out", "target": "n4"},
                      {"source": "n4", "branch": "out", "target": "n3"}]
    after["nodes"][0] = {**after["nodes"][0], "config": {"audience_id": 2}}
    assert svc.flow_diff(before, after) == [
        "Added Email (n4)", "Removed Text SMS (n2)", "Changed Target Audience (n1): audience_id",
        "Linked n1 → n4 (out)", "Linked n4 → n3 (out)", "Unlinked n1 → n2 (out)", "Unlinked n2 → n3 (out)",
    ]
    assert svc.flow_diff(before, before) == ["No change to the flow"]


def test_a_full_cap_is_submission_failed_with_the_reason(session: Session, ws, marketer, reviewer) -> None:
    ws.in_progress_cap = 1
    require_approval(session, ws)
    f.activity(session, marketer, status=S.IN_PROGRESS)
    activity = prepared(session, ws, marketer, S.TESTING, None)
    request = svc.request_live(session=session, actor=marketer, activity_id=activity.id)
    assert request.status == A.SUBMISSION_FAILED and "already in progress" in request.comment
    assert (activity.status, activity.approval_status) == (S.TESTING, A.SUBMISSION_FAILED)
    kinds = [e.kind for e in session.exec(select(ApprovalEvent).order_by(ApprovalEvent.id))]
    assert kinds == ["requested", "submission_failed"]

    ws.in_progress_cap = 2  # room when asked, full when decided
    svc.request_live(session=session, actor=marketer, activity_id=activity.id)
    f.activity(session, marketer, status=S.IN_PROGRESS)
    request = svc.approve(session=session, actor=reviewer, activity_id=activity.id)
    assert request.status == A.SUBMISSION_FAILED and activity.status == S.TESTING
    assert request.decided_by == reviewer.id
    rows = svc.history(session=session, actor=marketer, activity_id=activity.id)
    assert [r.what for r in rows[:2]] == ["Submission failed", "Approved"] and rows[0].who == "System"


def test_a_test_round_leaves_the_real_run_alone(session: Session, ws, marketer) -> None:
    activity = prepared(session, ws, marketer, S.IN_PROGRESS, None)
    runs = activity.runs_used
    record = svc.run_test(session=session, actor=marketer, activity_id=activity.id)
    assert activity.status == S.IN_PROGRESS and activity.runs_used == runs
    assert record.version_id == activity.current_version_id != activity.live_version_id
    assert [t.id for t in svc.test_rounds(session=session, actor=marketer, activity_id=activity.id)][0] == record.id


def test_only_an_admin_switches_the_setting(session: Session, ws, marketer) -> None:
    admin = f.user(session, ws, Role.ADMIN)
    with pytest.raises(Forbidden):
        svc.set_approval_required(session=session, actor=marketer, required=True)
    assert svc.set_approval_required(session=session, actor=admin, required=True).approval_required
    assert svc.approval_required(session=session, workspace_id=ws.id)
    assert session.exec(select(func.count()).select_from(Workspace).where(
        Workspace.approval_required == True)).one() == 1  # noqa: E712


def test_the_list_shows_and_filters_the_approval_status(session: Session, ws, marketer) -> None:
    require_approval(session, ws)
    asked = prepared(session, ws, marketer, S.TESTING, None)
    svc.request_live(session=session, actor=marketer, activity_id=asked.id)
    never = f.activity(session, marketer, status=S.DRAFT)

    def names(approval: str | None) -> list[tuple[int, str]]:
        page = list_activities(session=session, actor=marketer, query=ListQuery(approval=approval))
        return sorted((r.id, r.approval_label) for r in page.rows)

    assert names(None) == sorted([(asked.id, "Under Review"), (never.id, "N/A")])
    assert names("under_review") == [(asked.id, "Under Review")]
    assert names("none") == [(never.id, "N/A")]
    assert names("rejected") == []
    with pytest.raises(Invalid):
        names("maybe")


def test_deleting_an_activity_takes_its_requests_history_and_testers(session: Session, ws, marketer,
                                                                     reviewer) -> None:
    require_approval(session, ws)
    activity = prepared(session, ws, marketer, S.TESTING, None)
    svc.request_live(session=session, actor=marketer, activity_id=activity.id)
    svc.reject(session=session, actor=reviewer, activity_id=activity.id, comment="No")
    acts.delete_activity(session=session, actor=marketer, activity_id=activity.id)
    for table in (ApprovalRequest, ApprovalEvent, ActivityTester, Activity):
        assert session.exec(select(func.count()).select_from(table)).one() == 0
