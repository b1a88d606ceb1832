"""Reach tasks: the sends of one touch channel, one task per (execution round × sending component of that
channel in the round's version), for the Reach Tasks pages (`/reach/<channel>`, seed 003).

Where the numbers come from: the round's counters (`execution.counters_of`), the very numbers the canvas and
the action analysis panel show, so the three agree while a round sends:
- audience size = customers who entered the component (`entered`);
- actually sent = succeeded + failed + no receipt yet (`sent`; customers without a phone are `not_sent`,
  never handed to the provider, as the seed's note on "numbers empty" says);
- a send with no receipt 72 hours after it went out is failed by the scheduler (`receipts.expire_pending`,
  reason "No receipt within 72 hours"): it moves from "no receipt" to failed and the task's failure reasons
  name it.

Status, derived from the round and the counters (`task_status`, engine/shared/reach_rows.py): To be sent,
Sending, Execution Failed (with why), Completed; a normal task before its send is Moderating, Rejected or To be
sent (engine/services/normal_tasks.py).

How a page is read (issue 14: 100,000 tasks): every task has a stored row (`reachtask`, kept by the engine:
engine/shared/reach_rows.py, engine/runtime/reach_refresh.py) with its status, numbers, names and visibility
columns, and an index per filter and sort, so the database counts, filters, orders and cuts the page as the
activity list does. The rows on the page then read their round, flow and counters (live from Redis) in full.

Visibility: `permissions.visible_clause` on the task's activity, the activity list's rule: a private
activity's tasks only for its creator and admins; an activity filter naming one the actor cannot see is "not
found" (also when typed into the URL). Reading only: managers see what a marketer would.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from sqlalchemy import exists, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from engine import clock
from engine.channels.config import channel_settings
from engine.components.registry import get_component
from engine.errors import Invalid, NotFound
from engine.flow.moderation import sms_segments
from engine.models import (
    Activity,
    ActivityVersion,
    Audience,
    CustomerStep,
    ExecutionRecord,
    Role,
    Schedule,
    User,
    row_id,
)
from engine.models.normal_task import NormalTask
from engine.models.reach_task import ReachTaskKind, ReachTaskRow
from engine.permissions import can_see, can_write, visible_clause
from engine.runtime.reach_refresh import live_counters
from engine.services.listing import campaign_names, schedule_label
from engine.services.normal_tasks import change_refusal, normal_content
from engine.shared.reach_rows import (
    CHANNELS,
    NO_RECEIPT_AFTER,
    STATUS_LABELS,
    Channel,
    RoundFacts,
    TaskStatus,
    channel_key,
    task_status,
)
from engine.status import RecordStatus

SORTABLE = ("name", "activity", "started_at", "audience", "sent", "success", "failed", "status")
KINDS = (ReachTaskKind.FLOW, ReachTaskKind.NORMAL)
MAX_PAGE_SIZE = 200
TOP_REASONS = 3
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_R = ReachTaskRow


class TaskQuery(BaseModel):
    search: str = ""  # in the task's name (which holds the activity's name)
    activity_id: int | None = None
    status: str | None = None
    kind: str | None = None  # "flow" (sends of flows) / "normal" (created on the page); None: both
    sort: str = "started_at"
    descending: bool = True
    page: int = 1
    page_size: int = 20


class ReachTask(BaseModel):
    id: str  # "<record id>-<node id>"
    name: str
    activity_id: int
    activity_name: str
    is_public: bool
    owner_id: int
    record_id: int
    record_number: int
    node_id: str
    campaigns: list[str]
    content: str
    segments: int  # SMS parts the content takes before variables are filled in (0 for other channels)
    audience_name: str
    audience: int  # customers who entered the component
    sent: int  # success + failed + no receipt yet
    success: int
    failed: int
    pending: int  # no receipt yet
    not_sent: int  # no phone number: never handed to the provider
    platform: str
    channel_type: str  # the component's label ("Text SMS")
    sending_type: str  # Once / Scheduled · daily ...
    status: str
    status_label: str
    status_reason: str = ""  # why Execution Failed
    failure_reasons: list[tuple[str, int]] = Field(default_factory=list)  # top reasons of the failed sends
    started_at: datetime
    ended_at: datetime | None = None
    live: bool = False  # its numbers still move (round In Progress or receipts awaited)
    kind: str = ReachTaskKind.FLOW
    normal_id: int = 0  # a normal task's id (its Edit / Delete)
    send_at: datetime | None = None  # a normal task's planned time (None: at once)
    edit_refusal: str = ""  # normal tasks: why not Edit / Delete now ("" = may); flow tasks are not edited here


class TaskPage(BaseModel):
    rows: list[ReachTask]
    total: int
    page: int
    page_size: int
    activities: list[tuple[int, str]]  # the filter's choices: visible activities with a task of the channel
    can_create: bool = False  # the actor may create normal tasks (admins and marketers)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def channel_of(key: str) -> Channel:
    try:
        return CHANNELS[key]
    except KeyError:
        raise NotFound(f"No reach channel '{key}'.") from None


def _aware(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


@dataclass(frozen=True, slots=True)
class _Round:
    """The columns of a round the list needs: plain values, not an ORM object per round (a list reads every
    visible round; the page's rows load their records and activities in full)."""

    id: int
    activity_id: int
    version_id: int
    number: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    failure_reason: str | None

    @classmethod
    def of(cls, record: ExecutionRecord) -> "_Round":
        return cls(id=row_id(record), activity_id=record.activity_id, version_id=record.version_id,
                   number=record.number, status=record.status, started_at=record.started_at,
                   ended_at=record.ended_at, failure_reason=record.failure_reason)


@dataclass
class _Candidate:
    record: _Round
    activity_name: str
    node: dict[str, Any]
    index: int  # 1-based among the channel's components of the flow
    of: int  # how many the flow has
    name: str
    metrics: dict[str, int] | None = None
    status: tuple[str, str] | None = None


_ROUND_COLUMNS = (col(ExecutionRecord.id), col(ExecutionRecord.activity_id), col(ExecutionRecord.version_id),
                  col(ExecutionRecord.number), col(ExecutionRecord.status), col(ExecutionRecord.started_at),
                  col(ExecutionRecord.ended_at), col(ExecutionRecord.failure_reason))


def _channel_nodes(session: Session, version_ids: set[int], channel: Channel) -> dict[int, list[dict[str, Any]]]:
    """version id -> its components of the channel's type, in flow order."""
    if not version_ids:
        return {}
    rows = session.exec(select(ActivityVersion.id, ActivityVersion.flow)
                        .where(col(ActivityVersion.id).in_(version_ids))).all()
    return {int(vid): [n for n in (flow or {}).get("nodes") or []  # type: ignore[arg-type]
                       if isinstance(n, dict) and n.get("type") == channel.component_type]
            for vid, flow in rows}


def _measure(session: Session, found: list[_Candidate], now: datetime) -> None:
    """Counters and status of each candidate (all rounds' counters read in one batch)."""
    counters = live_counters(session, sorted({c.record.id for c in found}), {str(c.node["id"]) for c in found})
    for c in found:
        c.metrics = counters.get(c.record.id, {}).get(str(c.node["id"]), {})
        c.status = task_status(c.record, c.metrics, now)


def _audience_name(session: Session, flow_trigger: dict[str, Any] | None) -> str:
    if flow_trigger is None:
        return ""
    config = flow_trigger.get("config") or {}
    if flow_trigger.get("type") == "target_audience" and config.get("audience_id"):
        audience = session.get(Audience, config["audience_id"])
        return audience.name if audience else ""
    return "Behaviour event" + (f": {config['event']}" if config.get("event") else "")


def _trigger(session: Session, version_id: int) -> dict[str, Any] | None:
    version = session.get(ActivityVersion, version_id)
    nodes = (version.flow if version else {}).get("nodes") or []
    targets = {e.get("target") for e in (version.flow if version else {}).get("edges") or []}
    return next((n for n in nodes if isinstance(n, dict) and n.get("id") not in targets), None)


def _reasons(session: Session, record_id: int, node_id: str) -> list[tuple[str, int]]:
    rows = session.exec(
        select(CustomerStep.reason, func.count())
        .where(CustomerStep.record_id == record_id, CustomerStep.node_id == node_id, CustomerStep.result == "failed")
        .group_by(CustomerStep.reason).order_by(func.count().desc()).limit(TOP_REASONS)
    ).all()
    return [(reason or "Unknown reason", int(n)) for reason, n in rows]


def _sending_type(activity: Activity) -> str:
    if activity.schedule == Schedule.ONCE:
        return "Once"
    return "Scheduled · " + schedule_label(activity.schedule, activity.schedule_every)


def _platform(channel: Channel, workspace_id: int) -> str:
    """The provider the channel sends through, as the workspace's settings say (Settings → Channels over the
    environment): the SMTP relay for email, the provider's host for the others; "Provider simulator" when it is
    the local one (a loopback address)."""
    settings = channel_settings(workspace_id)
    if channel.component_type == "email":
        host = settings.smtp_host or ""
        return "SMTP relay (local)" if host in LOOPBACK else (host or "SMTP relay")
    host = urlsplit(settings.provider_url).hostname or ""
    if host in LOOPBACK:
        return "Provider simulator"
    return host or "Provider"


def _task(session: Session, c: _Candidate, channel: Channel, campaigns: list[str], now: datetime) -> ReachTask:
    m = c.metrics or {}
    status, why = c.status or (TaskStatus.TO_BE_SENT, "")
    rid, nid = c.record.id, str(c.node["id"])
    activity = session.get(Activity, c.record.activity_id)
    assert activity is not None  # the list just read it (its rows cascade with it)
    reasons = _reasons(session, rid, nid) if m.get("failed") or m.get("not_sent") else []
    if status == TaskStatus.FAILED and c.record.status != RecordStatus.ABNORMAL_END and reasons:
        why += " Reasons: " + "; ".join(f"{r} ({n:,})" for r, n in reasons)
    ended = _aware(c.record.ended_at)
    live = c.record.status == RecordStatus.IN_PROGRESS or (
        bool(m.get("pending")) and (ended is None or now - ended < NO_RECEIPT_AFTER))
    return ReachTask(
        id=f"{rid}-{nid}", name=c.name, activity_id=c.record.activity_id,
        activity_name=activity.name, is_public=activity.is_public, owner_id=activity.owner_id,
        record_id=rid, record_number=c.record.number, node_id=nid, campaigns=campaigns,
        content=(content := channel.content(c.node.get("config") or {})),
        segments=sms_segments(content)[1] if channel.component_type == "text_sms" else 0,
        audience_name=_audience_name(session, _trigger(session, c.record.version_id)),
        audience=m.get("entered", 0), sent=m.get("sent", 0), success=m.get("success", 0),
        failed=m.get("failed", 0), pending=m.get("pending", 0), not_sent=m.get("not_sent", 0),
        platform=_platform(channel, activity.workspace_id), channel_type=get_component(channel.component_type).label,
        sending_type=_sending_type(activity), status=status, status_label=STATUS_LABELS[status],
        status_reason=why.strip(), failure_reasons=reasons, started_at=_aware(c.record.started_at),  # type: ignore[arg-type]
        ended_at=ended, live=live,
    )


def _row_scope(actor: User, channel: Channel, query: TaskQuery) -> list[Any]:
    """The stored rows' WHERE: the channel, the actor's visibility (the activity list's rule on the columns the
    listener keeps; a normal task: its creator and admins) and the filters."""
    where: list[Any] = [col(_R.workspace_id) == actor.workspace_id, col(_R.channel) == channel.key]
    if actor.role != Role.ADMIN:
        seen = (col(_R.is_public).is_(True)) | (col(_R.owner_id) == actor.id)
        if actor.role == Role.REVIEWER:
            seen = seen | col(_R.reviewable).is_(True)
        where.append(seen)
    if query.activity_id is not None:
        where.append(col(_R.activity_id) == query.activity_id)
    if query.status:
        where.append(col(_R.status) == query.status)
    if query.kind:
        where.append(col(_R.kind) == query.kind)
    needle = query.search.strip().lower()
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(col(_R.sort_name).like(f"%{escaped}%", escape="\\"))
    return where


_ORDER = {"name": ("sort_name",), "activity": ("sort_activity", "number"), "started_at": ("started_at",),
          "audience": ("audience",), "sent": ("sent",), "success": ("success",), "failed": ("failed",),
          "status": ("status_rank",)}


def list_tasks(*, session: Session, actor: User, channel: str, query: TaskQuery,
               now: datetime | None = None) -> TaskPage:
    """One page of the channel's tasks the actor may see, filtered, sorted and paged by the database over the
    stored rows (module docstring); the page's rows are then read in full with their live counters."""
    chan = channel_of(channel)
    now = now or clock.now()
    if query.sort not in SORTABLE:
        raise Invalid(f"Cannot sort by '{query.sort}'.")
    if query.status and query.status not in STATUS_LABELS:
        raise Invalid(f"Unknown task status '{query.status}'.")
    if query.kind and query.kind not in KINDS:
        raise Invalid(f"Unknown task type '{query.kind}'.")
    if query.activity_id is not None:
        activity = session.get(Activity, query.activity_id)
        if activity is None or not can_see(actor, activity) or activity.hidden:
            raise NotFound("Activity not found.")
    page_size = min(max(query.page_size, 1), MAX_PAGE_SIZE)
    where = _row_scope(actor, chan, query)
    total = int(session.execute(sa_select(func.count()).select_from(_R).where(*where)).scalar_one())
    page = min(max(query.page, 1), max(1, -(-total // page_size)))
    order = [getattr(_R, c) for c in _ORDER[query.sort]] + [_R.id]
    ids = [int(i) for i in session.execute(
        sa_select(col(_R.id)).where(*where).order_by(*[col(o).desc() if query.descending else col(o).asc()
                                                        for o in order])
        .offset((page - 1) * page_size).limit(page_size)).scalars()]
    stored = {r.id: r for r in session.exec(select(ReachTaskRow).where(col(ReachTaskRow.id).in_(ids))).all()}
    rows = _page_rows(session, actor, chan, [stored[i] for i in ids if i in stored], now)
    return TaskPage(rows=rows, total=total, page=page, page_size=page_size,
                    activities=_activity_choices(session, actor, chan), can_create=can_write(actor))


def _page_rows(session: Session, actor: User, chan: Channel, stored: list[ReachTaskRow],
               now: datetime) -> list[ReachTask]:
    """The page's tasks in full: each round's record, its flow's component and the live counters (one batch)."""
    records = {row_id(r): r for r in session.exec(select(ExecutionRecord).where(
        col(ExecutionRecord.id).in_({s.record_id for s in stored if s.record_id is not None}))).all()}
    nodes = _channel_nodes(session, {r.version_id for r in records.values()}, chan)
    normals = {row_id(t): t for t in session.exec(select(NormalTask).where(
        col(NormalTask.id).in_({s.normal_task_id for s in stored if s.normal_task_id is not None}))).all()}
    found: dict[int, _Candidate] = {}
    for s in stored:
        record = records.get(s.record_id or 0)
        flow_nodes = nodes.get(record.version_id, []) if record is not None else []
        index = next((i for i, n in enumerate(flow_nodes, start=1) if str(n.get("id")) == s.node_id), 0)
        if record is not None and index:
            found[int(s.id or 0)] = _Candidate(record=_Round.of(record), activity_name=s.activity_name, node=flow_nodes[
                index - 1], index=index, of=len(flow_nodes), name=s.name)
    _measure(session, list(found.values()), now)
    campaigns = campaign_names(session=session, activity_ids=list({s.activity_id for s in stored if s.activity_id}))
    out = []
    for s in stored:
        c = found.get(int(s.id or 0))
        task = _task(session, c, chan, campaigns.get(c.record.activity_id, []), now) if c is not None else None
        if s.kind == ReachTaskKind.NORMAL:
            normal = normals.get(s.normal_task_id or 0)
            if normal is None:
                continue
            task = _normal_task(session, actor, normal, s, chan, task, now)
        if task is not None:
            out.append(task)
    return out


def _normal_task(session: Session, actor: User, normal: NormalTask, stored: ReachTaskRow, chan: Channel,
                 sent: ReachTask | None, now: datetime) -> ReachTask:
    """A normal task as the list shows it: once sent, its carrier round's task (live numbers) under its own name;
    before, its own status and reason."""
    refusal = change_refusal(actor, normal, now)
    extra: dict[str, Any] = {"kind": ReachTaskKind.NORMAL, "normal_id": row_id(normal),
                             "send_at": _aware(normal.send_at),
                             "edit_refusal": refusal, "name": normal.name, "activity_name": "", "campaigns": [],
                             "sending_type": "Normal · " + ("at a set time" if normal.send_at else "send now")}
    if sent is not None:
        return sent.model_copy(update=extra)
    audience = session.get(Audience, normal.audience_id)
    content = normal_content(normal)
    return ReachTask(
        id=f"normal-{row_id(normal)}", activity_id=0, is_public=False, owner_id=normal.created_by, record_id=0,
        record_number=0, node_id="", content=content,
        segments=sms_segments(content)[1] if chan.component_type == "text_sms" else 0,
        audience_name=audience.name if audience else "", audience=0, sent=0, success=0, failed=0, pending=0,
        not_sent=0, platform=_platform(chan, normal.workspace_id),
        channel_type=get_component(chan.component_type).label,
        status=stored.status, status_label=STATUS_LABELS.get(stored.status, stored.status),
        status_reason=stored.status_reason, started_at=_aware(stored.started_at) or now,
        live=stored.status in (TaskStatus.MODERATING, TaskStatus.TO_BE_SENT), **extra)


def parse_task_id(task_id: str) -> tuple[int, str]:
    """(record id, node id) of a task id "<record>-<node>"; NotFound when it is not one."""
    record, sep, node_id = (task_id or "").partition("-")
    if not sep or not record.isdigit() or not node_id:
        raise NotFound("Task not found.")
    return int(record), node_id


def get_task(*, session: Session, actor: User, channel: str, task_id: str, now: datetime | None = None) -> ReachTask:
    """One task by its id, as the list shows it; a task of an activity the actor may not see is "not found",
    like a missing one (also typed into a URL)."""
    chan = channel_of(channel)
    now = now or clock.now()
    record_id, node_id = parse_task_id(task_id)
    record = session.get(ExecutionRecord, record_id)
    activity = session.get(Activity, record.activity_id) if record is not None else None
    if record is None or activity is None or not can_see(actor, activity):
        raise NotFound("Task not found.")
    nodes = _channel_nodes(session, {record.version_id}, chan).get(record.version_id, [])
    index = next((i for i, n in enumerate(nodes, start=1) if str(n.get("id")) == node_id), 0)
    if not index:
        raise NotFound("Task not found.")
    name = f"{activity.name} · round {record.number}" + (f" · {chan.label} {index}" if len(nodes) > 1 else "")
    found = _Candidate(record=_Round.of(record), activity_name=activity.name, node=nodes[index - 1], index=index,
                       of=len(nodes), name=name)
    _measure(session, [found], now)
    campaigns = campaign_names(session=session, activity_ids=[activity.id])
    return _task(session, found, chan, campaigns.get(int(activity.id), []), now)  # type: ignore[arg-type]


def _activity_choices(session: Session, actor: User, channel: Channel) -> list[tuple[int, str]]:
    """Visible activities with a task of the channel (the activity filter): one indexed probe per activity."""
    has_task = exists().where(col(_R.activity_id) == col(Activity.id), col(_R.channel) == channel.key)
    rows = session.execute(sa_select(col(Activity.id), col(Activity.name)).where(visible_clause(actor), has_task)).all()
    return sorted(((int(aid), str(name)) for aid, name in rows), key=lambda item: (item[1].lower(), item[0]))


__all__ = ["CHANNELS", "KINDS", "NO_RECEIPT_AFTER", "RoundFacts", "sms_segments", "STATUS_LABELS", "SORTABLE",
           "ReachTask", "channel_key",
           "TaskPage", "TaskQuery", "TaskStatus", "channel_of", "get_task", "list_tasks", "parse_task_id",
           "task_status"]
