"""Normal tasks (seed 003): a send created on the Reach Tasks page — name, the channel's content, an audience,
send now or at a time — rather than by a flow, on every touch channel the Reach pages list (issue 14): SMS
(content, signature), Digital SMS (template, title, parameters "key: value" one a line), Email (subject, body),
WeChat (text), Template Message (template, keywords "key: value" one a line), App Push (title, body). The
content is the channel component's own config (`config`), checked by the component's validation, so the carrier
sends it with the flows' code. The form can pick a message template of the channel or save its content as one
(issue 15): the form is the component's config (`channel_config`) and back (`form_fields`), and the message
templates service fills or reads that config as it does a component's on the canvas, under the templates'
visibility.

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
anyone else gets "Task not found", also by its id; managers change nothing. Choices: the carrier is created at
the send time, not before, so a task that never leaves moderation costs no activity; the SMS length and segment
rules apply to SMS only, the banned words to every channel's text.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from engine import clock
from engine.components.registry import get_component
from engine.errors import Forbidden, Invalid, NotFound
from engine.flow.moderation import moderate, sms_segments
from engine.models import Activity, ActivityVersion, Audience, ExecutionRecord, RecordTrigger, Role, User, row_id
from engine.models.normal_task import NormalTask, NormalTaskStatus
from engine.permissions import require_writer
from engine.runtime.reach_refresh import live_counters
from engine.services.moderation import banned_words
from engine.shared.in_progress import new_record
from engine.shared.reach_rows import CHANNELS as REACH_CHANNELS
from engine.shared.reach_rows import STATUS_LABELS, TaskStatus, normal_node, task_status
from engine.status import (
    NORMAL_EDIT_MARGIN,
    NORMAL_SENT_ALREADY,
    NORMAL_TOO_CLOSE,
    ActivityStatus,
    VersionState,
    normal_task_change_refusal,
)

EDIT_MARGIN = NORMAL_EDIT_MARGIN
CHANNELS = tuple(REACH_CHANNELS)  # every Reach Tasks channel
#: the touch component type each channel's task sends with (its message templates' channel)
CHANNEL_COMPONENTS = {key: channel.component_type for key, channel in REACH_CHANNELS.items()}
NAME_MAX = 60
SMS_NODE = "sms"
#: per channel: what the form's fields mean ({field: label}; "content" is always there) — the page's form reads it
FIELDS: dict[str, dict[str, str]] = {
    "sms": {"content": "Content", "signature": "Signature"},
    "digital-sms": {"template_id": "Template", "subject": "Title",
                    "content": "Parameters (key: value, one a line; optional)"},
    "email": {"subject": "Subject", "content": "Body"},
    "wechat": {"content": "Text"},
    "template-message": {"template_id": "Template", "content": "Keywords (key: value, one a line)"},
    "app-push": {"subject": "Title", "content": "Body"},
}
#: the fields a task may leave empty
OPTIONAL = {"sms": frozenset({"signature"}), "digital-sms": frozenset({"content"})}
LABELS = {NormalTaskStatus.MODERATING: "Moderating", NormalTaskStatus.REJECTED: "Rejected",
          NormalTaskStatus.SCHEDULED: STATUS_LABELS[TaskStatus.TO_BE_SENT]}
SENT_ALREADY, TOO_CLOSE = NORMAL_SENT_ALREADY, NORMAL_TOO_CLOSE


class TaskInput(BaseModel):
    name: str
    content: str = ""
    signature: str = ""  # SMS
    subject: str = ""  # Email subject, App Push / Digital SMS title
    template_id: str = ""  # Digital SMS, Template Message
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
    return normal_task_change_refusal(task.status, _aware(task.send_at), now)


def _keywords(text: str) -> dict[str, str]:
    """Template Message keywords, Digital SMS parameters: typed one a line, "key: value" (or "key=value")."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":") if ":" in line else line.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def _pairs_problem(text: str, noun: str) -> str:
    """Why "key: value" lines do not read as such ("" = they do): a line `_keywords` would drop."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not _keywords(line):
            return f"Line {number} of the {noun}: write each one as key: value."
    return ""


def channel_config(channel: str, data: TaskInput) -> dict[str, Any]:
    """The channel component's config for what the form holds (the carrier's one send component)."""
    content, subject, template = (data.content or "").strip(), (data.subject or "").strip(), (
        data.template_id or "").strip()
    if channel == "sms":
        return {"content": content, "signature": (data.signature or "").strip()}
    if channel == "digital-sms":
        return {"template_id": template, "title": subject, "params": _keywords(content)}
    if channel == "email":
        return {"subject": subject, "body": content}
    if channel == "wechat":
        return {"msg_type": "text", "content": content}
    if channel == "template-message":
        return {"template_id": template, "keywords": _keywords(content)}
    if channel == "app-push":
        return {"title": subject, "body": content}
    raise NotFound(f"No reach channel '{channel}'.")


def config_of(task: NormalTask) -> dict[str, Any]:
    """What the task sends (an SMS task made before `config` existed: its content and signature)."""
    return dict(task.config or {}) or {"content": task.content, "signature": task.signature}


def normal_content(task: NormalTask) -> str:
    """The content as the list shows it (the channel's reading of the config)."""
    return REACH_CHANNELS[task.channel].content(config_of(task)) if task.channel in REACH_CHANNELS else task.content


def _required(channel: str, data: TaskInput) -> None:
    labels = FIELDS[channel]
    kind = REACH_CHANNELS[channel].label
    for field, label in labels.items():
        if field in OPTIONAL.get(channel, ()):
            continue
        if not (getattr(data, field) or "").strip():
            noun = "SMS content" if channel == "sms" else f"{kind} {label.split(' (')[0].lower()}"
            raise Invalid(f"Enter the {noun}.")


def _checked(session: Session, actor: User, channel: str, data: TaskInput,
             now: datetime) -> tuple[TaskInput, dict[str, Any]]:
    name = " ".join((data.name or "").split())
    if not name:
        raise Invalid("Enter a name for the task.")
    if len(name) > NAME_MAX:
        raise Invalid(f"The task name can be at most {NAME_MAX} characters ({len(name)} entered).")
    _required(channel, data)
    if channel == "sms" and (len((data.content or "").strip()) > 500 or len(data.signature or "") > 20):
        raise Invalid("The content can be at most 500 characters and the signature 20.")
    if channel in ("template-message", "digital-sms"):
        if why := _pairs_problem(data.content or "", "keywords" if channel == "template-message" else "parameters"):
            raise Invalid(why)
    config = channel_config(channel, data)
    if channel == "template-message" and not config["keywords"]:
        raise Invalid("Enter the keywords, one a line as key: value.")
    problems = get_component(REACH_CHANNELS[channel].component_type).validate(config)
    if problems:
        raise Invalid(f"{REACH_CHANNELS[channel].label}: {problems[0]}")
    audience = session.get(Audience, data.audience_id) if data.audience_id else None
    if audience is None or audience.workspace_id != actor.workspace_id:
        raise Invalid("Choose the audience to send to.")
    send_at = _aware(data.send_at)
    if send_at is not None and send_at <= now:
        raise Invalid("The send time must be later than now (or choose Send now).")
    return TaskInput(name=name, content=(data.content or "").strip(), signature=(data.signature or "").strip(),
                     subject=(data.subject or "").strip(), template_id=(data.template_id or "").strip(),
                     audience_id=audience.id, send_at=send_at), config


def _apply(task: NormalTask, ok: TaskInput, config: dict[str, Any]) -> None:
    task.name, task.content, task.signature, task.config = ok.name, ok.content[:500], ok.signature, config
    task.audience_id, task.send_at = int(ok.audience_id or 0), ok.send_at


def form_fields(channel: str, config: dict[str, Any], keep: TaskInput | None = None) -> TaskInput:
    """The form's channel fields for a component config — `channel_config` read backwards (Edit; a picked
    template) —, the name, audience and send time kept from `keep`."""
    def text(field: str) -> str:
        return str(config.get(field) or "")

    def pairs(field: str) -> str:
        return "\n".join(f"{k}: {v}" for k, v in dict(config.get(field) or {}).items())

    fields = {"sms": {"content": text("content"), "signature": text("signature")},
              "digital-sms": {"template_id": text("template_id"), "subject": text("title"), "content": pairs("params")},
              "email": {"subject": text("subject"), "content": text("body")},
              "wechat": {"content": text("content")},
              "template-message": {"template_id": text("template_id"), "content": pairs("keywords")},
              "app-push": {"subject": text("title"), "content": text("body")}}.get(channel)
    if fields is None:
        raise NotFound(f"No reach channel '{channel}'.")
    empty = {"content": "", "signature": "", "subject": "", "template_id": ""}
    return (keep or TaskInput(name="")).model_copy(update={**empty, **fields})


def form_of(task: NormalTask) -> TaskInput:
    """The form's fields of a task (Edit)."""
    return form_fields(task.channel, config_of(task), TaskInput(name=task.name, audience_id=task.audience_id,
                                                                 send_at=_aware(task.send_at)))


def create(*, session: Session, actor: User, channel: str, data: TaskInput, now: datetime | None = None) -> NormalTask:
    """A new task, Moderating (the scheduler moderates it on its next tick)."""
    now = now or clock.now()
    require_writer(actor)
    if channel not in CHANNELS:
        raise NotFound(f"No reach channel '{channel}'.")
    ok, config = _checked(session, actor, channel, data, now)
    task = NormalTask(workspace_id=actor.workspace_id, channel=channel, audience_id=0, name="", content="",
                      created_by=row_id(actor), created_at=now, updated_at=now)
    _apply(task, ok, config)
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
    ok, config = _checked(session, actor, task.channel, data, now)
    _apply(task, ok, config)
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

    send = normal_node(task.channel)
    return {"nodes": [node("audience", "target_audience", 0, audience_id=task.audience_id),
                      node(send, REACH_CHANNELS[task.channel].component_type, 260, **config_of(task)),
                      node("end", "end", 520)],
            "edges": [{"source": "audience", "branch": "out", "target": send},
                      {"source": send, "branch": "out", "target": "end"}]}


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
        reasons = moderate(REACH_CHANNELS[task.channel].component_type, config_of(task), words[task.workspace_id])
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
    if channel not in CHANNELS:
        raise NotFound(f"No reach channel '{channel}'.")
    stmt = select(NormalTask).where(NormalTask.workspace_id == actor.workspace_id, NormalTask.channel == channel)
    if actor.role != Role.ADMIN:
        stmt = stmt.where(NormalTask.created_by == actor.id)
    tasks = list(session.exec(stmt.order_by(col(NormalTask.id).desc())).all())
    rounds: dict[int, ExecutionRecord] = {}
    for task in tasks:
        if task.record_id is not None:
            record = session.get(ExecutionRecord, task.record_id)
            if record is not None:
                rounds[row_id(task)] = record
    node = normal_node(channel)
    counters = live_counters(session, sorted({row_id(r) for r in rounds.values()}), {node})
    audiences = {a.id: a.name for a in session.exec(select(Audience).where(
        col(Audience.id).in_({t.audience_id for t in tasks}))).all()}
    out = []
    for task in tasks:
        content = normal_content(task)
        round_ = rounds.get(row_id(task))
        metrics = counters.get(row_id(round_), {}).get(node, {}) if round_ else {}
        if round_ is not None:
            status, why = task_status(round_, metrics, now)
            label = STATUS_LABELS[status]
        else:
            status = TaskStatus.TO_BE_SENT if task.status == NormalTaskStatus.SCHEDULED else task.status.value
            label, why = LABELS.get(task.status, task.status.value), task.reason or ""
        refusal = change_refusal(actor, task, now)
        out.append(NormalRow(
            id=row_id(task), name=task.name, content=content,
            segments=sms_segments(content)[1] if channel == "sms" else 0,
            audience_name=audiences.get(task.audience_id, ""), send_at=_aware(task.send_at), status=status,
            status_label=label, reason=why, created_at=_aware(task.created_at) or now,
            task_id=f"{row_id(round_)}-{node}" if round_ else "", sent=metrics.get("sent", 0),
            success=metrics.get("success", 0), failed=metrics.get("failed", 0),
            edit_refusal=refusal, delete_refusal=refusal))
    return out


__all__ = ["EDIT_MARGIN", "FIELDS", "OPTIONAL", "NormalRow", "TaskInput", "change_refusal", "channel_config",
           "CHANNEL_COMPONENTS", "config_of", "create", "delete", "form_fields", "form_of", "get_normal", "has_work",
           "list_normal", "moderate_and_send", "normal_content", "update"]
