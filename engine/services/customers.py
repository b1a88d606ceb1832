"""Customers (`/customers`, issue 15): prefix search and the customer profile, and the admins' edits and
deletion (the right to be forgotten).

Search: one term matched as a *prefix* of the QAID (as typed), the name or the email (case-insensitive) or the
phone number (digits, normalised as stored), each through an index of migration 0013_customers, so a search
over a million customers reads a few index ranges (docs/BENCHMARKS.md). The total is counted up to
`COUNT_LIMIT` ("10,000+" beyond: a search that broad is refined, not paged through).

Phones: only an admin sees a whole number; everyone else gets the last four digits (masked here, so no page or
export can forget it), and finds a customer by phone only with the whole number (a prefix search would let one
read a number digit by digit through the matches).

The profile's execution data — every round the customer entered with their route and result (the Incoming
Users data) and every message sent with its result (the sends' step rows) — comes from the per-customer details
(engine/runtime/details.py), kept 7 days like everywhere else; only rounds of activities the viewer may see are
read (`permissions.visible_clause`: a private activity's rows only for its creator and admins). Consent per
channel is engine/services/consent.py's (the profile page reads it there).

Changes (attributes, tags, deletion) are for admins; deleting a customer removes them with their tags, events,
audience memberships, route and send rows, and leaves every counter (the rounds' numbers stay true to what
happened).
"""

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import ColumnElement, CursorResult, Select, and_, bindparam, delete, func, or_, select
from sqlmodel import Session, col

from engine import clock
from engine.components.registry import COMPONENTS, is_send
from engine.errors import Forbidden, Invalid, NotFound
from engine.flow.graph import FlowGraph, graph_for
from engine.models import (
    Activity,
    ActivityVersion,
    AudienceMember,
    BehaviorEvent,
    Customer,
    CustomerRoute,
    CustomerStep,
    CustomerTag,
    ExecutionRecord,
    Role,
    User,
    row_id,
    table_of,
)
from engine.permissions import visible_clause
from engine.runtime.details import customer_steps
from engine.runtime.lifecycle import RETENTION
from engine.services import consent
from engine.services.incoming import customer_outcome
from engine.shared.customers import (
    TAG_NAME_MAX,
    check_tag,
    normalize_phone,
    not_staff,
    remove_tag,
    set_tag,
)

COUNT_LIMIT = 10_000
MAX_PAGE_SIZE = 100
MAX_TERM = 254
SORTS = ("qaid", "name", "created_at")
EVENTS_SHOWN = 20
ENTRIES_SHOWN = 100  # rounds entered, newest first
MESSAGES_SHOWN = 200
ATTRIBUTE_NAME_MAX = 60
ADMIN_ONLY = "Only an admin can change or delete a customer."
NOT_FOUND = "Customer not found."
NO_CONSENT_NOTE = ("Each channel shows whether the customer can be reached there (its contact field is set); "
                   "their consent per channel is below.")

CUSTOMER = table_of(Customer)
ROUTE = table_of(CustomerRoute)
STEP = table_of(CustomerStep)
#: a sort's key: each has an index (workspace_id, key) to walk in order; names sort case-insensitively
SORT_KEYS: dict[str, ColumnElement[Any]] = {"qaid": CUSTOMER.c.qaid, "name": func.lower(CUSTOMER.c.name),
                                            "created_at": CUSTOMER.c.created_at}
_PHONE_TERM = re.compile(r"^\+?[0-9][0-9 \-().]*$")
_CHUNK = 500

#: (channel label, contact field) in the order the profile lists them; the send components' own fields
CHANNELS: list[tuple[str, str]] = [
    ("SMS and Digital SMS", "phone"), ("Email", "email"), ("WeChat and Template Message", "wechat_openid"),
    ("App Push", "push_token"),
]


class CustomerRow(BaseModel):
    id: int
    qaid: str
    name: str
    phone: str  # masked for everyone but admins
    email: str
    created_at: datetime


class CustomerPage(BaseModel):
    query: str
    rows: list[CustomerRow]
    total: int  # capped at COUNT_LIMIT
    more: bool  # more than COUNT_LIMIT matched
    page: int
    pages: int
    page_size: int
    sort: str
    descending: bool


class TagValue(BaseModel):
    tag: str
    value: str
    updated_at: datetime


class ChannelReach(BaseModel):
    channel: str
    field: str
    reachable: bool
    note: str


class EventRow(BaseModel):
    name: str
    occurred_at: datetime
    properties: str  # JSON text


class RoundEntry(BaseModel):
    """One round the customer entered: when, what became of them and the route they took."""

    activity_id: int
    activity_name: str
    public: bool
    record_id: int
    record_number: int
    entered_at: datetime
    status: str  # incoming.SUCCESS / FAILURE / IN_FLOW
    reason: str
    route: list[str]  # the components passed, in the flow's order, as "Label (node id)"


class MessageRow(BaseModel):
    activity_id: int
    activity_name: str
    record_id: int
    record_number: int
    node_id: str
    channel: str
    result: str  # success / failed / pending
    reason: str
    at: datetime


class CustomerProfile(BaseModel):
    id: int
    qaid: str
    name: str
    phone: str
    phone_masked: bool
    email: str
    wechat_openid: str
    push_token: str
    timezone: str
    created_at: datetime
    attributes: dict[str, Any]
    tags: list[TagValue]
    channels: list[ChannelReach]
    consent_note: str
    events: list[EventRow]
    entries: list[RoundEntry]
    messages: list[MessageRow]
    retention_days: int
    edit_refusal: str  # "" when the viewer may edit and delete


# ------------------------------------------------------------------------------------------------ helpers


def mask_phone(phone: str | None) -> str:
    """The last four digits, the rest as bullets ("+8613800138000" -> "•••• 8000")."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    return "•••• " + digits[-4:] if len(digits) > 4 else "••••"


def _phone_for(actor: User, phone: str | None) -> str:
    return (phone or "") if actor.role == Role.ADMIN else mask_phone(phone)


def _edit_refusal(actor: User) -> str:
    return "" if actor.role == Role.ADMIN else ADMIN_ONLY


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden(ADMIN_ONLY)


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _prefix(session: Session, expr: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """`expr` starts with `prefix`, in the form the dialect's index serves (migration 0013_customers): a
    byte-wise range on SQLite, LIKE 'p%' (text_pattern_ops) on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return expr.like(escaped + "%", escape="\\")
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1) if ord(prefix[-1]) < 0x10FFFF else None
    if upper is None:
        return expr >= prefix
    return and_(expr >= prefix, expr < upper)


def _alternatives(session: Session, actor: User, term: str) -> list[ColumnElement[bool]]:
    """The fields a search term may begin (see the module's docstring), one condition each."""
    lower = term.lower()
    found: list[ColumnElement[bool]] = [
        _prefix(session, CUSTOMER.c.qaid, term),
        _prefix(session, func.lower(CUSTOMER.c.name), lower),
        _prefix(session, func.lower(CUSTOMER.c.email), lower),
    ]
    if _PHONE_TERM.match(term):
        phone = normalize_phone(term)
        candidates = [phone] if phone.startswith("+") else [phone, "+" + phone]
        if actor.role == Role.ADMIN:
            found += [_prefix(session, CUSTOMER.c.phone, p) for p in candidates]
        else:
            found.append(CUSTOMER.c.phone.in_(candidates))
    return found


def _match(session: Session, actor: User, term: str) -> ColumnElement[bool]:
    """The customers of the actor's workspace a search term finds. The workspace is repeated in each
    alternative, so that each is one index range (SQLite's OR-by-union, PostgreSQL's BitmapOr) rather than one
    scan of the workspace: what a narrow term wants."""
    same_ws = CUSTOMER.c.workspace_id == actor.workspace_id
    return and_(not_staff(CUSTOMER.c.id), or_(*(and_(same_ws, f) for f in _alternatives(session, actor, term))))


def _page_query(session: Session, actor: User, term: str, sort: str, descending: bool, broad: bool) -> Select[Any]:
    """The statement of one page's rows (without offset and limit). A broad term (more than COUNT_LIMIT
    matches) is the opposite case of a narrow one: sorting tens of thousands of matches costs far more than
    walking the sort key's index (workspace_id, key) in order and testing each customer, since one in a hundred
    or more matches; so its alternatives are not distributed and the planner takes the walk."""
    same_ws = and_(CUSTOMER.c.workspace_id == actor.workspace_id, not_staff(CUSTOMER.c.id))
    if not term:
        where = same_ws
    elif broad:
        where = and_(same_ws, or_(*_alternatives(session, actor, term)))
    else:
        where = _match(session, actor, term)
    key = SORT_KEYS[sort]
    order = [key.desc() if descending else key.asc(), CUSTOMER.c.id.desc() if descending else CUSTOMER.c.id.asc()]
    return select(CUSTOMER.c.id, CUSTOMER.c.qaid, CUSTOMER.c.name, CUSTOMER.c.phone, CUSTOMER.c.email,
                  CUSTOMER.c.created_at).where(where).order_by(*order)


def _customer(session: Session, actor: User, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != actor.workspace_id or customer.staff_user_id is not None:
        raise NotFound(NOT_FOUND)
    return customer


# ------------------------------------------------------------------------------------------------ search


def search_customers(*, session: Session, actor: User, query: str = "", sort: str = "qaid",
                     descending: bool = False, page: int = 1, page_size: int = 20) -> CustomerPage:
    """One page of the workspace's customers whose QAID, name, email or phone starts with `query` (all of them
    when it is empty), sorted by `sort`."""
    term = query.strip()
    if len(term) > MAX_TERM:
        raise Invalid(f"Search for at most {MAX_TERM} characters.")
    if sort not in SORTS:
        raise Invalid(f"Unknown sort '{sort}': choose QAID, name or created.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Invalid(f"A page holds 1 to {MAX_PAGE_SIZE} customers.")
    where = (_match(session, actor, term) if term
             else and_(CUSTOMER.c.workspace_id == actor.workspace_id, not_staff(CUSTOMER.c.id)))
    limited = select(CUSTOMER.c.id).where(where).limit(COUNT_LIMIT + 1).subquery()
    counted = int(session.execute(select(func.count()).select_from(limited)).scalar_one())
    more = counted > COUNT_LIMIT
    total = min(counted, COUNT_LIMIT)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    found = session.execute(_page_query(session, actor, term, sort, descending, more)
                            .offset((page - 1) * page_size).limit(page_size)).all()
    rows = [CustomerRow(id=cid, qaid=qaid, name=name or "", phone=_phone_for(actor, phone), email=email or "",
                        created_at=created) for cid, qaid, name, phone, email, created in found]
    return CustomerPage(query=term, rows=rows, total=total, more=more, page=page, pages=pages,
                        page_size=page_size, sort=sort, descending=descending)


# ------------------------------------------------------------------------------------------------ profile


def _label(graph: FlowGraph, node_id: str) -> str:
    kind = str(graph.nodes.get(node_id, {}).get("type") or "")
    component = COMPONENTS.get(kind)
    return f"{component.label if component else kind or 'Component'} ({node_id})"


def _visible_records(session: Session, actor: User) -> list[tuple[ExecutionRecord, Activity, ActivityVersion]]:
    """The rounds whose details may still be kept (ended within the retention, or still running) of the
    activities `actor` may see."""
    cutoff = clock.now() - RETENTION
    return [(r[0], r[1], r[2]) for r in session.execute(
        select(ExecutionRecord, Activity, ActivityVersion)
        .join(Activity, col(Activity.id) == ExecutionRecord.activity_id)
        .join(ActivityVersion, col(ActivityVersion.id) == ExecutionRecord.version_id)
        .where(visible_clause(actor),
               or_(col(ExecutionRecord.ended_at).is_(None), col(ExecutionRecord.ended_at) >= cutoff))).all()]


def _entries_and_messages(session: Session, actor: User, customer_id: int) -> tuple[list[RoundEntry],
                                                                                    list[MessageRow]]:
    """Every visible round the customer entered (route, result) and every message sent to them."""
    records = _visible_records(session, actor)
    by_id = {row_id(r): (r, a, v) for r, a, v in records}
    graphs = {rid: graph_for(row_id(v), v.flow) for rid, (_r, _a, v) in by_id.items()}
    # route rows through their primary key (record_id, customer_id, ...): one probe per round
    walks: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for part in _chunks(list(by_id)):
        for rid, start, at in session.execute(
                select(ROUTE.c.record_id, ROUTE.c.start_node, ROUTE.c.at)
                .where(ROUTE.c.record_id.in_(part), ROUTE.c.customer_id == customer_id)):
            walks[rid].append((start, at))
    entries: list[RoundEntry] = []
    for rid, starts in walks.items():
        record, activity, _version = by_id[rid]
        graph = graphs[rid]
        entered = [at for start, at in starts if start == (graph.trigger_id or "")]
        if not entered:
            continue
        sends = [n for n, node in graph.nodes.items() if is_send(str(node.get("type")))]
        steps = customer_steps(session, rid, [customer_id], sends)
        status, reason, _node = customer_outcome(record, graph, steps)
        passed = {s.node_id for s in steps}
        entries.append(RoundEntry(
            activity_id=row_id(activity), activity_name=activity.name, public=activity.is_public, record_id=rid,
            record_number=record.number, entered_at=min(entered), status=status, reason=reason,
            route=[_label(graph, n) for n in graph.nodes if n in passed]))
    entries.sort(key=lambda e: (e.entered_at, e.record_id), reverse=True)
    # send rows through their primary key (record_id, node_id, customer_id)
    send_nodes = {rid: [n for n, node in g.nodes.items() if is_send(str(node.get("type")))]
                  for rid, g in graphs.items()}
    with_sends = [rid for rid, nodes in send_nodes.items() if nodes]
    messages: list[MessageRow] = []
    for part in _chunks(with_sends, 100):
        nodes = sorted({n for rid in part for n in send_nodes[rid]})
        for rid, node_id, result, reason, at in session.execute(
                select(STEP.c.record_id, STEP.c.node_id, STEP.c.result, STEP.c.reason, STEP.c.at).where(
                    STEP.c.record_id.in_(bindparam("records", expanding=True)),
                    STEP.c.node_id.in_(bindparam("nodes", expanding=True)), STEP.c.customer_id == customer_id),
                {"records": part, "nodes": nodes}):
            if node_id not in send_nodes[rid]:
                continue
            record, activity, _version = by_id[rid]
            kind = str(graphs[rid].nodes[node_id].get("type"))
            component = COMPONENTS.get(kind)
            messages.append(MessageRow(
                activity_id=row_id(activity), activity_name=activity.name, record_id=rid,
                record_number=record.number, node_id=node_id, channel=component.label if component else kind,
                result=result, reason=reason or "", at=at))
    messages.sort(key=lambda m: (m.at, m.record_id, m.node_id), reverse=True)
    return entries[:ENTRIES_SHOWN], messages[:MESSAGES_SHOWN]


def customer_profile(*, session: Session, actor: User, customer_id: int) -> CustomerProfile:
    """Everything the profile page shows of one customer, as the viewer may see it."""
    customer = _customer(session, actor, customer_id)
    cid = row_id(customer)
    tags = [TagValue(tag=t.tag, value=t.value, updated_at=t.updated_at) for t in session.execute(
        select(CustomerTag).where(col(CustomerTag.customer_id) == cid).order_by(col(CustomerTag.tag))).scalars()]
    events = [EventRow(name=e.name, occurred_at=e.occurred_at, properties=json.dumps(e.properties or {},
                                                                                      ensure_ascii=False))
              for e in session.execute(select(BehaviorEvent).where(col(BehaviorEvent.customer_id) == cid)
                                       .order_by(col(BehaviorEvent.occurred_at).desc(), col(BehaviorEvent.id).desc())
                                       .limit(EVENTS_SHOWN)).scalars()]
    channels = []
    for channel, field in CHANNELS:
        reachable = bool(getattr(customer, field))
        channels.append(ChannelReach(channel=channel, field=field, reachable=reachable,
                                     note="Reachable" if reachable else f"Not reachable: no {field.replace('_', ' ')}"))
    entries, messages = _entries_and_messages(session, actor, cid)
    return CustomerProfile(
        id=cid, qaid=customer.qaid, name=customer.name, phone=_phone_for(actor, customer.phone),
        phone_masked=actor.role != Role.ADMIN and bool(customer.phone), email=customer.email or "",
        wechat_openid=customer.wechat_openid or "", push_token=customer.push_token or "",
        timezone=customer.timezone, created_at=customer.created_at, attributes=dict(customer.attributes or {}),
        tags=tags, channels=channels, consent_note=NO_CONSENT_NOTE, events=events, entries=entries,
        messages=messages, retention_days=RETENTION.days, edit_refusal=_edit_refusal(actor))


# ------------------------------------------------------------------------------------------------ changes


def parse_attribute_value(text: str) -> Any:
    """A typed attribute value from a form: a JSON number, true / false or null as such, anything else as
    the text itself (so "42" compares as a number in attribute rules, "VIP" as text)."""
    stripped = text.strip()
    try:
        value = json.loads(stripped)
    except ValueError:
        return text
    return value if value is None or isinstance(value, bool | int | float) else text


def set_attribute(*, session: Session, actor: User, customer_id: int, name: str, value: Any) -> Customer:
    """Add or change one attribute of a customer (admins)."""
    _require_admin(actor)
    customer = _customer(session, actor, customer_id)
    key = name.strip()
    if not key:
        raise Invalid("An attribute needs a name.")
    if len(key) > ATTRIBUTE_NAME_MAX:
        raise Invalid(f"An attribute name has at most {ATTRIBUTE_NAME_MAX} characters.")
    customer.attributes = {**(customer.attributes or {}), key: value}  # a new dict: the JSON column sees it
    session.add(customer)
    session.flush()
    return customer


def remove_attribute(*, session: Session, actor: User, customer_id: int, name: str) -> Customer:
    _require_admin(actor)
    customer = _customer(session, actor, customer_id)
    attributes = dict(customer.attributes or {})
    if name not in attributes:
        raise NotFound(f"The customer has no attribute '{name}'.")
    del attributes[name]
    customer.attributes = attributes
    session.add(customer)
    session.flush()
    return customer


def set_customer_tag(*, session: Session, actor: User, customer_id: int, tag: str, value: str) -> None:
    """Add a tag or change its value (admins); the Tag component's rules (engine/shared/customers.py)."""
    _require_admin(actor)
    customer = _customer(session, actor, customer_id)
    problems = check_tag(tag, value)
    if problems:
        raise Invalid(problems[0][0].upper() + problems[0][1:] + ".")
    set_tag(session=session, customer_ids=[row_id(customer)], tag=tag.strip()[:TAG_NAME_MAX], value=value)


def remove_customer_tag(*, session: Session, actor: User, customer_id: int, tag: str) -> None:
    _require_admin(actor)
    customer = _customer(session, actor, customer_id)
    remove_tag(session=session, customer_ids=[row_id(customer)], tag=tag)


class Forgotten(BaseModel):
    """What deleting a customer removed."""

    qaid: str
    tags: int
    events: int
    memberships: int
    routes: int
    sends: int


def _count_deleted(session: Session, statement: Any) -> int:
    # a DELETE's result is a CursorResult (it has rowcount); Session.execute is typed for any statement
    return int(cast(CursorResult[Any], session.execute(statement)).rowcount or 0)


def delete_customer(*, session: Session, actor: User, customer_id: int,
                    confirm_qaid: str | None = None) -> Forgotten:
    """The right to be forgotten (admins): the customer, their tags, behaviour events, audience memberships and
    every route and send row of theirs go; the rounds' counters stay. `confirm_qaid`, when given, must be the
    customer's QAID (the page asks for it)."""
    _require_admin(actor)
    customer = _customer(session, actor, customer_id)
    if confirm_qaid is not None and confirm_qaid.strip() != customer.qaid:
        raise Invalid(f"Type the customer's QAID ({customer.qaid}) to delete them.")
    cid = row_id(customer)
    # every round of the workspace (not only visible or recent ones: nothing of theirs may stay)
    rounds = dict(session.execute(
        select(col(ExecutionRecord.id), col(ActivityVersion.flow))
        .join(Activity, col(Activity.id) == ExecutionRecord.activity_id)
        .join(ActivityVersion, col(ActivityVersion.id) == ExecutionRecord.version_id)
        .where(col(Activity.workspace_id) == actor.workspace_id)).all())
    routes = sends = 0
    for part in _chunks(list(rounds)):
        routes += _count_deleted(session, delete(ROUTE).where(ROUTE.c.record_id.in_(part),
                                                              ROUTE.c.customer_id == cid))
    by_nodes: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for rid, flow in rounds.items():
        by_nodes[tuple(sorted(str(n.get("id")) for n in (flow or {}).get("nodes") or []))].append(rid)
    for nodes, rids in by_nodes.items():
        for part in _chunks(rids, 100):
            sends += _count_deleted(session, delete(STEP).where(
                STEP.c.record_id.in_(part), STEP.c.node_id.in_(list(nodes)), STEP.c.customer_id == cid))
    tags = _count_deleted(session, delete(table_of(CustomerTag)).where(
        table_of(CustomerTag).c.customer_id == cid))
    events = _count_deleted(session, delete(table_of(BehaviorEvent)).where(
        table_of(BehaviorEvent).c.customer_id == cid))
    memberships = _count_deleted(session, delete(table_of(AudienceMember)).where(
        table_of(AudienceMember).c.customer_id == cid))
    consent.forget(session=session, customer_id=cid)
    qaid = customer.qaid
    session.delete(customer)
    session.flush()
    return Forgotten(qaid=qaid, tags=tags, events=events, memberships=memberships, routes=routes, sends=sends)
