"""The canvas page's view of one activity, in one call: what the header, the versions menu, the canvas and
the panel show, and what the user may do there.

The UI state only copies this object; every decision is made here, next to the rules it follows:
- which version is shown (the current one to edit; a version, a round or Details read-only, with the round's
  execution data from services.execution);
- read-only and why (role, a past version, Details);
- whether saving creates a new version (`activities.saving_creates_version`, the function save_draft and
  publish use) and the note that says so;
- Save Draft / Publish refusals (role, then the status machine), the template details, the times in the
  workspace's zone.
"""

from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from engine.errors import Conflict, NotFound
from engine.flow.templates import get_template
from engine.models import ActivityVersion, User
from engine.permissions import role_refusal
from engine.services import activities, approval, execution, local_time, moderation, preferences, processes, versions
from engine.services.activities import ActivityInput
from engine.services.audiences import list_audiences
from engine.services.execution import ExecutionView
from engine.services.listing import next_run, schedule_label
from engine.shared.in_progress import gate, requires_approval
from engine.status import Action, ActivityStatus, VersionState, approval_label, why_not

#: the user preference "Don't show again" of the template details window
TEMPLATE_HIDDEN_PREFERENCE = "canvas.template_details.hidden"
NO_START = "on publish"
NO_END = "until stopped"


class CanvasVersion(BaseModel):
    """One entry of the header's version menu."""

    id: int
    label: str  # "V3"
    note: str  # "Draft · Ann · 2026-12-01 09:30"
    current: bool
    shown: bool


class CanvasView(BaseModel):
    activity_id: int
    name: str
    status: str
    status_label: str
    version_id: int
    version_label: str
    version_note: str  # "current version", "current version, a draft", "superseded · V2 is running"
    versions: list[CanvasVersion]
    flow: dict[str, Any]
    read_only_reason: str = ""  # "" = the flow is editable
    saving_creates_version: bool = False  # a save of the shown (editable) version makes a new version
    editing_note: str = ""  # says so: "Saving creates V4; V3 keeps running until you publish."
    save_why_not: str = ""
    publish_why_not: str = ""
    data: ActivityInput
    time_zone: str = "UTC"
    start_label: str = NO_START
    end_label: str = NO_END
    schedule_label: str = "Once"  # listing.schedule_label, as the list shows it
    next_run_label: str = ""  # the next round's start in the workspace's zone, "" when none is planned
    schedule_why_not: str = ""  # why the Basic information dialog cannot change the schedule ("" = it can)
    process_why_not: str = ""  # why "Save as process" is refused ("" = allowed)
    process_version_id: int | None = None  # the published version it saves: the one shown, else the live one
    process_version_label: str = ""  # "V3"
    origin_process: str = ""  # the process this activity was created from ("… (deleted)" when it is gone)
    audiences: list[tuple[int, str]] = []
    #: issue 14: the approval status beside the task status, when the workspace requires approval
    approval_required: bool = False
    approval: str = ""  # "" = never asked
    approval_label: str = "N/A"
    approval_hint: str = ""  # the latest decision and its comment (hover)
    template_key: str = ""  # the template the activity came from, "" when none or its details are hidden
    template_name: str = ""
    execution: ExecutionView | None = None  # a read-only canvas's round and its numbers
    banned_words: list[str] = []  # the workspace's moderation list: the canvas validates a flow as publish does

    @property
    def read_only(self) -> bool:
        return bool(self.read_only_reason)


def time_label(when: Any, time_zone: str, empty: str) -> str:
    """A stored time as the header shows it (the workspace's zone), or what its absence means."""
    return local_time.format_local(when, time_zone) or empty


def _note(shown: versions.VersionRow, live: versions.VersionRow | None, status: ActivityStatus) -> str:
    if shown.is_current:
        note = "current version" + (", a draft" if shown.state == VersionState.DRAFT
                                     and status != ActivityStatus.DRAFT else "")
    else:
        note = shown.status_label.lower()
    if live is not None and live.id != shown.id and status == ActivityStatus.IN_PROGRESS:
        note += f" · V{live.number} is running"
    return note


def canvas_view(*, session: Session, actor: User, activity_id: int, mode: str = "edit",
                version_id: int | None = None, record_id: int | None = None) -> CanvasView:
    """The canvas of `activity_id`: editable (mode "edit", the current version, a role that may edit) or
    read-only (mode "details", a `version_id`, a `record_id`, or a role that may not edit). NotFound when the
    activity, version or round is not visible to `actor`."""
    activity = activities.get_activity(session=session, actor=actor, activity_id=activity_id)
    rows = versions.list_versions(session=session, actor=actor, activity_id=activity_id)
    status = ActivityStatus(activity.status)
    refusal = role_refusal(actor, activity, Action.EDIT) or ""
    shown_execution: ExecutionView | None = None
    if refusal or mode == "details" or record_id is not None or version_id is not None:
        shown_execution = execution.execution_view(session=session, actor=actor, activity_id=activity_id,
                                                   record_id=record_id, version_id=version_id)
        shown = next((v for v in rows if v.id == shown_execution.version_id), None)
    else:
        shown = next((v for v in rows if v.is_current), rows[0] if rows else None)
    if shown is None:
        raise NotFound("Version not found.")
    if not refusal and (record_id is not None or (version_id is not None and not shown.is_current)):
        refusal = f"You are viewing V{shown.number}. Open the current version to edit."
    if not refusal and mode == "details":
        refusal = "Details: the flow of the latest version, read-only."
    flow = versions.view_version(session=session, actor=actor, version_id=shown.id)
    creates = not refusal and activities.saving_creates_version(activity, session.get(ActivityVersion, shown.id))
    editing_note = ""
    if creates:
        editing_note = f"Saving creates V{max(v.number for v in rows) + 1}; V{shown.number} " + (
            "keeps running until you publish." if status == ActivityStatus.IN_PROGRESS else "stays as it was.")
    data = activities.activity_input(session=session, actor=actor, activity_id=activity_id)
    zone = local_time.workspace_time_zone(session=session, actor=actor)
    template = get_template(activity.template_key or "")
    process_why_not = processes.save_refusal(session=session, actor=actor, activity=activity)
    process_version: ActivityVersion | None = None
    if not process_why_not:
        shown_row = session.get(ActivityVersion, shown.id)
        try:
            process_version = processes.published_version(session=session, activity=activity,
                                                          version_id=shown.id if shown_row is not None and
                                                          shown_row.state == VersionState.PUBLISHED else None)
        except Conflict as err:
            process_why_not = err.message
    origin = activity.process_name or ""
    if origin and activity.process_id is None:
        origin += " (deleted)"
    hidden = bool(preferences.get_preference(session=session, actor=actor, key=TEMPLATE_HIDDEN_PREFERENCE,
                                             default=False))
    return CanvasView(
        activity_id=activity_id, name=activity.name, status=status.value, status_label=status.label,
        version_id=shown.id, version_label=f"V{shown.number}",
        version_note=_note(shown, next((v for v in rows if v.is_live), None), status),
        versions=[CanvasVersion(id=v.id, label=f"V{v.number}",
                                note=f"{v.status_label} · {v.author_name} · {v.created_at:%Y-%m-%d %H:%M}",
                                current=v.is_current, shown=v.id == shown.id) for v in rows],
        flow={"nodes": list(flow.get("nodes") or []), "edges": list(flow.get("edges") or [])},
        banned_words=moderation.banned_words(session, activity.workspace_id),
        read_only_reason=refusal, saving_creates_version=creates, editing_note=editing_note,
        save_why_not=refusal or role_refusal(actor, activity, Action.SAVE_DRAFT) or why_not(
            status, Action.SAVE_DRAFT, **gate(activity)) or "",
        publish_why_not=refusal or role_refusal(actor, activity, Action.PUBLISH) or why_not(
            status, Action.PUBLISH, **gate(activity)) or "",
        data=data, time_zone=zone, start_label=time_label(data.start_time, zone, NO_START),
        end_label=time_label(data.end_time, zone, NO_END),
        schedule_label=schedule_label(activity.schedule, activity.schedule_every),
        next_run_label=time_label(next_run(activity), zone, ""),
        schedule_why_not=refusal or why_not(status, Action.SCHEDULE, **gate(activity)) or "",
        process_why_not=process_why_not,
        process_version_id=process_version.id if process_version else None,
        process_version_label=f"V{process_version.number}" if process_version else "",
        origin_process=origin,
        audiences=[(a.id, a.name) for a in list_audiences(session=session, actor=actor) if a.id is not None],
        approval_required=requires_approval(activity), approval=activity.approval_status or "",
        approval_label=approval_label(activity.approval_status),
        approval_hint=approval.approval_hint(session, activity) if requires_approval(activity) else "",
        template_key=template.key if template and not hidden else "",
        template_name=template.name if template else "",
        execution=shown_execution if refusal else None,
    )
