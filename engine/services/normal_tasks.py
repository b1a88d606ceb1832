"""Normal tasks (seed 003): an SMS created on the Reach Tasks page — name, content (and signature), an audience,
send now or at a time — rather than by a flow.

Life of a task:
- **Moderating** when created or edited; the scheduler's tick (`moderate_and_send`) applies the workspace's
  moderation (engine/flow/moderation.py: banned words, the SMS length) → **Rejected** with the reason, or
  **To be sent** (`scheduled`);
- when its send time has come (none: at once), the same tick sends it the way a flow sends: a hidden carrier
  activity (`Activity.hidden`, in no activity list) with one published version Target Audience → Text SMS → End
  and one round through `new_record`'s outbox — so the workers, the channel code, receipts, the 72-hour rule,
  the task details page and Generate Audience are the flows' own; from then on its status is the round's
  (`reach_tasks.task_status`: Sending → Completed / Execution Failed);
- **Edit** and **Delete** only while it is Rejected, or not sent yet and due more than 5 minutes from now
  (`EDIT_MARGIN`); otherwise the buttons say why (`change_refusal`). An edit moderates it again.

Visibility: a normal task is private to its creator and the workspace's admins (like a private activity):
anyone else gets "Task not found", also by its id; managers change nothing. Choices: SMS only (the channel with
moderation and segment rules); the carrier is created at the send time, not before, so a task that never
leaves moderation costs no activity.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlmodel import Session, col, select

from engine import clock
from engine.errors import Forbidden, Invalid, NotFound
from engine.flow.moderation import moderate, sms_segments, sms_text
from engine.models import Activity, ActivityVersion, Audience, ExecutionRecord, RecordTrigger, Role, User, row_id
from engine.models.normal_task import NormalTask, NormalTaskStatus
from engine.permissions import require_writer
from engine.services.moderation import banned_words
from engine.services.reach_tasks import STATUS_LABELS, TaskStatus, _counters, _Round, channel_of, task_status
from engine.shared.in_progress import new_record
from engine.status import ActivityStatus, VersionState

EDIT_MARGIN = timedelta(minutes=5)
CHANNELS = ("sms",)
NAME_MAX = 60
SMS_NODE = "sms"
LABELS = {NormalTaskStatus.MODERATING: "Moderating", NormalTaskStatus.REJECTED: "Rejected",
          NormalTaskStatus.SCHEDULED: STATUS_LABELS[TaskStatus.TO_BE_SENT]}
SENT_ALREADY = "It has been sent: a sent task cannot be changed."
TOO_CLOSE = "It is sent in less than 5 minutes: only a rejected task or one scheduled more than 5 minutes ahead " \
            "can be changed."


class TaskInput(BaseModel):
    name: str
    content: str
    signature: str = ""
    audience_id: int | None = None
    send_at: datetime | None = None  # None: send now (once moderated)


@dataclass(frozen=True)
class NormalRow:
    """One normal task as the page shows it."""

    id: int
    name: str
    content: str  # as sent: signature first
    segments: int
    audience_name: str
    send_at: datetime | None
    status: str  # moderating / rejected / to_be_sent / sending / completed / execution_failed
    status_label: str
    reason: str
    created_at: datetime
    task_id: str  # the details page's task id once sent ("" before)
    sent: int
    success: int
    failed: int
    edit_refusal: str  # "" = may edit
    delete_refusal: str


def _aware(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _visible(actor: User, task: NormalTask) -> bool:
    return task.workspace_id == actor.workspace_id and (actor.role == Role.ADMIN or task.created_by == actor.id)


def get_normal(*, session: Session, actor: User, task_id: int) -> NormalTask:
    task = session.get(NormalTask, task_id)
    if task is None or not _visible(actor, task):
        raise NotFound("Task not found.")
    return task


def change_refusal(actor: User, task: NormalTask, now: datetime) -> str:
    """Why `actor` may not edit or delete `task` now ("" = may)."""
    if actor.role == Role.MANAGER:
        return "Managers have read-only access: ask a marketer or an admin to do this."
    if task.status == NormalTaskStatus.REJECTED:
        return ""
    if task.status == NormalTaskStatus.SENT:
        return SENT_ALREADY
    send_at = _aware(task.send_at)
    if send_at is None or send_at - now <= EDIT_MARGIN:
        return TOO_CLOSE
    return ""


def _checked(session: Session, actor: User, data: TaskInput, now: datetime) -> TaskInput:
    name = " ".join((data.name or "").split())
    if not name:
        raise Invalid("Enter a name for the task.")
    if len(name) > NAME_MAX:
        raise Invalid(f"The task name can be at most {NAME_MAX} characters ({len(name)} entered).")
    content = (data.content or "").strip()
    if not content:
        raise Invalid("Enter the SMS content.")
    if len(content) > 500 or len(data.signature or "") > 20:
        raise Invalid("The content can be at most 500 characters and the signature 20.")
    audience = session.get(Audience, data.audience_id) if data.audience_id else None
    if audience is None or audience.workspace_id != actor.workspace_id:
        raise Invalid("Choose the audience to send to.")
    send_at = _aware(data.send_at)
    if send_at is not None and send_at <= now:
        raise Invalid("The send time must be later than now (or choose Send now).")
    return TaskInput(name=name, content=content, signature=(data.signature or "").strip(),
                     audience_id=audience.id, send_at=send_at)


def create(*, session: Session, actor: User, channel: str, data: TaskInput, now: datetime | None = None) -> NormalTask:
    """A new task, Moderating (the scheduler moderates it on its next tick)."""
    now = now or clock.now()
    require_writer(actor)
    if channel_of(channel).key not in CHANNELS:
        raise Invalid("Normal tasks are sent by SMS only.")
    ok = _checked(session, actor, data, now)
    task = NormalTask(workspace_id=actor.workspace_id, channel=channel, name=ok.name, content=ok.content,
                      signature=ok.signature, audience_id=int(ok.audience_id or 0), send_at=ok.send_at,
                      created_by=row_id(actor), created_at=now, updated_at=now)
    session.add(task)
    session.flush()
    return task


def update(*, session: Session, actor: User, task_id: int, data: TaskInput, now: datetime | None = None) -> NormalTask:
    """Edit a rejected task or one due more than 5 minutes ahead; it is moderated again."""
    now = now or clock.now()
    task = get_normal(session=session, actor=actor, task_id=task_id)
    why = change_refusal(actor, task, now)
    if why:
        raise Forbidden(why)
    ok = _checked(session, actor, data, now)
    task.name, task.content, task.signature = ok.name, ok.content, ok.signature
    task.audience_id, task.send_at = int(ok.audience_id or 0), ok.send_at
    task.status, task.reason, task.updated_at = NormalTaskStatus.MODERATING, None, now
    session.add(task)
    session.flush()
    return task


def delete(*, session: Session, actor: User, task_id: int, now: datetime | None = None) -> None:
    now = now or clock.now()
    task = get_normal(session=session, actor=actor, task_id=task_id)
    why = change_refusal(actor, task, now)
    if why:
        raise Forbidden(why)
    session.delete(task)
    session.flush()


def _flow(task: NormalTask) -> dict[str, object]:
    def node(nid: str, type_: str, x: int, **config: object) -> dict[str, object]:
        return {"id": nid, "type": type_, "config": config, "position": {"x": x, "y": 0}}

    return {"nodes": [node("audience", "target_audience", 0, audience_id=task.audience_id),
                      node(SMS_NODE, "text_sms", 260, content=task.content, signature=task.signature),
                      node("end", "end", 520)],
            "edges": [{"source": "audience", "branch": "out", "target": SMS_NODE},
                      {"source": SMS_NODE, "branch": "out", "target": "end"}]}


def _send(session: Session, task: NormalTask, now: datetime) -> None:
    """The task's carrier activity, its published one-component flow and its round (the scheduler then hands the
    round to the workers, as every new round)."""
    carrier = Activity(workspace_id=task.workspace_id, name=task.name[:NAME_MAX], owner_id=task.created_by,
                       description="Normal task (Reach Tasks)", is_public=False, hidden=True,
                       status=ActivityStatus.IN_PROGRESS, created_at=now, updated_at=now, published_at=now)
    session.add(carrier)
    session.flush()
    version = ActivityVersion(activity_id=row_id(carrier), number=1, state=VersionState.PUBLISHED, flow=_flow(task),
                              author_id=task.created_by, created_at=now, published_at=now)
    session.add(version)
    session.flush()
    carrier.current_version_id = carrier.live_version_id = version.id
    record = new_record(session, carrier, RecordTrigger.PUBLISH)
    task.status, task.activity_id, task.record_id, task.updated_at = NormalTaskStatus.SENT, carrier.id, record.id, now
    session.add_all([carrier, task])
    session.flush()


def has_work(session: Session, now: datetime) -> bool:
    """Whether a tick has anything to do (read first: the tick then takes SQLite's write lock only when needed)."""
    due = (col(NormalTask.status) == NormalTaskStatus.MODERATING) | (
        (col(NormalTask.status) == NormalTaskStatus.SCHEDULED)
        & (col(NormalTask.send_at).is_(None) | (col(NormalTask.send_at) <= now)))
    return session.exec(select(NormalTask.id).where(due).limit(1)).first() is not None


def moderate_and_send(session: Session, now: datetime) -> dict[str, list[int]]:
    """The scheduler's tick: moderate every Moderating task, then send every To be sent task whose time came."""
    out: dict[str, list[int]] = {"rejected": [], "approved": [], "sent": []}
    words: dict[int, list[str]] = {}
    for task in session.exec(select(NormalTask).where(NormalTask.status == NormalTaskStatus.MODERATING)
                             .order_by(col(NormalTask.id))).all():
        if task.workspace_id not in words:
            words[task.workspace_id] = banned_words(session, task.workspace_id)
        reasons = moderate("text_sms", {"content": task.content, "signature": task.signature},
                           words[task.workspace_id])
        if reasons:
            task.status, task.reason = NormalTaskStatus.REJECTED, "; ".join(reasons).capitalize() + "."
            out["rejected"].append(row_id(task))
        else:
            task.status, task.reason = NormalTaskStatus.SCHEDULED, None
            out["approved"].append(row_id(task))
        task.updated_at = now
        session.add(task)
    session.flush()
    due = session.exec(select(NormalTask).where(NormalTask.status == NormalTaskStatus.SCHEDULED)
                       .order_by(col(NormalTask.id))).all()
    for task in due:
        send_at = _aware(task.send_at)
        if send_at is None or send_at <= now:
            _send(session, task, now)
            out["sent"].append(row_id(task))
    return out


def list_normal(*, session: Session, actor: User, channel: str, now: datetime | None = None) -> list[NormalRow]:
    """The actor's visible normal tasks of the channel, newest first, with their round's numbers once sent."""
    now = now or clock.now()
    channel_of(channel)
    stmt = select(NormalTask).where(NormalTask.workspace_id == actor.workspace_id, NormalTask.channel == channel)
    if actor.role != Role.ADMIN:
        stmt = stmt.where(NormalTask.created_by == actor.id)
    tasks = list(session.exec(stmt.order_by(col(NormalTask.id).desc())).all())
    rounds: dict[int, _Round] = {}
    for task in tasks:
        if task.record_id is not None:
            record = session.get(ExecutionRecord, task.record_id)
            if record is not None:
                rounds[row_id(task)] = _Round.of(record)
    counters = _counters(session, sorted({r.id for r in rounds.values()}), {SMS_NODE})
    audiences = {a.id: a.name for a in session.exec(select(Audience).where(
        col(Audience.id).in_({t.audience_id for t in tasks}))).all()}
    out = []
    for task in tasks:
        content = sms_text({"content": task.content, "signature": task.signature})
        round_ = rounds.get(row_id(task))
        metrics = counters.get(round_.id, {}).get(SMS_NODE, {}) if round_ else {}
        if round_ is not None:
            status, why = task_status(round_, metrics, now)
            label = STATUS_LABELS[status]
        else:
            status = TaskStatus.TO_BE_SENT if task.status == NormalTaskStatus.SCHEDULED else task.status.value
            label, why = LABELS.get(task.status, task.status.value), task.reason or ""
        refusal = change_refusal(actor, task, now)
        out.append(NormalRow(
            id=row_id(task), name=task.name, content=content, segments=sms_segments(content)[1],
            audience_name=audiences.get(task.audience_id, ""), send_at=_aware(task.send_at), status=status,
            status_label=label, reason=why, created_at=_aware(task.created_at) or now,
            task_id=f"{round_.id}-{SMS_NODE}" if round_ else "", sent=metrics.get("sent", 0),
            success=metrics.get("success", 0), failed=metrics.get("failed", 0),
            edit_refusal=refusal, delete_refusal=refusal))
    return out


__all__ = ["EDIT_MARGIN", "NormalRow", "TaskInput", "change_refusal", "create", "delete", "get_normal", "has_work",
           "list_normal", "moderate_and_send", "update"]
