"""Seed 004: approval before going live. The workspace setting, testers and test rounds, requests to go live,
the reviewers' decisions, Complete, the history and the reviewer's queue.

Every transition is a row of `engine/status.py` (the task status and the approval status are the machine's two
coordinates, under the workspace's setting); these services check visibility, role, the machine and the
inputs first, then write, so a refusal leaves the database as it was. The one outcome that is saved although
the activity does not go live is Submission Failed (the cap is full, the end time passed): the request, its
failure and the reason are history, not a rollback.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists
from sqlmodel import Session, col, func, select

from engine import clock
from engine.components.registry import get_component
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.flow.validate import validate_flow
from engine.models import (
    Activity,
    ActivityTester,
    ActivityVersion,
    ApprovalEvent,
    ApprovalEventKind,
    ApprovalRequest,
    Customer,
    ExecutionRecord,
    RecordTrigger,
    Role,
    User,
    Workspace,
    row_id,
)
from engine.permissions import require, role_refusal, visible_clause
from engine.services.activities import _stop_records, _touch, _withdraw_reruns, get_activity, republish
from engine.shared.in_progress import gate, new_record, require_capacity, requires_approval
from engine.shared.staff import staff_customer, sync_staff_testers
from engine.status import (
    Action,
    ActivityStatus,
    ApprovalStatus,
    RecordStatus,
    StatusError,
    VersionState,
    approval_after,
    approval_label,
    transition,
    why_not,
)

COMMENT_MAX = 500
TESTERS_MAX = 50


# ---------------------------------------------------------------- the workspace setting


def approval_required(*, session: Session, workspace_id: int) -> bool:
    workspace = session.get(Workspace, workspace_id)
    return bool(workspace and workspace.approval_required)


def set_approval_required(*, session: Session, actor: User, required: bool) -> Workspace:
    """Only an admin switches it. Switching it off leaves requests under review to be decided or withdrawn."""
    if actor.role != Role.ADMIN:
        raise Forbidden("Only an admin can change whether activities need approval to go live.")
    workspace = session.get(Workspace, actor.workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found.")
    workspace.approval_required = required
    session.add(workspace)
    session.flush()
    return workspace


def _check(activity: Activity, action: Action) -> tuple[ActivityStatus, ApprovalStatus | None]:
    """The machine's (status, approval) after `action`, or a Conflict naming the activity."""
    try:
        status = transition(activity.status, action, **gate(activity))
        approval = approval_after(activity.status, action, **gate(activity))
    except StatusError as err:
        raise Conflict(f"“{activity.name}”: {err}") from err
    return status, approval


# ---------------------------------------------------------------- testers and test rounds


@dataclass(frozen=True)
class TesterView:
    id: int
    qaid: str  # "" for a staff tester
    name: str
    phone: str
    email: str
    staff: bool = False  # issue 14: a workspace user (their contact), not a customer


def list_testers(*, session: Session, actor: User, activity_id: int) -> list[TesterView]:
    """Customer testers and staff testers; a staff tester shows the user's current name and contact."""
    get_activity(session=session, actor=actor, activity_id=activity_id)
    rows = session.exec(select(ActivityTester, Customer, User).join(
        Customer, col(Customer.id) == ActivityTester.customer_id).join(
        User, col(User.id) == Customer.staff_user_id, isouter=True).where(
        ActivityTester.activity_id == activity_id).order_by(col(ActivityTester.id))).all()
    return [TesterView(id=row_id(t), qaid="", name=u.display_name, phone=u.phone or "", email=u.email or "",
                       staff=True) if u is not None else
            TesterView(id=row_id(t), qaid=c.qaid, name=c.name, phone=c.phone or "", email=c.email or "")
            for t, c, u in rows]


def _add(session: Session, actor: User, activity: Activity, customer: Customer, label: str) -> ActivityTester:
    if session.exec(select(ActivityTester.id).where(ActivityTester.activity_id == activity.id,
                                                    ActivityTester.customer_id == customer.id)).first():
        raise Conflict(f"“{label}” is already a tester.")
    count = session.exec(select(func.count()).select_from(ActivityTester).where(
        ActivityTester.activity_id == activity.id)).one()
    if count >= TESTERS_MAX:
        raise Conflict(f"An activity can have at most {TESTERS_MAX} testers.")
    tester = ActivityTester(activity_id=row_id(activity), customer_id=row_id(customer), added_by=row_id(actor))
    session.add(tester)
    session.flush()
    return tester


def add_tester(*, session: Session, actor: User, activity_id: int, qaid: str) -> ActivityTester:
    """A customer of the workspace, by QAID, whom the activity's test rounds reach (nobody else)."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.TEST)
    qaid = qaid.strip()
    if not qaid:
        raise Invalid("Enter the tester's QAID.")
    customer = session.exec(select(Customer).where(Customer.workspace_id == activity.workspace_id,
                                                   Customer.qaid == qaid)).first()
    if customer is None or customer.staff_user_id is not None:
        raise NotFound(f"No customer has the QAID “{qaid}”.")
    return _add(session, actor, activity, customer, qaid)


def _has_contact(user: User) -> bool:
    return bool(user.phone or user.email)


def add_staff_tester(*, session: Session, actor: User, activity_id: int, user_id: int) -> ActivityTester:
    """Issue 14: an active user of the workspace with a staff contact (phone or email, set in Settings →
    Users) as a tester; the test round reaches them through their hidden customer row (engine/shared/staff.py)."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.TEST)
    user = session.get(User, user_id)
    if user is None or user.workspace_id != activity.workspace_id or not user.active:
        raise NotFound("Choose an active user of this workspace.")
    if not _has_contact(user):
        raise Invalid(f"{user.display_name} has no phone or email: an admin adds one in Settings → Users.")
    existing = session.exec(select(Customer).where(Customer.staff_user_id == user.id)).first()
    if existing is not None and session.exec(select(ActivityTester.id).where(
            ActivityTester.activity_id == activity_id, ActivityTester.customer_id == existing.id)).first():
        raise Conflict(f"“{user.display_name}” is already a tester.")
    return _add(session, actor, activity, staff_customer(session, user), user.display_name)


@dataclass(frozen=True)
class StaffOption:
    user_id: int
    label: str  # "Name (phone / email)"


def staff_options(*, session: Session, actor: User, activity_id: int) -> list[StaffOption]:
    """The "Add staff" choices: the workspace's active users with a contact who are not testers yet."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    taken = set(session.exec(select(Customer.staff_user_id).join(
        ActivityTester, col(ActivityTester.customer_id) == Customer.id).where(
        ActivityTester.activity_id == activity_id, col(Customer.staff_user_id).is_not(None))).all())
    users = session.exec(select(User).where(User.workspace_id == activity.workspace_id, col(User.active).is_(True))
                         .order_by(func.lower(col(User.display_name)), col(User.id))).all()
    return [StaffOption(user_id=row_id(u), label=f"{u.display_name} ({' / '.join(x for x in (u.phone, u.email) if x)})")
            for u in users if _has_contact(u) and u.id not in taken]


def remove_tester(*, session: Session, actor: User, activity_id: int, tester_id: int) -> None:
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.TEST)
    tester = session.get(ActivityTester, tester_id)
    if tester is None or tester.activity_id != activity_id:
        raise NotFound("Tester not found.")
    session.delete(tester)
    session.flush()


def run_test(*, session: Session, actor: User, activity_id: int) -> ExecutionRecord:
    """Test / Retest: a test round of the current flow for the testers only (its sends are marked as tests, its
    counters are its own, the activity's real rounds, run count and status are untouched — a Draft becomes
    Testing)."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.TEST)
    next_status, _ = _check(activity, Action.TEST)
    if not session.exec(select(ActivityTester.id).where(ActivityTester.activity_id == activity_id)).first():
        raise Invalid("Add at least one tester (a customer's QAID or a staff contact) before testing.")
    version = session.get(ActivityVersion, activity.current_version_id)
    if version is None:
        raise Conflict(f"“{activity.name}” has no flow to test.")
    problems = validate_flow(version.flow)
    if problems:
        raise Invalid("The flow cannot be tested: " + " ".join(p.message for p in problems))
    last = session.exec(select(func.max(ExecutionRecord.number)).where(
        ExecutionRecord.activity_id == activity_id)).one() or 0
    sync_staff_testers(session, activity_id)  # staff testers are reached at their current contact
    record = ExecutionRecord(activity_id=activity_id, version_id=row_id(version), number=last + 1,
                             trigger=RecordTrigger.TEST, is_test=True)
    activity.status = next_status
    _touch(activity)
    session.add_all([record, activity])
    session.flush()
    return record


@dataclass(frozen=True)
class TestRound:
    id: int
    number: int
    version_label: str
    status_label: str
    started_at: datetime


def test_rounds(*, session: Session, actor: User, activity_id: int) -> list[TestRound]:
    """The activity's test records, newest first (the real Execution Records never list them)."""
    get_activity(session=session, actor=actor, activity_id=activity_id)
    rows = session.exec(select(ExecutionRecord, ActivityVersion.number).join(
        ActivityVersion, col(ActivityVersion.id) == ExecutionRecord.version_id).where(
        ExecutionRecord.activity_id == activity_id, col(ExecutionRecord.is_test).is_(True)).order_by(
        col(ExecutionRecord.id).desc())).all()
    return [TestRound(id=row_id(r), number=r.number, version_label=f"V{n}", status_label=RecordStatus(r.status).label,
                      started_at=r.started_at) for r, n in rows]


# ---------------------------------------------------------------- requests and decisions


def _open_request(session: Session, activity: Activity) -> ApprovalRequest | None:
    return session.exec(select(ApprovalRequest).where(
        ApprovalRequest.activity_id == activity.id, ApprovalRequest.status == ApprovalStatus.UNDER_REVIEW)
        .order_by(col(ApprovalRequest.id).desc())).first()


def _event(session: Session, request: ApprovalRequest, kind: ApprovalEventKind, actor: User | None,
           comment: str = "") -> None:
    session.add(ApprovalEvent(request_id=row_id(request), activity_id=request.activity_id,
                              actor_id=row_id(actor) if actor else None, kind=kind, comment=comment[:COMMENT_MAX]))


def _go_live_problem(session: Session, activity: Activity, status_after: ActivityStatus) -> str | None:
    """Why the activity cannot go live now (Submission Failed), None when it can. Reads only."""
    now = clock.now()
    if activity.end_time and activity.end_time <= now:
        return "The end time has already passed: set a later end time, then request again."
    if status_after == ActivityStatus.IN_PROGRESS and activity.status != ActivityStatus.IN_PROGRESS:
        try:
            require_capacity(session, activity)
        except Conflict as err:
            return err.message
    return None


def _status_after_approval(activity: Activity) -> ActivityStatus:
    """Where an approval would take the activity (asked also when the request is made, to see whether it could
    go live then)."""
    before_start = bool(activity.start_time and activity.start_time > clock.now())
    return transition(activity.status, Action.APPROVE, before_start=before_start,
                      approval=ApprovalStatus.UNDER_REVIEW, approval_required=True)


def request_live(*, session: Session, actor: User, activity_id: int) -> ApprovalRequest:
    """"Start" in the seed's table: ask an admin or a reviewer to let the tested current version go live. The
    version must have had a test round; its flow must be valid. When it could not go live now anyway (the
    in-progress cap is full, the end time passed) the request is saved as Submission Failed with the reason."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.REQUEST_LIVE)
    _check(activity, Action.REQUEST_LIVE)
    version = session.get(ActivityVersion, activity.current_version_id)
    if version is None:
        raise Conflict(f"“{activity.name}” has no flow.")
    if version.id == activity.live_version_id and version.state == VersionState.PUBLISHED:
        raise Conflict(f"“{activity.name}”: V{version.number} is already live; edit the flow to request a new "
                       "version.")
    tested = session.execute(select(exists().where(
        col(ExecutionRecord.activity_id) == activity_id, col(ExecutionRecord.is_test).is_(True),
        col(ExecutionRecord.version_id) == version.id))).scalar()
    if not tested:
        raise Conflict(f"“{activity.name}”: test V{version.number} on its testers before requesting to go live.")
    problems = validate_flow(version.flow)
    if problems:
        raise Invalid("The flow cannot go live: " + " ".join(p.message for p in problems))
    problem = _go_live_problem(session, activity, _status_after_approval(activity))
    request = ApprovalRequest(workspace_id=activity.workspace_id, activity_id=activity_id, version_id=row_id(version),
                              base_version_id=activity.live_version_id, requested_by=row_id(actor))
    session.add(request)
    session.flush()
    _event(session, request, ApprovalEventKind.REQUESTED, actor)
    activity.approval_status = ApprovalStatus.UNDER_REVIEW
    if problem:
        _fail(session, activity, request, problem)
    _touch(activity)
    session.add(activity)
    session.flush()
    return request


def _fail(session: Session, activity: Activity, request: ApprovalRequest, reason: str) -> None:
    """The system's SUBMISSION_FAIL row: the request ends Submission Failed, with the reason."""
    activity.approval_status = approval_after(activity.status, Action.SUBMISSION_FAIL, **gate(activity))
    request.status = ApprovalStatus.SUBMISSION_FAILED
    request.decided_at = clock.now()
    request.comment = reason[:COMMENT_MAX]
    _event(session, request, ApprovalEventKind.SUBMISSION_FAILED, None, reason)
    session.add_all([activity, request])


def withdraw(*, session: Session, actor: User, activity_id: int) -> ApprovalRequest:
    """The requester takes the request back (nothing goes live)."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.WITHDRAW)
    _, approval = _check(activity, Action.WITHDRAW)
    request = _open_request(session, activity)
    if request is None:
        raise Conflict(f"“{activity.name}” has no request under review.")
    if request.requested_by != actor.id:
        raise Forbidden("Only the requester can withdraw a request to go live.")
    request.status = ApprovalStatus.WITHDRAWN
    request.decided_by, request.decided_at = row_id(actor), clock.now()
    _event(session, request, ApprovalEventKind.WITHDRAWN, actor)
    activity.approval_status = approval
    _touch(activity)
    session.add_all([request, activity])
    session.flush()
    return request


def _decide(session: Session, actor: User, activity_id: int, action: Action) -> tuple[Activity, ApprovalRequest]:
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, action)
    request = _open_request(session, activity)
    if request is not None and request.requested_by == actor.id:
        raise Forbidden("Nobody approves or rejects their own request: another admin or a reviewer decides.")
    _check(activity, action)
    if request is None:
        raise Conflict(f"“{activity.name}” has no request under review.")
    return activity, request


def reject(*, session: Session, actor: User, activity_id: int, comment: str) -> ApprovalRequest:
    """Rejected, with the reviewer's comment (required: the requester must learn what to change)."""
    comment = comment.strip()
    if not comment:
        raise Invalid("Say why the request is rejected: the comment is required.")
    if len(comment) > COMMENT_MAX:
        raise Invalid(f"The comment can be at most {COMMENT_MAX} characters ({len(comment)} entered).")
    activity, request = _decide(session, actor, activity_id, Action.REJECT)
    _, approval = _check(activity, Action.REJECT)
    request.status = ApprovalStatus.REJECTED
    request.decided_by, request.decided_at, request.comment = row_id(actor), clock.now(), comment
    _event(session, request, ApprovalEventKind.REJECTED, actor, comment)
    activity.approval_status = approval
    _touch(activity)
    session.add_all([request, activity])
    session.flush()
    return request


def approve(*, session: Session, actor: User, activity_id: int, comment: str = "") -> ApprovalRequest:
    """Approved: the requested version is published as usual — In Progress now (a new round; a running
    activity's new version takes over as a republish), or Not Started until its start time. When it cannot go
    live (cap full, end time passed) the decision is kept and the request ends Submission Failed with the
    reason; the returned request's status says which."""
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise Invalid(f"The comment can be at most {COMMENT_MAX} characters ({len(comment)} entered).")
    activity, request = _decide(session, actor, activity_id, Action.APPROVE)
    next_status = _status_after_approval(activity)
    version = session.get(ActivityVersion, request.version_id)
    if version is None:
        raise NotFound("The requested version no longer exists.")
    request.decided_by, request.decided_at, request.comment = row_id(actor), clock.now(), comment
    _event(session, request, ApprovalEventKind.APPROVED, actor, comment)
    problem = _go_live_problem(session, activity, next_status)
    if problem:
        _fail(session, activity, request, problem)
        session.flush()
        return request
    now = clock.now()
    approval = approval_after(activity.status, Action.APPROVE, **gate(activity))
    request.status = ApprovalStatus.APPROVED
    version.state, version.published_at = VersionState.PUBLISHED, now
    activity.live_version_id, activity.published_at = version.id, now
    activity.current_version_id = version.id
    if activity.status == ActivityStatus.IN_PROGRESS and next_status == ActivityStatus.IN_PROGRESS:
        republish(session, activity)
    else:
        activity.status = next_status
        if next_status == ActivityStatus.IN_PROGRESS:
            new_record(session, activity, RecordTrigger.PUBLISH)
    activity.status = next_status
    activity.approval_status = approval
    _touch(activity)
    session.add_all([request, version, activity])
    session.flush()
    return request


def finish(*, session: Session, actor: User, activity_id: int) -> Activity:
    """"Complete" (seed 004): its rounds stop as with Stop, and a Completed activity never runs again."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.FINISH)
    next_status, _ = _check(activity, Action.FINISH)
    _stop_records(session, activity)
    _withdraw_reruns(session, activity)
    activity.status = next_status
    activity.next_run_at = None
    _touch(activity)
    session.add(activity)
    session.flush()
    return activity


# ---------------------------------------------------------------- history, queue, diff


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    who: str  # "System" for a Submission Failed found by the engine
    what: str  # Requested, Withdrawn, Approved, Rejected, Submission failed
    version_label: str
    comment: str


def history(*, session: Session, actor: User, activity_id: int) -> list[HistoryRow]:
    """Every request and decision on the activity, newest first (the details page)."""
    get_activity(session=session, actor=actor, activity_id=activity_id)
    rows = session.exec(select(ApprovalEvent, ApprovalRequest, ActivityVersion.number).join(
        ApprovalRequest, col(ApprovalRequest.id) == ApprovalEvent.request_id).join(
        ActivityVersion, col(ActivityVersion.id) == ApprovalRequest.version_id).where(
        ApprovalEvent.activity_id == activity_id).order_by(col(ApprovalEvent.id).desc())).all()
    names = _names(session, {e.actor_id for e, _, _ in rows if e.actor_id})
    return [HistoryRow(at=e.at, who=names.get(e.actor_id, "System") if e.actor_id else "System",
                       what=ApprovalEventKind(e.kind).label, version_label=f"V{n}", comment=e.comment)
            for e, _, n in rows]


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {row_id(u): u.display_name for u in session.exec(select(User).where(col(User.id).in_(ids)))}


def approval_hint(session: Session, activity: Activity) -> str:
    """Issue 14: what the canvas header's approval badge says on hover — the latest request's decision, who took
    it and the comment (a rejection's, a Submission Failed's reason)."""
    request = session.exec(select(ApprovalRequest).where(ApprovalRequest.activity_id == activity.id).order_by(
        col(ApprovalRequest.id).desc())).first()
    if request is None:
        return "Not requested yet: test it on its testers, then request to go live."
    names = _names(session, {i for i in (request.requested_by, request.decided_by) if i})
    status = ApprovalStatus(request.status)
    if status == ApprovalStatus.UNDER_REVIEW:
        return f"Under review, asked by {names.get(request.requested_by, '?')}."
    if status == ApprovalStatus.SUBMISSION_FAILED:
        return f"Submission failed: {request.comment}"
    who = names.get(request.decided_by or 0, "")
    text = f"{approval_label(status)}{' by ' + who if who else ''}"
    return f"{text}: {request.comment}" if request.comment else f"{text}."


@dataclass(frozen=True)
class QueueItem:
    request_id: int
    activity_id: int
    activity_name: str
    requester: str
    requested_at: datetime
    version_label: str
    base_label: str  # "—" for a first go-live
    changes: list[str]
    own: bool  # the actor's own request: another admin or reviewer decides


def review_queue(*, session: Session, actor: User) -> list[QueueItem]:
    """Requests under review the actor may decide (admins and reviewers), oldest first, each with its flow's
    changes against the version running when it was asked."""
    if actor.role not in (Role.ADMIN, Role.REVIEWER):
        raise Forbidden("Only admins and reviewers review requests to go live.")
    rows = session.exec(select(ApprovalRequest, Activity).join(
        Activity, col(Activity.id) == ApprovalRequest.activity_id).where(
        ApprovalRequest.workspace_id == actor.workspace_id,
        ApprovalRequest.status == ApprovalStatus.UNDER_REVIEW, visible_clause(actor)).order_by(
        col(ApprovalRequest.requested_at), col(ApprovalRequest.id))).all()
    names = _names(session, {r.requested_by for r, _ in rows})
    items: list[QueueItem] = []
    for request, activity in rows:
        version = session.get(ActivityVersion, request.version_id)
        base = session.get(ActivityVersion, request.base_version_id) if request.base_version_id else None
        items.append(QueueItem(
            request_id=row_id(request), activity_id=row_id(activity), activity_name=activity.name,
            requester=names.get(request.requested_by, "?"), requested_at=request.requested_at,
            version_label=f"V{version.number}" if version else "?", base_label=f"V{base.number}" if base else "—",
            changes=flow_diff(base.flow if base else None, version.flow if version else {}),
            own=request.requested_by == actor.id))
    return items


def _label(node: dict[str, Any]) -> str:
    try:
        kind = get_component(str(node.get("type"))).label
    except KeyError:
        kind = str(node.get("type"))
    return f"{kind} ({node.get('id')})"


def flow_diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """What a reviewer reads: components added, removed and changed (their settings), and links added and
    removed, against the running version (`before`; None: a first go-live, everything is new)."""
    old = {str(n["id"]): n for n in (before or {}).get("nodes") or []}
    new = {str(n["id"]): n for n in after.get("nodes") or []}
    lines = [f"Added {_label(new[i])}" for i in new if i not in old]
    lines += [f"Removed {_label(old[i])}" for i in old if i not in new]
    for i in new:
        if i in old and (old[i].get("type") != new[i].get("type") or
                         (old[i].get("config") or {}) != (new[i].get("config") or {})):
            keys = sorted({*(old[i].get("config") or {}), *(new[i].get("config") or {})} - {
                k for k in (old[i].get("config") or {}) if (old[i].get("config") or {}).get(k) ==
                (new[i].get("config") or {}).get(k)})
            lines.append(f"Changed {_label(new[i])}: {', '.join(keys) or 'type'}")

    def links(flow: dict[str, Any] | None) -> set[tuple[str, str, str]]:
        return {(str(e.get("source")), str(e.get("branch") or "out"), str(e.get("target")))
                for e in (flow or {}).get("edges") or []}

    old_links, new_links = links(before), links(after)
    if before is not None:
        lines += [f"Linked {s} → {t} ({b})" for s, b, t in sorted(new_links - old_links)]
        lines += [f"Unlinked {s} → {t} ({b})" for s, b, t in sorted(old_links - new_links)]
    return lines or ["No change to the flow"]


# ---------------------------------------------------------------- the details page's view


#: the details page's buttons (seed 004: retest, copy, edit, start = request to go live, complete) and the
#: reviewer's: key -> the machine's action
PAGE_ACTIONS: dict[str, Action] = {
    "test": Action.TEST, "request": Action.REQUEST_LIVE, "withdraw": Action.WITHDRAW, "finish": Action.FINISH,
    "edit": Action.SAVE_DRAFT, "copy": Action.COPY, "approve": Action.APPROVE, "reject": Action.REJECT,
}


@dataclass(frozen=True)
class ApprovalView:
    activity_id: int
    name: str
    status: str
    status_label: str
    approval: str  # "" = never asked
    approval_label: str
    approval_required: bool
    refusals: dict[str, str]  # PAGE_ACTIONS key -> why not ("" = allowed)
    test_label: str  # "Test", or "Retest" once Testing
    testers: list[TesterView]
    staff_options: list[StaffOption]  # issue 14: who "Add staff" offers
    tests: list[TestRound]
    history: list[HistoryRow]
    requester: str  # of the request under review ("" = none)


def action_refusal(*, session: Session, actor: User, activity: Activity, action: Action) -> str:
    """Why `actor` may not take `action` on `activity` now ("" = allowed): the role, the machine, then the
    request's own rule (only the requester withdraws; nobody decides their own request) — what the service would
    answer, for the buttons and their tooltips."""
    reason = role_refusal(actor, activity, action) or why_not(activity.status, action, **gate(activity))
    if reason:
        return reason
    if action in (Action.WITHDRAW, Action.APPROVE, Action.REJECT):
        request = _open_request(session, activity)
        own = request is not None and request.requested_by == actor.id
        if action == Action.WITHDRAW and not own:
            return "Only the requester can withdraw a request to go live."
        if action != Action.WITHDRAW and own:
            return "Nobody approves or rejects their own request: another admin or a reviewer decides."
    if action == Action.TEST and not session.exec(select(ActivityTester.id).where(
            ActivityTester.activity_id == activity.id)).first():
        return "Add at least one tester (a customer's QAID or a staff contact) before testing."
    return ""


def approval_view(*, session: Session, actor: User, activity_id: int) -> ApprovalView:
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    request = _open_request(session, activity)
    requester = _names(session, {request.requested_by}).get(request.requested_by, "") if request else ""
    return ApprovalView(
        activity_id=activity_id, name=activity.name, status=str(activity.status),
        status_label=ActivityStatus(activity.status).label, approval=activity.approval_status or "",
        approval_label=approval_label(activity.approval_status),
        approval_required=requires_approval(activity),
        refusals={key: action_refusal(session=session, actor=actor, activity=activity, action=action)
                  for key, action in PAGE_ACTIONS.items()},
        test_label="Retest" if activity.status == ActivityStatus.TESTING else "Test",
        testers=list_testers(session=session, actor=actor, activity_id=activity_id),
        staff_options=staff_options(session=session, actor=actor, activity_id=activity_id),
        tests=test_rounds(session=session, actor=actor, activity_id=activity_id),
        history=history(session=session, actor=actor, activity_id=activity_id), requester=requester)
