"""Activity lifecycle: create, save draft, publish, stop, start, pause, resume, modify, delete, copy, move,
Set Public.

Each function validates everything first (input, visibility, role, status machine, cap), then writes, so a
refused request leaves the database as it was; callers run it inside `engine.db.write_session()`.
"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, delete, func, select

from engine import clock
from engine.errors import Conflict, Invalid, NotFound
from engine.flow.registry import flow_audiences
from engine.flow.templates import get_template
from engine.flow.validate import shape_problems, validate_flow
from engine.models import (
    Activity,
    ActivityCampaignLink,
    ActivityGroup,
    ActivityTester,
    ActivityVersion,
    ApprovalEvent,
    ApprovalRequest,
    ExecutionRecord,
    RecordTrigger,
    Schedule,
    User,
    VersionAudience,
    row_id,
)
from engine.models.activity import DESCRIPTION_MAX, NAME_MAX
from engine.permissions import can_see, require, require_writer
from engine.services import pacing as pacing_service
from engine.services import reentry_rules
from engine.services import secrets as secret_service
from engine.services.listing import expand_campaigns
from engine.services.moderation import banned_words
from engine.shared.goal_rules import GoalSettings, check_settings, read_settings, save_settings
from engine.shared.in_progress import (
    close_entry,
    gate,
    live_rounds,
    new_record,
    require_capacity,
    take_over,
    transition_or_conflict,
)
from engine.status import (
    EDITED_IN_PLACE,
    RERUN_WITHDRAWN_BY,
    Action,
    ActivityStatus,
    RecordStatus,
    StatusError,
    VersionState,
    transition,
)

COPY_SUFFIX = "-Copy"


class ActivityInput(BaseModel):
    """What the creation dialog (and the canvas's pencil) edits. Limits are checked by `validate_input`,
    not by pydantic, so the message is the UI's own words."""

    name: str
    description: str = ""
    group_id: int | None = None
    campaign_ids: list[int] = Field(default_factory=list)
    start_time: datetime | None = None
    end_time: datetime | None = None
    schedule: Schedule = Schedule.ONCE
    schedule_every: int = 1
    max_runs: int | None = None
    cap_exempt: bool = False  # issue 16: transactional, exempt from the workspace's frequency caps
    pacing: pacing_service.PacingInput | None = None  # issue 16: send window, rate limit (None: unchanged)
    goal: GoalSettings | None = None  # issue 16: goal, exits, holdout (None: left as they are)
    reentry: str = reentry_rules.DEFAULT  # issue 16: engine/services/reentry_rules.py
    reentry_days: int | None = None
    one_live_run: bool = False


# ---------------------------------------------------------------- reading


def get_activity(*, session: Session, actor: User, activity_id: int) -> Activity:
    """The activity if `actor` may see it; otherwise NotFound (a private one's existence is not revealed)."""
    activity = session.get(Activity, activity_id)
    if activity is None or not can_see(actor, activity):
        raise NotFound("Activity not found.")
    return activity


def activity_input(*, session: Session, actor: User, activity_id: int) -> ActivityInput:
    """What the creation dialog set, as the canvas's pencil edits it (and save_draft / publish take it back)."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    campaign_ids = sorted(session.exec(select(ActivityCampaignLink.campaign_id).where(
        ActivityCampaignLink.activity_id == activity.id)).all())
    return ActivityInput(
        name=activity.name, description=activity.description, group_id=activity.group_id,
        campaign_ids=campaign_ids, start_time=activity.start_time, end_time=activity.end_time,
        schedule=activity.schedule, schedule_every=activity.schedule_every, max_runs=activity.max_runs,
        cap_exempt=bool(activity.cap_exempt),
        pacing=pacing_service.read(session, activity.id),
        goal=read_settings(session, row_id(activity)),
        **reentry_rules.fields(activity),
    )


def current_flow(*, session: Session, activity: Activity) -> dict[str, Any]:
    version = session.get(ActivityVersion, activity.current_version_id) if activity.current_version_id else None
    return dict(version.flow) if version else {"nodes": [], "edges": []}


# ---------------------------------------------------------------- validation


def validate_input(*, session: Session, actor: User, data: ActivityInput) -> list[int]:
    """Check the dialog's fields; returns the sub-campaign ids to link."""
    name = data.name.strip()
    if not name:
        raise Invalid("Enter an activity name.")
    if len(name) > NAME_MAX:
        raise Invalid(f"The activity name can be at most {NAME_MAX} characters ({len(name)} entered).")
    if len(data.description) > DESCRIPTION_MAX:
        raise Invalid(f"The description can be at most {DESCRIPTION_MAX} characters ({len(data.description)} entered).")
    if data.start_time and data.end_time and data.end_time <= data.start_time:
        raise Invalid("The end time must be later than the start time.")
    if data.schedule_every < 1:
        raise Invalid("The schedule interval must be at least 1.")
    if data.max_runs is not None and data.max_runs < 1:
        raise Invalid("The maximum number of runs must be at least 1.")
    reentry_rules.validate(reentry=data.reentry, reentry_days=data.reentry_days)
    if data.group_id is not None:
        group = session.get(ActivityGroup, data.group_id)
        if group is None or group.workspace_id != actor.workspace_id:
            raise NotFound("Group not found.")
    pacing_service.check(data.pacing)
    subs = expand_campaigns(session=session, workspace_id=actor.workspace_id, campaign_ids=data.campaign_ids)
    if data.campaign_ids and not subs:
        raise Invalid("Choose at least one sub-campaign of a marketing campaign.")
    if data.goal is not None:
        check_settings(data.goal)
    return subs


PAST_START = "The start time must be later than now."


def check_start(data: ActivityInput, previous: datetime | None = None) -> None:
    """Seed 002: a start time is later than now. Only a start time being set is checked: one kept unchanged
    (an activity that began, saved again) is history, not a request."""
    if data.start_time is not None and data.start_time != previous and data.start_time <= clock.now():
        raise Invalid(PAST_START)


def schedule_changed(activity: Activity, data: ActivityInput) -> bool:
    """Whether `data` asks for another schedule (kind or interval) than the activity has."""
    every = data.schedule_every if data.schedule != Schedule.ONCE else 1
    kept = activity.schedule_every if activity.schedule != Schedule.ONCE else 1
    return (Schedule(data.schedule), every) != (Schedule(activity.schedule), kept)


def check_schedule_change(activity: Activity, data: ActivityInput) -> None:
    """Seed 002: the schedule changes only where the status machine allows it (Action.SCHEDULE: Draft, Not
    Started, Paused); otherwise the status machine's why-not. Keeping it unchanged is always fine."""
    if schedule_changed(activity, data):
        transition_or_conflict(activity, Action.SCHEDULE)


def check_info(*, session: Session, actor: User, activity_id: int, data: ActivityInput) -> None:
    """What the canvas's Basic information dialog checks before it keeps the change for Save Draft / Publish:
    the fields, and a schedule change against the status machine (the same refusal the save gives)."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    validate_input(session=session, actor=actor, data=data)
    check_schedule_change(activity, data)


def _apply_input(session: Session, activity: Activity, data: ActivityInput, subs: list[int]) -> None:
    activity.name = data.name.strip()
    activity.description = data.description
    activity.group_id = data.group_id
    activity.start_time = data.start_time
    activity.end_time = data.end_time
    activity.schedule = data.schedule
    activity.schedule_every = data.schedule_every
    activity.max_runs = data.max_runs
    activity.cap_exempt = data.cap_exempt
    reentry_rules.apply(activity, reentry=data.reentry, reentry_days=data.reentry_days, one_live_run=data.one_live_run)
    session.exec(delete(ActivityCampaignLink).where(col(ActivityCampaignLink.activity_id) == activity.id))
    for cid in subs:
        session.add(ActivityCampaignLink(activity_id=row_id(activity), campaign_id=cid))
    pacing_service.save(session, row_id(activity), data.pacing)
    if data.goal is not None:
        save_settings(session, row_id(activity), check_settings(data.goal))


def sync_audiences(session: Session, version: ActivityVersion) -> None:
    """Keep `versionaudience` (the list's audience filter) in step with the version's flow."""
    session.flush()
    session.exec(delete(VersionAudience).where(col(VersionAudience.version_id) == version.id))
    for audience_id in sorted(flow_audiences(version.flow)):
        session.add(VersionAudience(version_id=row_id(version), audience_id=audience_id))


def _touch(activity: Activity) -> None:
    activity.updated_at = clock.now()


# ---------------------------------------------------------------- create / edit


def create_activity(
    *, session: Session, actor: User, data: ActivityInput, flow: dict[str, Any] | None = None,
    template_key: str | None = None, is_public: bool = False, process: tuple[int, str] | None = None,
) -> Activity:
    """A new private Draft with version 1 (the canvas opens on it); `process` = (id, name) of the reusable
    process it is made from (services.processes)."""
    require_writer(actor)
    subs = validate_input(session=session, actor=actor, data=data)
    check_start(data)
    if flow is not None and (malformed := shape_problems(flow)):
        raise Invalid("The flow cannot be saved: " + " ".join(p.message for p in malformed))
    activity = Activity(workspace_id=actor.workspace_id, name=data.name.strip(), owner_id=row_id(actor),
                        template_key=template_key, is_public=is_public,
                        process_id=process[0] if process else None, process_name=process[1] if process else None)
    session.add(activity)
    session.flush()
    _apply_input(session, activity, data, subs)
    flow = secret_service.absorb(session=session, activity=activity, flow=flow, actor=actor) if flow else None
    version = ActivityVersion(activity_id=row_id(activity), number=1, author_id=row_id(actor),
                              flow=flow or {"nodes": [], "edges": []})
    session.add(version)
    session.flush()
    sync_audiences(session, version)
    activity.current_version_id = version.id
    session.add(activity)
    session.flush()
    return activity


def create_from_template(*, session: Session, actor: User, data: ActivityInput, template_key: str) -> Activity:
    """New from Template: the template's preset flow, remembered as the activity's template origin."""
    template = get_template(template_key)
    if template is None:
        raise NotFound("Template not found.")
    return create_activity(session=session, actor=actor, data=data, flow=secret_service.drop(template.flow),
                           template_key=template.key)


def saving_creates_version(activity: Activity, current: ActivityVersion | None) -> bool:
    """Whether a save makes a new version: Draft / Not Started edit the current version in place, as does any
    activity whose current version is still a draft; an executed activity's published version gets a new one
    (once: the next saves update that draft). The canvas's view (services.canvas) shows this same decision."""
    if current is None:
        return True
    in_place = activity.status in EDITED_IN_PLACE or current.state == VersionState.DRAFT
    return not in_place


def _editable_version(session: Session, actor: User, activity: Activity) -> ActivityVersion:
    """The version a save writes (see saving_creates_version)."""
    current = session.get(ActivityVersion, activity.current_version_id)
    if current is not None and not saving_creates_version(activity, current):
        return current
    last = session.exec(select(func.max(ActivityVersion.number)).where(
        ActivityVersion.activity_id == activity.id)).one() or 0
    version = ActivityVersion(activity_id=row_id(activity), number=last + 1, author_id=row_id(actor),
                              flow=dict(current.flow) if current else {"nodes": [], "edges": []})
    session.add(version)
    session.flush()
    activity.current_version_id = version.id
    return version


def _save(session: Session, actor: User, activity: Activity, data: ActivityInput | None,
          flow: dict[str, Any] | None) -> ActivityVersion:
    if data is not None:
        subs = validate_input(session=session, actor=actor, data=data)
        check_start(data, activity.start_time)
        check_schedule_change(activity, data)
        _apply_input(session, activity, data, subs)
    if flow is not None and (malformed := shape_problems(flow)):
        raise Invalid("The flow cannot be saved: " + " ".join(p.message for p in malformed))
    version = _editable_version(session, actor, activity)
    if flow is not None:
        version.flow = secret_service.absorb(session=session, activity=activity, flow=flow, actor=actor)
    sync_audiences(session, version)
    version.state = VersionState.DRAFT
    version.published_at = None
    version.author_id = row_id(actor)
    session.add(version)
    return version


def save_draft(
    *, session: Session, actor: User, activity_id: int, data: ActivityInput | None = None,
    flow: dict[str, Any] | None = None,
) -> Activity:
    """Save the canvas as a draft (following the version rules). A running activity keeps running its
    published version; any other becomes Draft."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.SAVE_DRAFT)
    next_status = transition_or_conflict(activity, Action.SAVE_DRAFT)
    _save(session, actor, activity, data, flow)
    activity.status = next_status
    _touch(activity)
    session.add(activity)
    session.flush()
    return activity


# ---------------------------------------------------------------- running


def _enter(session: Session, activity: Activity, next_status: ActivityStatus, trigger: RecordTrigger) -> None:
    """Move to `next_status`; entering In Progress (from another status) takes a cap slot and a new record."""
    if next_status == ActivityStatus.IN_PROGRESS and activity.status != ActivityStatus.IN_PROGRESS:
        require_capacity(session, activity)
    activity.status = next_status
    if next_status == ActivityStatus.IN_PROGRESS:
        new_record(session, activity, trigger)


def publish(
    *, session: Session, actor: User, activity_id: int, data: ActivityInput | None = None,
    flow: dict[str, Any] | None = None,
) -> Activity:
    """Save and publish: In Progress now (a new execution record), or Not Started until the start time."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.PUBLISH)
    start_time = data.start_time if data is not None else activity.start_time
    if activity.status == ActivityStatus.PAUSED and not (start_time and start_time > clock.now()):
        raise Invalid(f"“{activity.name}” is paused: set a new start time (later than now) to publish it.")
    version = _save(session, actor, activity, data, flow)
    problems = validate_flow(version.flow, banned_words(session, activity.workspace_id))
    if problems:
        raise Invalid("The flow cannot be published: " + " ".join(p.message for p in problems))
    now = clock.now()
    if activity.end_time and activity.end_time <= now:
        raise Invalid("The end time has already passed: set a later end time before publishing.")
    before_start = bool(activity.start_time and activity.start_time > now)
    next_status = transition_or_conflict(activity, Action.PUBLISH, before_start=before_start)
    version.state = VersionState.PUBLISHED
    version.published_at = now
    activity.live_version_id = version.id
    activity.published_at = now
    if activity.status == ActivityStatus.IN_PROGRESS and next_status == ActivityStatus.IN_PROGRESS:
        republish(session, activity)
    else:
        if activity.status == ActivityStatus.IN_PROGRESS:  # waits for a later start: its rounds drain meanwhile,
            close_entry(session, live_rounds(session, activity))  # and the round at the start continues them
        _enter(session, activity, next_status, RecordTrigger.PUBLISH)
    _touch(activity)
    session.add_all([version, activity])
    session.flush()
    return activity


def republish(session: Session, activity: Activity) -> ExecutionRecord | None:
    """A new version of an In Progress activity: the rounds in progress drain (their entry closes; the customers
    inside finish on the version they entered) and one new round on the new version takes over: new entrants
    enter it, and it never enters anyone who entered a round it continues (engine/runtime/rounds.py
    `start_round`, engine/runtime/entered.py). It is the same run, so it does not count against max runs.
    Without a round in progress (a periodic activity between cycles) there is nothing to take over: the next
    cycle runs the new version. The drained rounds keep their In Progress status but are not live rounds."""
    running = live_rounds(session, activity)
    if not running:
        return new_record(session, activity, RecordTrigger.PUBLISH) if activity.schedule == Schedule.ONCE else None
    successor = new_record(session, activity, RecordTrigger.REPUBLISH)
    take_over(session, running, successor)
    return successor


def _withdraw_reruns(session: Session, activity: Activity) -> None:
    """Queued re-runs of a stopped activity no longer start by themselves (status.RERUN_WITHDRAWN_BY)."""
    for record in session.exec(select(ExecutionRecord).where(
            ExecutionRecord.activity_id == activity.id, col(ExecutionRecord.rerun_pending).is_(True))):
        record.rerun_pending, record.rerun_after = False, None
        session.add(record)


def _stop_records(session: Session, activity: Activity) -> None:
    now = clock.now()
    for record in session.exec(select(ExecutionRecord).where(
            ExecutionRecord.activity_id == activity.id, ExecutionRecord.status == RecordStatus.IN_PROGRESS)):
        record.status = RecordStatus.STOPPED
        record.ended_at = now
        session.add(record)


def _load_many(session: Session, actor: User, ids: list[int], action: Action) -> list[Activity]:
    if not ids:
        raise Invalid("Select at least one activity.")
    activities = [get_activity(session=session, actor=actor, activity_id=i) for i in dict.fromkeys(ids)]
    for activity in activities:
        require(actor, activity, action)
    return activities


def _all_or_nothing(activities: list[Activity], action: Action, verb: str) -> list[ActivityStatus]:
    """The next status of each, or one Conflict naming every activity that refuses (nothing changes)."""
    results: list[ActivityStatus] = []
    refused: list[str] = []
    for activity in activities:
        try:
            results.append(transition(activity.status, action, **gate(activity)))
        except StatusError:
            refused.append(f"“{activity.name}” ({ActivityStatus(activity.status).label})")
    if refused:
        if len(activities) == 1:
            transition_or_conflict(activities[0], action)
        raise Conflict(f"Nothing was {verb}: {len(refused)} of the {len(activities)} selected activities "
                       f"cannot be {verb}: {', '.join(refused[:5])}{' …' if len(refused) > 5 else ''}.")
    return results


def stop(*, session: Session, actor: User, activity_id: int) -> Activity:
    return batch_stop(session=session, actor=actor, activity_ids=[activity_id])[0]


def batch_stop(*, session: Session, actor: User, activity_ids: list[int]) -> list[Activity]:
    """In Progress / Not Started → Stopped; their running records are stopped too."""
    activities = _load_many(session, actor, activity_ids, Action.STOP)
    for activity, next_status in zip(activities, _all_or_nothing(activities, Action.STOP, "stopped"), strict=True):
        activity.status = next_status
        _stop_records(session, activity)
        if Action.STOP in RERUN_WITHDRAWN_BY:
            _withdraw_reruns(session, activity)
        _touch(activity)
        session.add(activity)
    session.flush()
    return activities


def start(*, session: Session, actor: User, activity_id: int, version_id: int | None = None) -> Activity:
    """Restart a Stopped activity from its first component (a new execution record), within its time window
    and run count; `version_id` starts a chosen published version (Manage Versions)."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.START)
    now = clock.now()
    before_start = bool(activity.start_time and activity.start_time > now)
    next_status = transition_or_conflict(activity, Action.START, before_start=before_start)
    if activity.end_time and activity.end_time <= now:
        raise Conflict(f"“{activity.name}” cannot start: its end time has passed.")
    if activity.max_runs is not None and activity.runs_used >= activity.max_runs:
        raise Conflict(f"“{activity.name}” cannot start: it has used all of its {activity.max_runs} runs.")
    if version_id is not None:
        version = session.get(ActivityVersion, version_id)
        if version is None or version.activity_id != activity.id:
            raise NotFound("Version not found.")
        if version.state != VersionState.PUBLISHED:
            raise Conflict(f"Version {version.number} is a draft: publish it instead of starting it.")
        activity.live_version_id = version.id
    if activity.live_version_id is None:
        raise Conflict(f"“{activity.name}” has never been published.")
    _enter(session, activity, next_status, RecordTrigger.RESTART)
    _touch(activity)
    session.add(activity)
    session.flush()
    return activity


def pause(*, session: Session, actor: User, activity_id: int) -> Activity:
    """In Progress → Paused (seed 002): no later cycle or trigger starts a round and nobody new enters the rounds
    in progress (their entry closes); customers already inside finish the flow they are in. Queued re-runs are
    withdrawn (status.RERUN_WITHDRAWN_BY). Resume asks for a new start time."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.PAUSE)
    activity.status = transition_or_conflict(activity, Action.PAUSE)
    for record in session.exec(select(ExecutionRecord).where(
            ExecutionRecord.activity_id == activity.id, ExecutionRecord.status == RecordStatus.IN_PROGRESS)):
        record.entry_closed = True  # drains: finish_if_done ends it once its customers are through
        session.add(record)
    if Action.PAUSE in RERUN_WITHDRAWN_BY:
        _withdraw_reruns(session, activity)
    activity.next_run_at = None
    _touch(activity)
    session.add(activity)
    session.flush()
    return activity


def resume(*, session: Session, actor: User, activity_id: int, start_time: datetime,
           end_time: datetime | None = None) -> Activity:
    """Paused → Not Started with a new start time later than now (and, when given, a new end time); the
    scheduler begins it then, as any Not Started activity: a new round, and a periodic one's cycles from it."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.RESUME)
    next_status = transition_or_conflict(activity, Action.RESUME)
    if start_time <= clock.now():
        raise Invalid(PAST_START)
    end = end_time if end_time is not None else activity.end_time
    if end is not None and end <= start_time:
        raise Invalid("The end time must be later than the start time.")
    if activity.max_runs is not None and activity.runs_used >= activity.max_runs:
        raise Conflict(f"“{activity.name}” cannot resume: it has used all of its {activity.max_runs} runs.")
    if activity.live_version_id is None:
        raise Conflict(f"“{activity.name}” has never been published.")
    activity.status = next_status
    activity.start_time, activity.end_time = start_time, end
    activity.next_run_at = None
    _touch(activity)
    session.add(activity)
    session.flush()
    return activity


def modify(*, session: Session, actor: User, activity_id: int, data: ActivityInput) -> Activity:
    """The list's Modify (seed 002): basic information, schedule and effective period of a Not Started or Paused
    activity; its flow and status are unchanged. A new start time must be later than now; a Not Started
    activity keeps one (the scheduler begins it then)."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, activity, Action.MODIFY)
    transition_or_conflict(activity, Action.MODIFY)
    subs = validate_input(session=session, actor=actor, data=data)
    check_start(data, activity.start_time)
    if activity.status == ActivityStatus.NOT_STARTED and data.start_time is None:
        raise Invalid("A Not Started activity needs a start time: it begins then.")
    _apply_input(session, activity, data, subs)
    _touch(activity)
    session.add(activity)
    session.flush()
    return activity


def delete_activity(*, session: Session, actor: User, activity_id: int) -> None:
    batch_delete(session=session, actor=actor, activity_ids=[activity_id])


def batch_delete(*, session: Session, actor: User, activity_ids: list[int]) -> int:
    """Delete activities that are not In Progress, with their versions and records."""
    activities = _load_many(session, actor, activity_ids, Action.DELETE)
    _all_or_nothing(activities, Action.DELETE, "deleted")
    for activity in activities:
        _stop_records(session, activity)  # a Paused one's draining rounds: no walk outlives its activity
    ids = [row_id(a) for a in activities]
    session.exec(delete(ActivityCampaignLink).where(col(ActivityCampaignLink.activity_id).in_(ids)))
    session.exec(delete(ExecutionRecord).where(col(ExecutionRecord.activity_id).in_(ids)))
    for table in (ApprovalEvent, ApprovalRequest, ActivityTester):  # seed 004: its requests name its versions
        session.exec(delete(table).where(col(table.activity_id).in_(ids)))
    session.exec(delete(VersionAudience).where(col(VersionAudience.version_id).in_(
        select(ActivityVersion.id).where(col(ActivityVersion.activity_id).in_(ids)))))
    session.exec(delete(ActivityVersion).where(col(ActivityVersion.activity_id).in_(ids)))
    secret_service.delete_for(session, ids)
    pacing_service.forget(session, ids)
    session.exec(delete(Activity).where(col(Activity.id).in_(ids)))
    session.flush()
    return len(ids)


def copy_activity(*, session: Session, actor: User, activity_id: int, version_id: int | None = None) -> Activity:
    """"Original Name-Copy": same configuration (of the current or a chosen version), a private Draft owned by
    the actor, detached from its template — without its secrets: the copy must set its own."""
    source = get_activity(session=session, actor=actor, activity_id=activity_id)
    require(actor, source, Action.COPY)
    require_writer(actor)
    if version_id is not None:
        version = session.get(ActivityVersion, version_id)
        if version is None or version.activity_id != source.id:
            raise NotFound("Version not found.")
        flow = dict(version.flow)
    else:
        flow = current_flow(session=session, activity=source)
    campaign_ids = list(session.exec(select(ActivityCampaignLink.campaign_id).where(
        ActivityCampaignLink.activity_id == source.id)).all())
    # a start or end time already past is not copied (the copy would refuse it): the copy starts on publish
    now = clock.now()
    start_time = source.start_time if source.start_time and source.start_time > now else None
    end_time = source.end_time if source.end_time and source.end_time > now else None
    data = ActivityInput(
        name=source.name[: NAME_MAX - len(COPY_SUFFIX)] + COPY_SUFFIX, description=source.description,
        group_id=source.group_id, campaign_ids=campaign_ids, start_time=start_time,
        end_time=end_time, schedule=source.schedule, schedule_every=source.schedule_every,
        max_runs=source.max_runs, cap_exempt=bool(source.cap_exempt),
        pacing=pacing_service.read(session, source.id), goal=read_settings(session, row_id(source)),
        **reentry_rules.fields(source),
    )
    return create_activity(session=session, actor=actor, data=data, flow=secret_service.drop(flow),
                           template_key=None)


def move(*, session: Session, actor: User, activity_id: int, group_id: int | None) -> Activity:
    return batch_move(session=session, actor=actor, activity_ids=[activity_id], group_id=group_id)[0]


def batch_move(*, session: Session, actor: User, activity_ids: list[int], group_id: int | None) -> list[Activity]:
    """Move to a group (None = Ungrouped)."""
    if group_id is not None:
        group = session.get(ActivityGroup, group_id)
        if group is None or group.workspace_id != actor.workspace_id:
            raise NotFound("Group not found.")
    activities = _load_many(session, actor, activity_ids, Action.MOVE)
    for activity in activities:
        transition_or_conflict(activity, Action.MOVE)
        activity.group_id = group_id
        _touch(activity)
        session.add(activity)
    session.flush()
    return activities


def set_public(*, session: Session, actor: User, activity_id: int, public: bool) -> Activity:
    """Set Public (visible to the whole workspace) or Cancel Public (creator and admins only)."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    action = Action.SET_PUBLIC if public else Action.CANCEL_PUBLIC
    require(actor, activity, action)
    transition_or_conflict(activity, action)
    activity.is_public = public
    _touch(activity)
    session.add(activity)
    session.flush()
    return activity
