"""The stored Reach Task rows (`reachtask`, engine/models/reach_task.py) follow the engine without the engine
calling them: one session listener (`after_flush`) writes them in the same transaction as the change it follows.

- a new round (not a test round, not a normal task's hidden carrier) → one row per component of a touch channel
  in the version it runs (status To be sent, zeros);
- a round's status / end / failure changing (its end persists its counters first) → its rows' status and
  numbers from the persisted counters;
- an activity renamed, made public or private, given another owner or submitted for review → its rows' names
  and visibility columns;
- a normal task created, edited, moderated or sent → its row (before the send: Moderating / Rejected / To be
  sent; after: its carrier round's status and numbers).

The numbers of a task still moving (To be sent, Sending) come from Redis while its round runs and receipts
arrive: the scheduler refreshes those rows in batches (engine/runtime/reach_refresh.py), so the walk and the
receipts write nothing more. What the list filters and sorts on is thus at most one refresh behind; the rows on
screen read the live counters (engine/services/reach_tasks.py).

Also here, because the listener, the refresh and the list share them: the channels, the task statuses and
`task_status` (a task's status from its round and its counters), and the 72-hour receipt rule's constant.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, column, event, inspect, select, table, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from engine import clock
from engine.flow.moderation import sms_text
from engine.models import Activity, ActivityVersion, ExecutionRecord, NodeCounter, table_of
from engine.models.normal_task import NormalTask, NormalTaskStatus
from engine.models.reach_task import ReachTaskKind, ReachTaskRow
from engine.status import RecordStatus

#: a send with no receipt this long after it went out is failed (engine/runtime/receipts.py applies it)
NO_RECEIPT_AFTER = timedelta(hours=72)


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


def _keywords(config: dict[str, Any]) -> str:
    words = config.get("keywords") or {}
    return " · ".join([str(config.get("template_id") or "")] + [f"{k}: {v}" for k, v in words.items()]).strip(" ·")


CHANNELS: dict[str, Channel] = {c.key: c for c in (
    Channel("sms", "SMS", "text_sms", sms_text),
    Channel("digital-sms", "Digital SMS", "digital_sms", _fields("title", "template_id")),
    Channel("email", "Email", "email", _fields("subject")),
    Channel("wechat", "WeChat", "wechat_message", _fields("content", "title")),
    Channel("template-message", "Template Message", "template_message", _keywords),
    Channel("app-push", "App Push", "app_push", _fields("title", "body")),
)}
_BY_TYPE = {c.component_type: c for c in CHANNELS.values()}


def channel_key(name: str) -> str | None:
    """The Reach Tasks page a typed or remembered name means: its key, or the component type it lists
    (`text_sms` → `sms`, `app_push` → `app-push`), any case; None when it names no channel."""
    wanted = name.strip().lower()
    if wanted in CHANNELS:
        return wanted
    found = _BY_TYPE.get(wanted) or CHANNELS.get(wanted.replace("_", "-"))
    return found.key if found else None


class TaskStatus:
    MODERATING = "moderating"  # normal tasks only
    REJECTED = "rejected"  # normal tasks only
    TO_BE_SENT = "to_be_sent"
    SENDING = "sending"
    COMPLETED = "completed"
    FAILED = "execution_failed"


STATUS_LABELS = {TaskStatus.MODERATING: "Moderating", TaskStatus.REJECTED: "Rejected",
                 TaskStatus.TO_BE_SENT: "To be sent", TaskStatus.SENDING: "Sending",
                 TaskStatus.COMPLETED: "Completed", TaskStatus.FAILED: "Execution Failed"}
STATUS_RANK = {status: rank for rank, status in enumerate(STATUS_LABELS)}  # the status sort
MOVING = (TaskStatus.TO_BE_SENT, TaskStatus.SENDING)  # numbers or status may still change by the counters


def _aware(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


class RoundFacts(Protocol):
    """What a task's status reads of its round (an `ExecutionRecord`, or a row of its columns)."""

    @property
    def status(self) -> str: ...
    @property
    def ended_at(self) -> datetime | None: ...
    @property
    def failure_reason(self) -> str | None: ...


def task_status(record: RoundFacts, metrics: dict[str, int], now: datetime) -> tuple[str, str]:
    """(status, why) of one task from its round and its component's counters:
    - Execution Failed: the round ended Abnormal End (its reason), or it ended and not one send succeeded while
      customers reached the component;
    - To be sent / Sending: the round is In Progress and nobody / somebody reached the component, or it ended and
      sends still await receipts (at most 72 hours);
    - Completed otherwise."""
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


@dataclass(frozen=True)
class Facts:
    """A round's columns `task_status` reads."""

    status: str
    ended_at: datetime | None
    failure_reason: str | None


def measured(facts: RoundFacts, metrics: dict[str, int], now: datetime) -> dict[str, Any]:
    """The row's status and number columns for a round's counters of one component."""
    status, why = task_status(facts, metrics, now)
    return {"status": status, "status_rank": STATUS_RANK[status], "status_reason": why[:500],
            "audience": metrics.get("entered", 0), "sent": metrics.get("sent", 0),
            "success": metrics.get("success", 0), "failed": metrics.get("failed", 0),
            "pending": metrics.get("pending", 0), "not_sent": metrics.get("not_sent", 0)}


def channel_nodes(flow: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """channel key -> the flow's components of that channel, in flow order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for n in (flow or {}).get("nodes") or []:
        if isinstance(n, dict) and n.get("type") in _BY_TYPE:
            out.setdefault(_BY_TYPE[str(n["type"])].key, []).append(n)
    return out


def _visibility(activity: Any) -> dict[str, Any]:
    return {"is_public": bool(activity.is_public), "owner_id": int(activity.owner_id),
            "reviewable": activity.approval_status is not None}


def flow_rows(record: Any, activity: Any, flow: dict[str, Any] | None, counters: dict[str, dict[str, int]],
              now: datetime) -> list[dict[str, Any]]:
    """The rows of one round (`record` and `activity`: objects or rows with their columns)."""
    out = []
    facts = Facts(str(record.status), _aware(record.ended_at), record.failure_reason)
    for key, nodes in channel_nodes(flow).items():
        for i, node in enumerate(nodes, start=1):
            suffix = f" · round {record.number}" + (f" · {CHANNELS[key].label} {i}" if len(nodes) > 1 else "")
            name = f"{activity.name}{suffix}"
            out.append({
                "workspace_id": activity.workspace_id, "channel": key, "kind": ReachTaskKind.FLOW,
                "activity_id": activity.id, "record_id": record.id, "node_id": str(node.get("id")),
                "normal_task_id": None, "number": record.number, "name": name, "name_suffix": suffix,
                "activity_name": activity.name, "sort_name": name.lower(), "sort_activity": activity.name.lower(),
                "started_at": _aware(record.started_at), "updated_at": now, **_visibility(activity),
                **measured(facts, counters.get(str(node.get("id")), {}), now)})
    return out


_ROWS = table_of(ReachTaskRow)
_COUNTERS = table_of(NodeCounter)
# the columns read (never a whole table: the migration's back-fill runs against the schema of its time)
_A = table_of(Activity)
_ACTIVITY = (_A.c.id, _A.c.workspace_id, _A.c.name, _A.c.is_public, _A.c.owner_id, _A.c.approval_status, _A.c.hidden)
_R = table_of(ExecutionRecord)
_RECORD = (_R.c.id, _R.c.activity_id, _R.c.version_id, _R.c.number, _R.c.status, _R.c.started_at, _R.c.ended_at,
           _R.c.failure_reason)
_N = table_of(NormalTask)
_NORMAL = (_N.c.id, _N.c.workspace_id, _N.c.channel, _N.c.name, _N.c.send_at, _N.c.created_at, _N.c.created_by,
           _N.c.status, _N.c.reason, _N.c.record_id)
_V = table_of(ActivityVersion)


def persisted_counters(conn: Connection, record_ids: Iterable[int]) -> dict[int, dict[str, dict[str, int]]]:
    ids = list(record_ids)
    out: dict[int, dict[str, dict[str, int]]] = {}
    for start in range(0, len(ids), 900):
        for rid, nid, metric, value in conn.execute(select(_COUNTERS.c.record_id, _COUNTERS.c.node_id,
                                                           _COUNTERS.c.metric, _COUNTERS.c.value)
                                                    .where(_COUNTERS.c.record_id.in_(ids[start:start + 900]))):
            out.setdefault(int(rid), {}).setdefault(str(nid), {})[str(metric)] = int(value)
    return out


def _new_rounds(conn: Connection, records: list[ExecutionRecord], now: datetime) -> None:
    activities = {a.id: a for a in conn.execute(select(*_ACTIVITY).where(
        _A.c.id.in_({r.activity_id for r in records}))).all()}
    flows = dict(conn.execute(select(_V.c.id, _V.c.flow).where(_V.c.id.in_({r.version_id for r in records}))).all())
    counters = persisted_counters(conn, [int(r.id or 0) for r in records])
    rows = []
    for record in records:
        activity = activities.get(record.activity_id)
        if activity is None or activity.hidden:  # a normal task's carrier: the normal task's row follows it
            continue
        rows += flow_rows(record, activity, flows.get(record.version_id), counters.get(int(record.id or 0), {}), now)
    if rows:
        conn.execute(_ROWS.insert(), rows)


def _ended_rounds(conn: Connection, records: list[ExecutionRecord], now: datetime) -> None:
    counters = persisted_counters(conn, [int(r.id or 0) for r in records])
    changes = []
    for record in records:
        facts = Facts(str(record.status), _aware(record.ended_at), record.failure_reason)
        for row_id, node_id in conn.execute(select(_ROWS.c.id, _ROWS.c.node_id).where(
                _ROWS.c.record_id == record.id)).all():
            changes.append({"_id": row_id, "updated_at": now,
                            **measured(facts, counters.get(int(record.id or 0), {}).get(node_id, {}), now)})
    write_changes(conn, changes)


def write_changes(conn: Connection, changes: list[dict[str, Any]]) -> None:
    """UPDATE reachtask rows by id (`_id`), in one executemany per set of columns."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        by_columns.setdefault(tuple(sorted(k for k in change if k != "_id")), []).append(change)
    for columns, batch in by_columns.items():
        conn.execute(update(_ROWS).where(_ROWS.c.id == bindparam("_id"))
                     .values({c: bindparam(c) for c in columns}), batch)


def _activities_changed(conn: Connection, activities: list[Activity], now: datetime) -> None:
    changes = []
    for activity in activities:
        for row_id, suffix in conn.execute(select(_ROWS.c.id, _ROWS.c.name_suffix).where(
                _ROWS.c.activity_id == activity.id, _ROWS.c.kind == ReachTaskKind.FLOW)).all():
            name = f"{activity.name}{suffix}"
            changes.append({"_id": row_id, "name": name, "sort_name": name.lower(), "activity_name": activity.name,
                            "sort_activity": activity.name.lower(), "updated_at": now, **_visibility(activity)})
    write_changes(conn, changes)


def normal_row(conn: Connection, task: Any, now: datetime) -> dict[str, Any]:
    """The row of one normal task (before its send: its own status; after: its carrier round's)."""
    row: dict[str, Any] = {
        "workspace_id": task.workspace_id, "channel": task.channel, "kind": ReachTaskKind.NORMAL,
        "activity_id": None, "record_id": task.record_id, "node_id": normal_node(task.channel),
        "normal_task_id": task.id, "number": 0, "name": task.name, "name_suffix": "", "activity_name": "",
        "sort_name": task.name.lower(), "sort_activity": "", "is_public": False, "owner_id": task.created_by,
        "reviewable": False, "updated_at": now,
        "started_at": _aware(task.send_at) or _aware(task.created_at) or now}
    record = conn.execute(select(*_RECORD).where(_R.c.id == task.record_id)).first() if task.record_id else None
    if record is not None:
        counters = persisted_counters(conn, [record.id]).get(record.id, {})
        row["started_at"] = _aware(record.started_at)
        row.update(measured(record, counters.get(row["node_id"], {}), now))
        return row
    status = {NormalTaskStatus.MODERATING: TaskStatus.MODERATING, NormalTaskStatus.REJECTED: TaskStatus.REJECTED}.get(
        task.status, TaskStatus.TO_BE_SENT)
    row.update({"status": status, "status_rank": STATUS_RANK[status], "status_reason": (task.reason or "")[:500],
                "audience": 0, "sent": 0, "success": 0, "failed": 0, "pending": 0, "not_sent": 0})
    return row


def normal_node(channel: str) -> str:
    """The node id of a normal task's one send component in its carrier's flow ("sms", "email", "app_push")."""
    return channel.replace("-", "_")


def _normal_tasks(conn: Connection, tasks: list[NormalTask], now: datetime) -> None:
    for task in tasks:
        row = normal_row(conn, task, now)
        found = conn.execute(select(_ROWS.c.id).where(_ROWS.c.normal_task_id == task.id)).first()
        if found is None:
            conn.execute(_ROWS.insert(), [row])
        else:
            write_changes(conn, [{"_id": found[0], **{k: v for k, v in row.items() if k != "normal_task_id"}}])


def _changed(obj: object, names: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in names)


@event.listens_for(Session, "after_flush")
def _follow(session: Session, _context: object) -> None:
    new = [o for o in session.new if isinstance(o, ExecutionRecord) and not o.is_test]
    ended = [o for o in session.dirty if isinstance(o, ExecutionRecord) and not o.is_test
             and _changed(o, ("status", "ended_at", "failure_reason"))]
    activities = [o for o in session.dirty if isinstance(o, Activity)
                  and _changed(o, ("name", "is_public", "owner_id", "approval_status"))]
    tasks = [o for o in list(session.new) + list(session.dirty) if isinstance(o, NormalTask)
             and o not in session.deleted]
    if not (new or ended or activities or tasks):
        return
    conn = session.connection()
    now = clock.now()
    if new:
        _new_rounds(conn, new, now)
    if ended:
        _ended_rounds(conn, ended, now)
    if activities:
        _activities_changed(conn, activities, now)
    if tasks:
        _normal_tasks(conn, tasks, now)


def _bare(row: dict[str, Any]) -> Any:
    """`reachtask` with exactly the row's columns: the back-fill runs in migration 0014, whose schema later
    migrations may extend (the model's other columns, and their defaults, must not be written then)."""
    return table("reachtask", *[column(k, _ROWS.c[k].type) for k in row])


def backfill(conn: Connection, now: datetime | None = None) -> int:
    """Rows for every round and normal task that has none (migration 0014_reachperf; data bulk-loaded with SQL,
    e.g. bench/reach_list.py). Returns how many rows it wrote."""
    now = now or clock.now()
    done = {int(r) for r in conn.execute(select(_ROWS.c.record_id).where(_ROWS.c.record_id.is_not(None))
                                         .distinct()).scalars()}
    activities = {a.id: a for a in conn.execute(select(*_ACTIVITY)).all()}
    flows: dict[int, Any] = {}
    written = 0
    last = 0
    while True:  # rounds in chunks (counters are read per chunk)
        chunk = list(conn.execute(select(*_RECORD).where(_R.c.id > last, _R.c.is_test.is_(False))
                                  .order_by(_R.c.id).limit(5000)).all())
        if not chunk:
            break
        last = chunk[-1].id
        todo = [r for r in chunk if r.id not in done]
        missing = {r.version_id for r in todo} - set(flows)
        if missing:
            flows.update(dict(conn.execute(select(_V.c.id, _V.c.flow).where(_V.c.id.in_(missing))).all()))
        counters = persisted_counters(conn, [r.id for r in todo])
        rows = []
        for record in todo:
            activity = activities.get(record.activity_id)
            if activity is None or activity.hidden:
                continue
            rows += flow_rows(record, activity, flows.get(record.version_id), counters.get(record.id, {}), now)
        if rows:
            conn.execute(_bare(rows[0]).insert(), rows)
            written += len(rows)
    for task in conn.execute(select(*_NORMAL).where(~_N.c.id.in_(
            select(_ROWS.c.normal_task_id).where(_ROWS.c.normal_task_id.is_not(None))))).all():
        row = normal_row(conn, task, now)
        conn.execute(_bare(row).insert(), [row])
        written += 1
    return written


__all__ = ["CHANNELS", "MOVING", "NO_RECEIPT_AFTER", "STATUS_LABELS", "STATUS_RANK", "Channel", "Facts", "TaskStatus",
           "backfill", "channel_nodes", "flow_rows", "measured", "normal_node", "normal_row", "persisted_counters",
           "task_status", "write_changes"]
