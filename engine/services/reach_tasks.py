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

Status, derived from the round and the counters (`task_status`):
- **To be sent**: the round is In Progress and nobody has reached the component yet;
- **Sending**: the round is In Progress and customers reached it, or the round ended and sends still await
  receipts (at most 72 hours);
- **Execution Failed** (with why): the round ended Abnormal End (its failure reason), or it ended and not one
  send succeeded while some customers reached the component (the top failure reasons);
- **Completed**: the round ended and every send has its result.

Visibility: `permissions.visible_clause` on the task's activity, the activity list's rule: a private
activity's tasks only for its creator and admins; an activity filter naming one the actor cannot see is "not
found" (also when typed into the URL). Reading only: managers see what a marketer would.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import redis
from pydantic import BaseModel, Field
from sqlalchemy import String, cast, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from engine import clock
from engine.components.registry import get_component
from engine.errors import Invalid, NotFound
from engine.flow.moderation import sms_segments, sms_text
from engine.models import (
    Activity,
    ActivityVersion,
    Audience,
    CustomerStep,
    ExecutionRecord,
    NodeCounter,
    Schedule,
    User,
    row_id,
)
from engine.permissions import can_see, visible_clause
from engine.runtime.connection import get_redis
from engine.runtime.receipts import NO_RECEIPT_AFTER
from engine.runtime.store import RoundStore
from engine.services.listing import campaign_names, schedule_label
from engine.settings import get_settings
from engine.status import RecordStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Channel:
    """A Reach Tasks page: its route segment, the component type it lists, how its content reads."""

    key: str
    label: str
    component_type: str
    content: Callable[[dict[str, Any]], str]


def _fields(*names: str) -> Callable[[dict[str, Any]], str]:
    def read(config: dict[str, Any]) -> str:
        return " · ".join(str(config[n]) for n in names if config.get(n))
    return read


CHANNELS: dict[str, Channel] = {c.key: c for c in (
    Channel("sms", "SMS", "text_sms", sms_text),
    Channel("digital-sms", "Digital SMS", "digital_sms", _fields("title", "template_id")),
    Channel("email", "Email", "email", _fields("subject")),
    Channel("wechat", "WeChat", "wechat_message", _fields("content", "title")),
    Channel("template-message", "Template Message", "template_message", _fields("template_id")),
    Channel("app-push", "App Push", "app_push", _fields("title", "body")),
)}


class TaskStatus:
    TO_BE_SENT = "to_be_sent"
    SENDING = "sending"
    COMPLETED = "completed"
    FAILED = "execution_failed"


STATUS_LABELS = {TaskStatus.TO_BE_SENT: "To be sent", TaskStatus.SENDING: "Sending",
                 TaskStatus.COMPLETED: "Completed", TaskStatus.FAILED: "Execution Failed"}
SORTABLE = ("name", "activity", "started_at", "audience", "sent", "success", "failed", "status")
MAX_PAGE_SIZE = 200
TOP_REASONS = 3
MAX_SQL_VERSIONS = 30_000  # versions named in one IN (...) of the SQL-paged list
IN_CHUNK = 900  # ids per IN (...) list: under SQLite's host-parameter limit with room to spare
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class TaskQuery(BaseModel):
    search: str = ""  # in the task's name (which holds the activity's name)
    activity_id: int | None = None
    status: str | None = None
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


class TaskPage(BaseModel):
    rows: list[ReachTask]
    total: int
    page: int
    page_size: int
    activities: list[tuple[int, str]]  # the filter's choices: visible activities with a task of the channel

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


class RoundFacts(Protocol):
    """What a task's status reads of its round (an `ExecutionRecord`, or the list's `_Round`)."""

    @property
    def status(self) -> str: ...
    @property
    def ended_at(self) -> datetime | None: ...
    @property
    def failure_reason(self) -> str | None: ...


def task_status(record: RoundFacts, metrics: dict[str, int], now: datetime) -> tuple[str, str]:
    """(status, why) of one task from its round and its component's counters (module docstring)."""
    entered, pending = metrics.get("entered", 0), metrics.get("pending", 0)
    success, failed = metrics.get("success", 0), metrics.get("failed", 0)
    if record.status == RecordStatus.ABNORMAL_END:
        return TaskStatus.FAILED, record.failure_reason or "The round ended abnormally."
    if record.status == RecordStatus.IN_PROGRESS:
        return (TaskStatus.SENDING if entered else TaskStatus.TO_BE_SENT), ""
    ended = _aware(record.ended_at)
    if pending and (ended is None or now - ended < NO_RECEIPT_AFTER):
        return TaskStatus.SENDING, ""
    if entered and not success:
        if not failed and not pending:
            return TaskStatus.FAILED, "No customer of the audience could be sent to (no phone number)."
        return TaskStatus.FAILED, f"None of the {failed + pending:,} sends succeeded."
    return TaskStatus.COMPLETED, ""


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


def _candidates(session: Session, actor: User, channel: Channel, query: TaskQuery) -> list[_Candidate]:
    """Every visible round × component of the channel, named, filtered by activity and name. Each version's flow
    is read once (a periodic activity has hundreds of rounds of one version)."""
    stmt = (sa_select(*_ROUND_COLUMNS, col(Activity.name))
            .join(Activity, col(Activity.id) == col(ExecutionRecord.activity_id))
            .where(visible_clause(actor), col(ExecutionRecord.is_test).is_(False)))  # seed 004: tests are no sends
    if query.activity_id is not None:
        stmt = stmt.where(col(ExecutionRecord.activity_id) == query.activity_id)
    found = [(_Round(*row[:8]), str(row[8])) for row in session.execute(stmt).all()]
    sends = _channel_nodes(session, {r.version_id for r, _ in found}, channel)
    out: list[_Candidate] = []
    needle = query.search.strip().lower()
    for record, activity_name in found:
        nodes = sends.get(record.version_id, [])
        for i, node in enumerate(nodes, start=1):
            name = f"{activity_name} · round {record.number}"
            if len(nodes) > 1:
                name += f" · {channel.label} {i}"
            if needle and needle not in name.lower():
                continue
            out.append(_Candidate(record=record, activity_name=activity_name, node=node, index=i, of=len(nodes),
                                  name=name))
    return out


def _channel_nodes(session: Session, version_ids: set[int], channel: Channel) -> dict[int, list[dict[str, Any]]]:
    """version id -> its components of the channel's type, in flow order."""
    if not version_ids:
        return {}
    rows = session.exec(select(ActivityVersion.id, ActivityVersion.flow)
                        .where(col(ActivityVersion.id).in_(version_ids))).all()
    return {int(vid): [n for n in (flow or {}).get("nodes") or []  # type: ignore[arg-type]
                       if isinstance(n, dict) and n.get("type") == channel.component_type]
            for vid, flow in rows}


def _counters(session: Session, record_ids: list[int], node_ids: set[str]) -> dict[int, dict[str, dict[str, int]]]:
    """`execution.counters_of` for many rounds at once, limited to the channel's components: the persisted
    copy (one query per 900 rounds) overlaid with what Redis holds (one pipelined round trip)."""
    persisted: dict[int, dict[str, dict[str, int]]] = {}
    for start in range(0, len(record_ids), IN_CHUNK):
        chunk = record_ids[start:start + IN_CHUNK]
        for rid, nid, metric, value in session.exec(
                select(NodeCounter.record_id, NodeCounter.node_id, NodeCounter.metric, NodeCounter.value)
                .where(col(NodeCounter.record_id).in_(chunk), col(NodeCounter.node_id).in_(node_ids))).all():
            persisted.setdefault(int(rid), {}).setdefault(str(nid), {})[str(metric)] = int(value)
    try:
        live = RoundStore(get_redis()).counters_many(record_ids) if record_ids else {}
    except redis.RedisError as err:
        log.warning("live counters of %s rounds unavailable: %s", len(record_ids), err)
        return persisted
    for rid, nodes in live.items():
        merged = persisted.setdefault(rid, {})
        for node, metrics in nodes.items():
            merged.setdefault(node, {}).update(metrics)
    return persisted


def _measure(session: Session, found: list[_Candidate], now: datetime) -> None:
    """Counters and status of each candidate (all rounds' counters read in one batch)."""
    counters = _counters(session, sorted({c.record.id for c in found}), {str(c.node["id"]) for c in found})
    for c in found:
        c.metrics = counters.get(c.record.id, {}).get(str(c.node["id"]), {})
        c.status = task_status(c.record, c.metrics, now)


def _sort_key(sort: str) -> Callable[[_Candidate], Any]:
    metric = {"audience": "entered", "sent": "sent", "success": "success", "failed": "failed"}
    if sort == "name":
        return lambda c: (c.name.lower(), c.record.id, c.index)
    if sort == "activity":
        return lambda c: (c.activity_name.lower(), c.record.number, c.index)
    if sort == "status":
        order = list(STATUS_LABELS)
        return lambda c: (order.index(c.status[0]) if c.status else 0, c.record.id, c.index)
    if sort in metric:
        return lambda c: ((c.metrics or {}).get(metric[sort], 0), c.record.id, c.index)
    return lambda c: (_aware(c.record.started_at), c.record.id, c.index)


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


def _platform() -> str:
    """The provider the channel sends through: the local simulator (a loopback address), else its host."""
    host = urlsplit(get_settings().provider_url).hostname or ""
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
        platform=_platform(), channel_type=get_component(channel.component_type).label,
        sending_type=_sending_type(activity), status=status, status_label=STATUS_LABELS[status],
        status_reason=why.strip(), failure_reasons=reasons, started_at=_aware(c.record.started_at),  # type: ignore[arg-type]
        ended_at=ended, live=live,
    )


def _sql_page(session: Session, actor: User, channel: Channel, query: TaskQuery,
              page_size: int) -> tuple[list[_Candidate], int, int] | None:
    """(the page's candidates, total, page) counted, ordered and cut by the database, when every version with a
    component of the channel has exactly one (a task is then a round) and the order is a column's (time, name,
    activity); None otherwise (the caller derives every task in Python). A name search is a LIKE on the task's
    name as SQL spells it (case-insensitive for ASCII letters on SQLite, for every script on PostgreSQL)."""
    scope = [visible_clause(actor)]
    if query.activity_id is not None:
        scope.append(col(ExecutionRecord.activity_id) == query.activity_id)
    version_ids = {int(v) for v in session.execute(
        sa_select(col(ExecutionRecord.version_id)).distinct()
        .join(Activity, col(Activity.id) == col(ExecutionRecord.activity_id)).where(*scope)).scalars()}
    nodes = _channel_nodes(session, version_ids, channel)
    if any(len(n) > 1 for n in nodes.values()):
        return None
    keep = sorted(vid for vid, n in nodes.items() if n)
    if len(keep) > MAX_SQL_VERSIONS:
        return None
    name = col(Activity.name) + " · round " + cast(col(ExecutionRecord.number), String)
    where = [*scope, col(ExecutionRecord.version_id).in_(keep)]
    needle = query.search.strip()
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(name.ilike(f"%{escaped}%", escape="\\"))

    def joined(stmt: Any) -> Any:  # a Select of any columns (its type parameters vary per call)
        return stmt.join(Activity, col(Activity.id) == col(ExecutionRecord.activity_id)).where(*where)

    total = int(session.execute(joined(sa_select(func.count()).select_from(ExecutionRecord))).scalar_one())
    page = min(max(query.page, 1), max(1, -(-total // page_size)))
    if query.sort == "name":
        order = [func.lower(name), col(ExecutionRecord.id)]
    elif query.sort == "activity":
        order = [func.lower(col(Activity.name)), col(ExecutionRecord.number)]
    else:
        order = [col(ExecutionRecord.started_at), col(ExecutionRecord.id)]
    rows = session.execute(joined(sa_select(*_ROUND_COLUMNS, col(Activity.name)))
                           .order_by(*[o.desc() if query.descending else o.asc() for o in order])
                           .offset((page - 1) * page_size).limit(page_size)).all()
    shown = []
    for row in rows:
        record, activity_name = _Round(*row[:8]), str(row[8])
        shown.append(_Candidate(record=record, activity_name=activity_name, node=nodes[record.version_id][0],
                                index=1, of=1, name=f"{activity_name} · round {record.number}"))
    return shown, total, page


def list_tasks(*, session: Session, actor: User, channel: str, query: TaskQuery,
               now: datetime | None = None) -> TaskPage:
    """One page of the channel's tasks the actor may see, filtered, sorted and paged (module docstring).

    Counters are read for the page only, unless a status filter or a numeric / status sort needs them for every
    task that passed the other filters."""
    chan = channel_of(channel)
    now = now or clock.now()
    if query.sort not in SORTABLE:
        raise Invalid(f"Cannot sort by '{query.sort}'.")
    if query.status and query.status not in STATUS_LABELS:
        raise Invalid(f"Unknown task status '{query.status}'.")
    if query.activity_id is not None:
        activity = session.get(Activity, query.activity_id)
        if activity is None or not can_see(actor, activity):
            raise NotFound("Activity not found.")
    page_size = min(max(query.page_size, 1), MAX_PAGE_SIZE)
    measured_all = bool(query.status) or query.sort in ("audience", "sent", "success", "failed", "status")
    in_sql = None if measured_all else _sql_page(session, actor, chan, query, page_size)
    if in_sql is not None:
        shown, total, page = in_sql
    else:
        found = _candidates(session, actor, chan, query)
        if measured_all:
            _measure(session, found, now)
        if query.status:
            found = [c for c in found if c.status and c.status[0] == query.status]
        found.sort(key=_sort_key(query.sort), reverse=query.descending)
        total = len(found)
        page = min(max(query.page, 1), max(1, -(-total // page_size)))
        shown = found[(page - 1) * page_size: page * page_size]
    if not measured_all:
        _measure(session, shown, now)
    campaigns = campaign_names(session=session, activity_ids=list({c.record.activity_id for c in shown}))
    rows = [_task(session, c, chan, campaigns.get(c.record.activity_id, []), now) for c in shown]
    return TaskPage(rows=rows, total=total, page=page, page_size=page_size,
                    activities=_activity_choices(session, actor, chan))


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
    """Visible activities that have run a version with a component of the channel (the activity filter)."""
    rows = session.exec(
        select(Activity.id, Activity.name, ExecutionRecord.version_id)
        .join(ExecutionRecord, col(ExecutionRecord.activity_id) == col(Activity.id))
        .where(visible_clause(actor), col(ExecutionRecord.is_test).is_(False)).distinct()
    ).all()
    sends = _channel_nodes(session, {int(vid) for _aid, _name, vid in rows}, channel)
    out = {int(aid): name for aid, name, vid in rows if sends.get(int(vid))}  # type: ignore[arg-type]
    return sorted(out.items(), key=lambda item: (item[1].lower(), item[0]))


__all__ = ["CHANNELS", "sms_segments", "STATUS_LABELS", "SORTABLE", "ReachTask", "TaskPage", "TaskQuery", "TaskStatus",
           "channel_of", "get_task", "list_tasks", "parse_task_id", "task_status"]
