"""Who may see and do what. Every service goes through these, so no page can forget a check.

- admin: every activity of the workspace, every action.
- marketer: public activities and their own; changes only their own (may copy any visible one).
- manager: reads what a marketer would see plus nothing private of others; changes nothing.
- reviewer (seed 004): reads like a manager, plus every activity ever submitted for review (submitting shares
  it with the reviewers); approves and rejects requests to go live, and changes nothing else.
A private activity is visible only to its creator and admins, everywhere (lists, counts, search, versions,
records, charts). A normal task's carrier activity (`Activity.hidden`) is in no list; its task's details are
reached through the task (creator and admins).
"""

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlmodel import col

from engine.errors import Forbidden
from engine.models import Activity, Process, Role, User
from engine.status import READ_ACTIONS, REVIEW_ACTIONS, Action

REVIEWERS_ONLY = "Only an admin or a reviewer can approve or reject a request to go live."
REVIEWER_READS = "Reviewers read activities and decide requests to go live; ask a marketer or an admin to do this."

# actions that create something new from a visible activity, rather than changing it
_CREATE_FROM = frozenset({Action.COPY})


def visible_clause(actor: User) -> ColumnElement[bool]:
    """SQL filter for the activities `actor` may see (always scoped to the actor's workspace)."""
    same_ws = and_(col(Activity.workspace_id) == actor.workspace_id, col(Activity.hidden) == false())
    if actor.role == Role.ADMIN:
        return same_ws
    submitted = col(Activity.approval_status).is_not(None) if actor.role == Role.REVIEWER else false()
    return and_(same_ws, or_(col(Activity.is_public) == true(), col(Activity.owner_id) == actor.id, submitted))


def can_see(actor: User, activity: Activity) -> bool:
    if activity.workspace_id != actor.workspace_id:
        return False
    if actor.role == Role.REVIEWER and activity.approval_status is not None:
        return True
    return actor.role == Role.ADMIN or activity.is_public or activity.owner_id == actor.id


def role_refusal(actor: User, activity: Activity | None, action: Action) -> str | None:
    """None when the role/ownership allows `action`, else the message to show."""
    if action in READ_ACTIONS:
        return None
    if actor.role == Role.MANAGER:
        return "Managers have read-only access: ask a marketer or an admin to do this."
    if action in REVIEW_ACTIONS:
        return None if actor.role in (Role.ADMIN, Role.REVIEWER) else REVIEWERS_ONLY
    if actor.role == Role.REVIEWER:
        return REVIEWER_READS
    if actor.role == Role.ADMIN or action in _CREATE_FROM or activity is None:
        return None
    if activity.owner_id != actor.id:
        return "Only the activity's creator or an admin can do this."
    return None


def require(actor: User, activity: Activity | None, action: Action) -> None:
    reason = role_refusal(actor, activity, action)
    if reason:
        raise Forbidden(reason)


def require_writer(actor: User) -> None:
    """Creating activities and managing groups: admins and marketers."""
    if actor.role == Role.MANAGER:
        raise Forbidden("Managers have read-only access: ask a marketer or an admin to do this.")
    if actor.role == Role.REVIEWER:
        raise Forbidden(REVIEWER_READS)


def can_write(actor: User) -> bool:
    """Admins and marketers create and change activities; managers and reviewers read."""
    return actor.role in (Role.ADMIN, Role.MARKETER)


# ---- reusable processes (engine/services/processes.py): a process follows its source activity's visibility
# when saved (public → the workspace; private → its creator and admins); renaming and deleting are for its
# creator and admins; managers read.


def process_visible_clause(actor: User) -> ColumnElement[bool]:
    same_ws = col(Process.workspace_id) == actor.workspace_id
    if actor.role == Role.ADMIN:
        return same_ws
    return and_(same_ws, or_(col(Process.is_public) == true(), col(Process.owner_id) == actor.id))


def can_see_process(actor: User, process: Process) -> bool:
    if process.workspace_id != actor.workspace_id:
        return False
    return actor.role == Role.ADMIN or process.is_public or process.owner_id == actor.id


def process_refusal(actor: User, process: Process) -> str | None:
    """None when `actor` may rename or delete `process`, else why not."""
    if actor.role == Role.MANAGER:
        return "Managers have read-only access: ask a marketer or an admin to do this."
    if actor.role == Role.REVIEWER:
        return REVIEWER_READS
    if actor.role != Role.ADMIN and process.owner_id != actor.id:
        return "Only the process's creator or an admin can rename or delete it."
    return None
