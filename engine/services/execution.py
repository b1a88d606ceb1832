"""Execution data of a round: what each component of an execution record has counted so far, and what the
canvas shows on top of each component.

While a round is In Progress its counters live in Redis (the workers add to them); when it ends they are
persisted to NodeCounter. `counters_of` reads whichever holds the truth, so the canvas, the action analysis
panel and the dashboard all show the same numbers.

`execution_view` is the one place that maps the runtime's metric names (engine/runtime/step.py `metrics_for`,
receipts, the AB refresh) to the seed's execution data per component:

- a trigger, wait, split, judgment, Tag, Generate Audience: met the condition (`passed`) / entered (`entered`);
- a send (Marketing Touch, Webhook, Push Kafka: every `SendingComponent`): failed / succeeded / actually sent
  / entered (`failed`, `success`, `sent` = success + failed + no receipt yet, `entered`); "no receipt yet"
  (`pending`) shows between succeeded and sent while there is any, so the card's own numbers add up;
- the AB test: winning group (`winner`, a group number) / targets achieved / inflows;
- End: reached.
Which display a component gets comes from its class in the component registry, not from a list of type names.
"""

import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import redis
from pydantic import BaseModel
from sqlmodel import Session, col, select

from engine import clock
from engine.components.ab_test import AbTest
from engine.components.end import End
from engine.components.registry import UnknownComponent, get_component
from engine.components.sending import SendingComponent
from engine.errors import NotFound
from engine.flow.registry import Category
from engine.models import Activity, ActivityVersion, ExecutionRecord, NodeCounter, User, row_id
from engine.runtime.connection import get_redis
from engine.runtime.receipts import NO_RECEIPT_AFTER
from engine.runtime.store import RoundStore
from engine.services import activities, pacing
from engine.status import RecordStatus

log = logging.getLogger(__name__)

#: display forms of the execution data (the seed's table)
FLOW, SEND, AB, END = "flow", "send", "ab", "end"


def persisted_counters(session: Session, record_id: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for row in session.exec(select(NodeCounter).where(NodeCounter.record_id == record_id)):
        out[row.node_id][row.metric] = row.value
    return dict(out)


def counters_of(session: Session, record: ExecutionRecord) -> dict[str, dict[str, int]]:
    """node id → metric → total for one record (no permission check: callers obtained the record through
    engine.services.activities.get_activity / records, which enforce visibility).

    Redis is the source while it holds the round (8 days): an ended round's persisted copy is overlaid with it,
    since receipts, the AB refresh and a walk still finishing when its round was stopped keep counting there.
    After Redis has forgotten the round, the persisted copy is all there is."""
    persisted = persisted_counters(session, row_id(record))
    try:
        live = RoundStore(get_redis()).counters(row_id(record))
    except redis.RedisError as err:
        log.warning("live counters of record %s unavailable: %s", record.id, err)
        return persisted
    if not persisted:
        return live
    merged = {node: dict(metrics) for node, metrics in persisted.items()}
    for node, metrics in live.items():
        merged.setdefault(node, {}).update(metrics)
    return merged


# ---------------------------------------------------------------------------------------------- the view


class NodeExecution(BaseModel):
    """What the canvas shows on top of one component: `values` in the seed's order, `extra` for tooltips."""

    node_id: str
    kind: str  # flow / send / ab / end
    trigger: bool
    values: list[tuple[str, int]]  # (key, number); keys: met, entered, failed, capped, success, pending, sent,
    #                                winner, targets, inflows, reached
    winner: str = ""  # ab: the winning group's name ("" while no group has achieved a target)
    extra: dict[str, int] = {}  # pending (no receipt yet), not_sent (no address), waiting (parked), stopped
    #                             (the round was stopped before they were sent / went on)


class ExecutionView(BaseModel):
    """Which version and round the canvas shows, and the execution data of each component (empty for a Draft
    or never-run activity: the configuration only)."""

    activity_id: int
    version_id: int
    version_number: int
    record_id: int | None = None
    record_number: int | None = None
    record_status: str = ""
    record_status_label: str = ""
    record_version_number: int | None = None  # the version the round ran (Details may show a newer one)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    live: bool = False  # the round is In Progress: its numbers still move
    awaiting_receipts: bool = False  # ended, but sends still wait for receipts (72 h): their numbers still move
    nodes: dict[str, NodeExecution] = {}


def display_kind(component_type: str) -> str:
    """The seed's display form of a component type, from its class in the registry."""
    try:
        component = get_component(component_type)
    except UnknownComponent:
        return FLOW
    if isinstance(component, SendingComponent):
        return SEND
    if isinstance(component, AbTest):
        return AB
    if isinstance(component, End):
        return END
    return FLOW


def _group_name(node: dict[str, Any], number: int) -> str:
    groups = (node.get("config") or {}).get("groups") or []
    name = ""
    if 0 < number <= len(groups) and isinstance(groups[number - 1], dict):
        name = str(groups[number - 1].get("name") or "").strip()
    return name or f"Group {number}"


def shown_if_any(m: dict[str, int], *keys: str) -> list[tuple[str, int]]:
    """Issue 15/16's outcomes (opted out, capped, exited, held out): a card shows them once there are any, so a
    flow that uses none of these rules keeps the seed's card."""
    return [(key, m[key]) for key in keys if m.get(key)]


def node_execution(node: dict[str, Any], metrics: dict[str, int]) -> NodeExecution:
    """The execution data of one component from its counters (metric names as the runtime writes them)."""
    node_type = str(node.get("type"))
    kind = display_kind(node_type)
    try:
        trigger = get_component(node_type).category == Category.TRIGGER
    except UnknownComponent:
        trigger = False
    m = defaultdict(int, metrics)
    entered = m["entered"]
    if kind == SEND:
        return NodeExecution(node_id=str(node["id"]), kind=kind, trigger=trigger,
                             values=[("failed", m["failed"]), *shown_if_any(m, "opted_out", "capped", "exited"),
                                     ("success", m["success"]), *shown_if_any(m, "pending"), ("sent", m["sent"]),
                                     ("entered", entered)],
                             extra={"pending": m["pending"], "not_sent": m["not_sent"], "stopped": m["stopped"],
                                    "opted_out": m["opted_out"],  # opted out of the channel: not sent (consent)
                                    **pacing.card_extra(m)})
    if kind == AB:
        winner = m["winner"]
        inflows = sum(v for k, v in m.items() if k.startswith("inflow_")) or entered
        return NodeExecution(node_id=str(node["id"]), kind=kind, trigger=trigger,
                             values=[("winner", winner), ("targets", m["targets_achieved"]), ("inflows", inflows)],
                             winner=_group_name(node, winner) if winner else "")
    if kind == END:
        return NodeExecution(node_id=str(node["id"]), kind=kind, trigger=trigger, values=[("reached", entered)])
    extra = {"waiting": max(m["parked"] - m["passed"] - m["exited"], 0)} if m["parked"] else {}
    if m["stopped"]:  # the round was stopped while these customers were here: they went no further
        extra["stopped"] = m["stopped"]
    return NodeExecution(node_id=str(node["id"]), kind=kind, trigger=trigger,
                         values=[*shown_if_any(m, "held_out", "exited"), ("met", m["passed"]), ("entered", entered)],
                         extra=extra)


def _latest_record(session: Session, activity_id: int, version_id: int | None = None) -> ExecutionRecord | None:
    stmt = select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)
    if version_id is not None:
        stmt = stmt.where(ExecutionRecord.version_id == version_id)
    return session.exec(stmt.order_by(col(ExecutionRecord.number).desc())).first()


def _shown(session: Session, activity: Activity, record_id: int | None,
           version_id: int | None) -> tuple[ActivityVersion, ExecutionRecord | None]:
    """Which version the canvas draws and which round's numbers go on it: a round (its version); a version (its
    latest round); neither (Details: the current version and the activity's latest round)."""
    if record_id is not None:
        record = session.get(ExecutionRecord, record_id)
        if record is None or record.activity_id != activity.id:
            raise NotFound("Execution record not found.")
        version = session.get(ActivityVersion, record.version_id)
        assert version is not None
        return version, record
    if version_id is not None:
        version = session.get(ActivityVersion, version_id)
        if version is None or version.activity_id != activity.id:
            raise NotFound("Version not found.")
        return version, _latest_record(session, row_id(activity), version_id)
    version = session.get(ActivityVersion, activity.current_version_id)
    if version is None:
        raise NotFound("Version not found.")
    return version, _latest_record(session, row_id(activity))


def execution_view(*, session: Session, actor: User, activity_id: int, record_id: int | None = None,
                   version_id: int | None = None) -> ExecutionView:
    """The version shown on the canvas and the execution data of the round shown, per component.

    Visibility: the activity must be visible to `actor` (a private one of someone else is NotFound). Details
    (neither id) draws the current version with the latest round's numbers; a component whose id is not in the
    round's version, or is another type there, shows none (it did not run)."""
    activity = activities.get_activity(session=session, actor=actor, activity_id=activity_id)
    version, record = _shown(session, activity, record_id, version_id)
    view = ExecutionView(activity_id=row_id(activity), version_id=row_id(version),
                         version_number=version.number)
    if record is None:
        return view
    status = RecordStatus(record.status)
    ran = version if record.version_id == version.id else session.get(ActivityVersion, record.version_id)
    view.record_id, view.record_number = record.id, record.number
    view.record_status, view.record_status_label = status.value, status.label
    view.record_version_number = ran.number if ran else None
    view.started_at, view.ended_at = record.started_at, record.ended_at
    view.live = status == RecordStatus.IN_PROGRESS
    ran_types = {str(n["id"]): n.get("type") for n in (ran.flow if ran else {}).get("nodes") or []}
    counters = counters_of(session, record)
    for node in version.flow.get("nodes") or []:
        nid = str(node["id"])
        if ran_types.get(nid) != node.get("type"):
            continue
        view.nodes[nid] = node_execution(node, counters.get(nid, {}))
    ended = record.ended_at
    if not view.live and any(n.extra.get("pending") for n in view.nodes.values()):
        if ended is not None and ended.tzinfo is None:
            ended = ended.replace(tzinfo=UTC)
        view.awaiting_receipts = ended is None or clock.now() - ended < NO_RECEIPT_AFTER
    return view
