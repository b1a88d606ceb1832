"""Manage Versions: the version history of an activity and, for a chosen version, view / copy / stop / start."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from engine.errors import Conflict, NotFound
from engine.models import Activity, ActivityVersion, ExecutionRecord, User, row_id
from engine.permissions import role_refusal
from engine.services import activities
from engine.shared.in_progress import gate
from engine.status import Action, ActivityStatus, RecordStatus, RoundRole, VersionState, why_not


class VersionRow(BaseModel):
    id: int
    number: int
    state: str  # draft / published
    status_label: str  # Manage Versions: Draft, the live version's activity status, Draining or Superseded
    author_name: str
    created_at: datetime
    published_at: datetime | None
    is_live: bool
    is_current: bool


def _label(activity: Activity, version: ActivityVersion, draining: set[int]) -> str:
    """Draft; the live version: the activity's status; an older version whose round still runs after a
    republish: Draining (its customers finish on it; nobody new enters it); else Superseded."""
    if version.state == VersionState.DRAFT:
        return "Draft"
    if version.id == activity.live_version_id:
        return ActivityStatus(activity.status).label
    return RoundRole.DRAINING.label if version.id in draining else "Superseded"


def draining_versions(session: Session, activity: Activity) -> set[int]:
    """Versions other than the live one with a round still In Progress (the records drawer's draining rounds)."""
    return {int(v) for v in session.exec(select(ExecutionRecord.version_id).where(
        ExecutionRecord.activity_id == activity.id, ExecutionRecord.status == RecordStatus.IN_PROGRESS,
        ExecutionRecord.version_id != activity.live_version_id, col(ExecutionRecord.is_test).is_(False))).all()}


def list_versions(*, session: Session, actor: User, activity_id: int) -> list[VersionRow]:
    activity = activities.get_activity(session=session, actor=actor, activity_id=activity_id)
    found = session.exec(
        select(ActivityVersion, User.display_name)
        .join(User, col(User.id) == ActivityVersion.author_id)
        .where(ActivityVersion.activity_id == activity.id)
        .order_by(col(ActivityVersion.number).desc())
    ).all()
    draining = draining_versions(session, activity)
    return [
        VersionRow(id=row_id(v), number=v.number, state=v.state, status_label=_label(activity, v, draining),
                   author_name=author,
                   created_at=v.created_at, published_at=v.published_at,
                   is_live=v.id == activity.live_version_id, is_current=v.id == activity.current_version_id)
        for v, author in found
    ]


def _version(session: Session, actor: User, version_id: int) -> tuple[Activity, ActivityVersion]:
    version = session.get(ActivityVersion, version_id)
    if version is None:
        raise NotFound("Version not found.")
    activity = activities.get_activity(session=session, actor=actor, activity_id=version.activity_id)
    return activity, version


def view_version(*, session: Session, actor: User, version_id: int) -> dict[str, Any]:
    """The flow of a version (read-only canvas)."""
    _, version = _version(session, actor, version_id)
    return dict(version.flow)


def copy_version(*, session: Session, actor: User, version_id: int) -> Activity:
    activity, version = _version(session, actor, version_id)
    return activities.copy_activity(session=session, actor=actor, activity_id=row_id(activity),
                                    version_id=row_id(version))


def _version_rule(activity: Activity, number: int, *, live: bool, state: str, action: Action) -> str | None:
    """The version's own rule for Stop / Start (after role and status): only the running version stops; only a
    published version starts."""
    if action == Action.STOP and not live:
        return (f"Version {number} is not the running version of “{activity.name}” (a round still draining on "
                "it stops from Execution Records).")
    if action == Action.START and state != VersionState.PUBLISHED:
        return f"Version {number} is a draft: publish it instead of starting it."
    return None


def version_refusal(*, actor: User, activity: Activity, row: VersionRow, action: Action) -> str | None:
    """Why Stop or Start of the version in `row` is refused for `actor` now (None: allowed): the role, the status
    machine, then the version's own rule — what stop_version / start_version would answer, for the drawer's
    buttons and their tooltips."""
    return (role_refusal(actor, activity, action) or why_not(ActivityStatus(activity.status), action,
                                                             **gate(activity))
            or _version_rule(activity, row.number, live=row.is_live, state=row.state, action=action))


def stop_version(*, session: Session, actor: User, version_id: int) -> Activity:
    """Stop the activity if this version is the one running."""
    activity, version = _version(session, actor, version_id)
    reason = _version_rule(activity, version.number, live=version.id == activity.live_version_id,
                           state=version.state, action=Action.STOP)
    if reason:
        raise Conflict(reason)
    return activities.stop(session=session, actor=actor, activity_id=row_id(activity))


def start_version(*, session: Session, actor: User, version_id: int) -> Activity:
    """Start a Stopped activity on this (published) version, from its first component."""
    activity, version = _version(session, actor, version_id)
    return activities.start(session=session, actor=actor, activity_id=row_id(activity), version_id=row_id(version))
