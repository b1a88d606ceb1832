"""Incoming Users of a round: the customers who entered through its trigger, what became of each one, and
the route one customer took — from the per-customer details (the route rows of the walks and the sends' step
rows, engine/runtime/details.py), which are kept 7 days (engine/runtime/lifecycle.py `purge_details`).

A customer's result: Success once they reached the end of a route (an End), Failure when a component failed
for them (its reason) or their round was stopped before they finished, otherwise still in the flow (walking,
or parked at a Wait Until). A send that failed for a customer (no address, a provider's refusal) is the send's
result, not the customer's: they go on along the flow.
"""

import math
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from engine import clock
from engine.components.registry import is_send
from engine.errors import Invalid, NotFound
from engine.flow.graph import FlowGraph, graph_for
from engine.models import ActivityVersion, Customer, ExecutionRecord, User, row_id
from engine.models import CustomerRoute as RouteRow
from engine.runtime.details import customer_steps
from engine.runtime.lifecycle import RETENTION
from engine.services import activities
from engine.services.execution import END, display_kind
from engine.status import RecordStatus

#: the panel's time filters: key → how far back (None: since the round began)
WINDOWS: dict[str, timedelta | None] = {"5m": timedelta(minutes=5), "all": None}
MAX_PAGE_SIZE = 100
SUCCESS, FAILURE, IN_FLOW = "success", "failure", "in_flow"
STOPPED_REASON = "The round was stopped before they finished the flow."


class IncomingRow(BaseModel):
    customer_id: int
    qaid: str
    name: str
    entered_at: datetime
    status: str  # success / failure / in_flow
    reason: str = ""  # why it failed, or where they wait
    node_id: str = ""  # the component where it failed / they wait


class IncomingPage(BaseModel):
    record_id: int
    record_number: int
    trigger_id: str
    window: str
    rows: list[IncomingRow]
    total: int  # entered within the window (details still kept)
    page: int
    pages: int
    page_size: int
    expired: bool  # the round's details are gone: older than the retention
    retention_days: int = RETENTION.days


class CustomerRoute(BaseModel):
    """The components a customer passed in a round and the links between them (ids as the canvas draws them:
    `source|branch|target`)."""

    customer_id: int
    qaid: str
    nodes: list[str]
    edges: list[str]


def _record(session: Session, actor: User, record_id: int) -> tuple[ExecutionRecord, FlowGraph]:
    """The record if its activity is visible to `actor` (else NotFound, like a missing one), and its flow."""
    record = session.get(ExecutionRecord, record_id)
    if record is None:
        raise NotFound("Execution record not found.")
    activities.get_activity(session=session, actor=actor, activity_id=record.activity_id)
    version = session.get(ActivityVersion, record.version_id)
    if version is None:
        raise NotFound("Version not found.")
    return record, graph_for(row_id(version), version.flow)


def _steps_of(session: Session, record_id: int, graph: FlowGraph, customer_ids: list[int]) -> dict[int, list[Any]]:
    """Every passage of these customers in the round (route entries and sends), per customer."""
    sends = [n for n, node in graph.nodes.items() if is_send(str(node.get("type")))]
    found: dict[int, list[Any]] = defaultdict(list)
    for row in customer_steps(session, record_id, customer_ids, sends):
        found[row.customer_id].append(row)
    return found


def _outcome(record: ExecutionRecord, graph: FlowGraph, steps: list[Any]) -> tuple[str, str, str]:
    """(status, reason, node) of one customer from their steps."""
    for step in steps:
        if step.result == "failed" and not step.branch:  # not routed on: the component failed for them
            return FAILURE, step.reason or "The component failed.", step.node_id
    ends = [s for s in steps if display_kind(str(graph.nodes.get(s.node_id, {}).get("type"))) == END]
    if ends:
        return SUCCESS, "", ends[0].node_id
    parked = next((s for s in steps if s.result == "parked"), None)
    if record.status == RecordStatus.STOPPED:
        return FAILURE, STOPPED_REASON, parked.node_id if parked else ""
    if record.status == RecordStatus.IN_PROGRESS:
        if parked is not None:
            return IN_FLOW, "Waiting", parked.node_id
        return IN_FLOW, "", ""
    return SUCCESS, "", ""  # the round is over and nothing failed for them


def customer_outcome(record: ExecutionRecord, graph: FlowGraph, steps: list[Any]) -> tuple[str, str, str]:
    """(status, reason, node) of one customer in a round from their steps (the Customers profile's too)."""
    return _outcome(record, graph, steps)


def incoming_users(*, session: Session, actor: User, record_id: int, window: str = "all", page: int = 1,
                   page_size: int = 20) -> IncomingPage:
    """The customers who entered a round through its trigger, the latest first, one page at a time."""
    if window not in WINDOWS:
        raise Invalid(f"Unknown time filter '{window}': choose Last 5 Minutes or To Date.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(f"A page holds 1 to {MAX_PAGE_SIZE} customers.")
    record, graph = _record(session, actor, record_id)
    trigger = graph.trigger_id or ""
    now = clock.now()
    # who entered: the route rows of the walks that began at the trigger (a resumed walk begins at its wait)
    where: list[ColumnElement[bool]] = [col(RouteRow.record_id) == record.id, col(RouteRow.start_node) == trigger]
    span = WINDOWS[window]
    if span is not None:
        where.append(col(RouteRow.at) >= now - span)
    total = int(session.exec(select(func.count()).select_from(RouteRow).where(*where)).one())
    expired = False
    if total == 0:
        kept = session.exec(select(RouteRow.customer_id).where(RouteRow.record_id == record.id)
                            .limit(1)).first()
        expired = kept is None and (record.ended_at or now) < now - RETENTION
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    entered = session.exec(
        select(RouteRow.customer_id, RouteRow.at, Customer.qaid, Customer.name)
        .join(Customer, col(Customer.id) == RouteRow.customer_id)
        .where(*where)
        .order_by(col(RouteRow.at).desc(), col(RouteRow.customer_id))
        .offset((page - 1) * page_size).limit(page_size)).all()
    steps = _steps_of(session, row_id(record), graph, [cid for cid, *_ in entered])
    rows = []
    for cid, at, qaid, name in entered:
        status, reason, node = _outcome(record, graph, steps.get(cid, []))
        rows.append(IncomingRow(customer_id=cid, qaid=qaid, name=name, entered_at=at, status=status, reason=reason,
                                node_id=node))
    return IncomingPage(record_id=row_id(record), record_number=record.number,
                        trigger_id=trigger, window=window, rows=rows, total=total, page=page, pages=pages,
                        page_size=page_size, expired=expired)


def customer_route(*, session: Session, actor: User, record_id: int, customer_id: int) -> CustomerRoute:
    """The components one customer passed in a round and the links they took between them."""
    record, graph = _record(session, actor, record_id)
    steps = _steps_of(session, row_id(record), graph, [customer_id]).get(customer_id, [])
    if not steps:
        raise NotFound("This customer's details in the round are no longer kept (7 days) or never existed.")
    customer = session.get(Customer, customer_id)
    passed = {s.node_id for s in steps}
    edges = sorted({f"{s.node_id}|{s.branch}|{target}" for s in steps if s.branch
                    for target in graph.targets(s.node_id, s.branch) if target in passed})
    order = [n for n in graph.nodes if n in passed]
    return CustomerRoute(customer_id=customer_id, qaid=customer.qaid if customer else "", nodes=order, edges=edges)
