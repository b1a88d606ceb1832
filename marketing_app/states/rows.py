"""Turn service results into the plain, small dicts the pages keep in state (one page of rows, strings only).

Each activity row also carries, for every row action, why it is refused for this user ("" = allowed): the role
rule (engine.permissions.role_refusal) first, then the status machine (engine.status.why_not). The page enables
a button when its reason is empty and shows the reason as the disabled button's tooltip; no rule is written
here, only combined.
"""

from datetime import datetime

from engine.models import Activity, User
from engine.permissions import role_refusal
from engine.services.listing import ActivityRow
from engine.status import Action, ActivityStatus, ApprovalStatus, why_not

EMPTY = "—"

#: row-action key (used in element ids and state keys) -> the status-machine action
ROW_ACTIONS: dict[str, Action] = {
    "edit": Action.EDIT,
    "details": Action.DETAILS,
    "copy": Action.COPY,
    "pause": Action.PAUSE,
    "stop": Action.STOP,
    "resume": Action.RESUME,
    "start": Action.START,
    "modify": Action.MODIFY,
    "delete": Action.DELETE,
    "records": Action.EXECUTION_RECORDS,
    "move": Action.MOVE,
}


def format_time(value: datetime | None) -> str:
    """UTC, minute precision: what a marketer scans for in a list."""
    return value.strftime("%Y-%m-%d %H:%M") if value else EMPTY


def refusal(actor: User, activity: Activity, action: Action, approval_required: bool = False) -> str:
    """Why `actor` may not do `action` on `activity` now ("" when allowed): role first, then the machine's
    (status, approval status) under the workspace's approval setting."""
    return role_refusal(actor, activity, action) or why_not(
        ActivityStatus(activity.status), action, approval=activity.approval_status,
        approval_required=approval_required) or ""


def _as_activity(row: ActivityRow, actor: User) -> Activity:
    """The fields the rules read (owner, status, approval status), without another query."""
    return Activity(id=row.id, workspace_id=actor.workspace_id, name=row.name, owner_id=row.owner_id,
                    status=ActivityStatus(row.status), is_public=row.is_public,
                    approval_status=ApprovalStatus(row.approval_status) if row.approval_status else None)


def row_to_dict(row: ActivityRow, actor: User, approval_required: bool = False) -> dict[str, str]:
    activity = _as_activity(row, actor)
    public_action = Action.CANCEL_PUBLIC if row.is_public else Action.SET_PUBLIC
    out = {
        "id": str(row.id),
        "name": row.name,
        "description": row.description or "",
        "status": str(row.status),
        "status_label": row.status_label,
        "approval": row.approval_status,
        "approval_label": row.approval_label,
        "owner_name": row.owner_name,
        "group_name": row.group_name or "Ungrouped",
        "visibility": "Public" if row.is_public else "Private",
        "campaigns": ", ".join(row.campaigns) or EMPTY,
        "version": f"V{row.version_number}" if row.version_number else EMPTY,
        "schedule": row.schedule,
        "next_run": format_time(row.next_run) if row.next_run else "",
        "process": (row.process_name + ("" if row.process_id else " (deleted)")) if row.process_name else "",
        "start_time": format_time(row.start_time),
        "end_time": format_time(row.end_time),
        "created_at": format_time(row.created_at),
        "updated_at": format_time(row.updated_at),
        "public_label": "Cancel Public" if row.is_public else "Set Public",
        "deny_public": refusal(actor, activity, public_action, approval_required),
    }
    for key, action in ROW_ACTIONS.items():
        out[f"deny_{key}"] = refusal(actor, activity, action, approval_required)
    return out
