"""Action analysis: what one component did in one execution round, for the panel the canvas opens when the
execution data of a (non-trigger) component is clicked.

- **Labels** (the result chips): per component kind, from the round's counters (engine.services.execution
  `counters_of`, the numbers the canvas shows): a send's Succeeded / Failed / No receipt yet, a judgment's or a
  split's branches, a wait's Waiting / Released. Each label names the per-customer details it filters.
- **Charts' data**: the send funnel (entered → actually sent → succeeded), results over time (step rows per
  minute, or per hour over long rounds), failure reasons, short-link clicks of a Text SMS with {short_link}
  (Redis, counted by GET /s/{code}), the AB test's groups (inflow, targets achieved, rate, winner).
- **Customer details**: the step rows of the component with the customer's QAID and name, filtered by label
  and by period (Last 5 Minutes / To Date), paged. They are kept 7 days (engine/runtime/lifecycle.py
  `purge_details`): when they are gone the answer says so ("expired") instead of an empty page.

Visibility: the record's activity through engine.services.activities.get_activity (a private activity of
someone else is "not found", like a missing one). Every function is read-only.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import ColumnElement, func, literal
from sqlalchemy import select as sa_select  # typed for 7 columns (sqlmodel's select: up to 4)
from sqlalchemy.sql import Subquery
from sqlmodel import Session, col, select

from engine import clock
from engine.components.ab_stats import GroupStat
from engine.components.ab_test import INFLOW, AbTest, AbTestConfig
from engine.components.base import Component
from engine.components.random_grouping import RandomGrouping
from engine.components.registry import UnknownComponent, get_component
from engine.components.sending import SendingComponent
from engine.components.templating import variables
from engine.components.text_sms import SHORT_LINK, TextSms
from engine.components.wait_until import WaitUntil
from engine.errors import Invalid, NotFound
from engine.flow.registry import Category
from engine.models import Activity, ActivityVersion, Customer, ExecutionRecord, User, row_id
from engine.runtime.connection import get_redis
from engine.runtime.details import node_steps
from engine.runtime.lifecycle import RETENTION
from engine.runtime.receipts import NO_RECEIPT_AFTER
from engine.runtime.store import RoundStore
from engine.services import ab_panel, activities
from engine.services.ab_panel import AbAuto
from engine.services.execution import counters_of
from engine.status import RecordStatus

# component kinds of the panel
SEND, BRANCHES, AB, WAIT, TRIGGER, OTHER = "send", "branches", "ab_test", "wait", "trigger", "other"
# label tones (the UI colours them: green, red, amber, a branch colour, gray)
SUCCESS, FAILED, PENDING, BRANCH, NEUTRAL = "success", "failed", "pending", "branch", "neutral"

TO_DATE, LAST_5_MINUTES = "to_date", "last_5_minutes"
PERIODS: dict[str, timedelta | None] = {TO_DATE: None, LAST_5_MINUTES: timedelta(minutes=5)}
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MINUTE_BUCKETS_MAX = 180  # a longer span is shown per hour
TOP_REASONS = 8

#: what a send's results are called (the step rows' `result`), in the order the panel shows them
#: "failed" also holds the customers never handed to the channel (no address: the canvas's `not_sent`), so the
#: three add up to the customers who entered
SEND_RESULTS: dict[str, tuple[str, str]] = {"success": ("Succeeded", SUCCESS),
                                            "failed": ("Failed or not sent", FAILED),
                                            "pending": ("No receipt yet", PENDING),
                                            "stopped": ("Stopped before sending", FAILED),  # shown when > 0
                                            "opted_out": ("Opted out", NEUTRAL),  # consent; shown when > 0
                                            "capped": ("Capped", NEUTRAL),  # a frequency cap (issue 16); when > 0
                                            "skipped": ("Skipped (quiet hours)", PENDING),  # issue 16: when > 0
                                            "exited": ("Exited (exit criteria)", NEUTRAL)}  # issue 16: when > 0
WAIT_RESULTS: dict[str, tuple[str, str]] = {"parked": ("Waiting", PENDING), "passed": ("Released", SUCCESS)}

# details state
DETAILS_OK, DETAILS_PARTIAL, DETAILS_EXPIRED, DETAILS_NONE = "ok", "partial", "expired", "none"
EXPIRED_NOTE = "Details expired: customer details are kept for 7 days after they are recorded."
PARTIAL_NOTE = "This round started more than 7 days ago: details older than 7 days have expired."


@dataclass(frozen=True)
class Label:
    """A result chip: `key` ("result:success", "branch:group_1") filters the customer details."""

    key: str
    column: str  # result / branch
    value: str
    name: str  # what the chip says ("Succeeded", a branch as its card shows it)
    count: int
    tone: str


@dataclass(frozen=True)
class Clicks:
    clicks: int  # every click on the component's short links
    clickers: int  # distinct customers who clicked
    link_url: str


@dataclass(frozen=True)
class AbGroup:
    branch: str
    name: str
    ratio: int
    inflow: int
    achieved: int

    @property
    def rate(self) -> float:
        return self.achieved / self.inflow if self.inflow else 0.0


@dataclass(frozen=True)
class AbSummary:
    groups: list[AbGroup]
    winner: str  # branch of the winning group, "" while no group has achieved a target
    target_event: str
    window_hours: int
    auto: AbAuto | None = None  # the automatic winner (engine/services/ab_panel.py), when the test picks one

    @property
    def total_inflow(self) -> int:
        return sum(g.inflow for g in self.groups)

    @property
    def total_achieved(self) -> int:
        return sum(g.achieved for g in self.groups)


@dataclass(frozen=True)
class Timeline:
    """Step rows per time bucket and series (a result or a branch): `counts[i][j]` = series i, bucket j."""

    unit: str  # minute / hour
    buckets: list[str]  # "YYYY-MM-DD HH:MM" (UTC), sorted
    series: list[str]  # label keys
    counts: list[list[int]]


@dataclass
class NodeAnalysis:
    activity_id: int
    activity_name: str
    record_id: int
    record_number: int
    record_status: str
    record_status_label: str
    started_at: datetime
    node_id: str
    node: dict[str, Any]  # the component as the round's version has it (type, config)
    component_label: str  # "Text SMS"
    category: str
    kind: str
    live: bool  # the round is In Progress: numbers still move
    metrics: dict[str, int]  # the component's counters
    labels: list[Label]
    funnel: list[tuple[str, int]]  # sends: Entered, Actually sent, Succeeded
    timeline: Timeline
    reasons: list[tuple[str, int]]  # failure reason → customers (most frequent first; "Other reasons" last)
    clicks: Clicks | None
    ab: AbSummary | None
    details_state: str
    details_note: str
    can_generate_crowd: bool
    failure: str = ""  # the component failed in this round (its executor raised)
    #: the round has ended but sends of this component still await their receipts (72 hours at most): the
    #: numbers still move
    awaiting_receipts: bool = False
    version_number: int = 0  # the version the round ran (issue 16: every number says its version)

    @property
    def entered(self) -> int:
        return int(self.metrics.get("entered", 0))


@dataclass(frozen=True)
class DetailRow:
    customer_id: int
    qaid: str
    name: str
    result: str
    branch: str
    reason: str
    at: datetime


@dataclass
class DetailsPage:
    rows: list[DetailRow]
    total: int
    page: int
    pages: int
    page_size: int
    state: str
    note: str = ""
    label: str = ""
    period: str = TO_DATE


@dataclass
class Context:
    """A component of a round the actor may see."""

    activity: Activity
    record: ExecutionRecord
    node: dict[str, Any]
    component: Component
    kind: str
    branches: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- look-ups


def component_kind(component: Component) -> str:
    """The panel's kind of a component, from its class in the registry (one source of truth)."""
    if isinstance(component, SendingComponent):
        return SEND
    if isinstance(component, AbTest):
        return AB
    if component.category == Category.TRIGGER:
        return TRIGGER
    if isinstance(component, WaitUntil):
        return WAIT
    if isinstance(component, RandomGrouping) or component.category == Category.JUDGMENT:
        return BRANCHES
    return OTHER


def branch_name(node: dict[str, Any], branch: str) -> str:
    """A branch as the card shows it: the group's name (or "Group n"), with its ratio for splits; "Others"."""
    if branch == "others":
        return "Others"
    if not (branch.startswith("group_") and branch[6:].isdigit()):
        return branch
    index = int(branch[6:]) - 1
    groups = (node.get("config") or {}).get("groups") or []
    group = groups[index] if index < len(groups) and isinstance(groups[index], dict) else {}
    name = str(group.get("name") or "").strip() or f"Group {index + 1}"
    ratio = group.get("ratio")
    return f"{name} · {ratio}%" if isinstance(ratio, int) and "ratio" in group else name


def supports_crowd(component_type: str) -> bool:
    """Generate Crowd applies to the touch and data-push components that send (every SendingComponent)."""
    try:
        return isinstance(get_component(component_type), SendingComponent)
    except UnknownComponent:
        return False


def context(*, session: Session, actor: User, record_id: int, node_id: str) -> Context:
    """The record (visible to `actor`), and the component `node_id` of the version it ran; NotFound otherwise."""
    record = session.get(ExecutionRecord, record_id)
    if record is None:
        raise NotFound("Execution record not found.")
    activity = activities.get_activity(session=session, actor=actor, activity_id=record.activity_id)
    version = session.get(ActivityVersion, record.version_id)
    nodes = (version.flow or {}).get("nodes") or [] if version else []
    node = next((dict(n) for n in nodes if str(n.get("id")) == node_id), None)
    if node is None:
        raise NotFound("This component is not part of the round's flow.")
    try:
        component = get_component(str(node.get("type")))
    except UnknownComponent as err:
        raise NotFound(str(err)) from None
    kind = component_kind(component)
    return Context(activity=activity, record=record, node=node, component=component, kind=kind,
                   branches=component.branches_of(node.get("config") or {}))


# ---------------------------------------------------------------------------------------------- labels


def _labels(ctx: Context, m: dict[str, int], failed_rows: int) -> list[Label]:
    if ctx.kind == SEND:
        counts = {"success": m.get("success", 0), "failed": m.get("failed", 0) + m.get("not_sent", 0),
                  "pending": m.get("pending", 0), "stopped": m.get("stopped", 0), "opted_out": m.get("opted_out", 0),
                  "capped": m.get("capped", 0), "skipped": m.get("skipped", 0), "exited": m.get("exited", 0)}
        return [Label(f"result:{r}", "result", r, name, counts[r], tone) for r, (name, tone) in SEND_RESULTS.items()
                if r not in ("stopped", "opted_out", "capped", "skipped", "exited") or counts[r]]
    if ctx.kind in (BRANCHES, AB):
        out = [Label(f"branch:{b}", "branch", b, branch_name(ctx.node, b), m.get(f"branch:{b}", 0), BRANCH)
               for b in ctx.branches]
        if ctx.kind == AB and m.get("parked", 0):  # held until the automatic winner is picked (issue 16)
            out.append(Label("result:parked", "result", "parked", "Waiting for the winner",
                             max(m.get("entered", 0) - m.get("passed", 0), 0), PENDING))
    elif ctx.kind == WAIT:
        released, exited = m.get("passed", 0), m.get("exited", 0)
        out = [Label("result:parked", "result", "parked", "Waiting", max(m.get("entered", 0) - released - exited, 0),
                     PENDING), Label("result:passed", "result", "passed", "Released", released, SUCCESS)]
        if exited:  # issue 16: an exit took them out while they waited
            out.append(Label("result:exited", "result", "exited", "Exited (exit criteria)", exited, NEUTRAL))
    else:
        out = [Label("result:passed", "result", "passed", "Entered" if ctx.kind == TRIGGER else "Passed",
                     max(m.get("entered", 0) - failed_rows, 0), SUCCESS)]
    if failed_rows:  # the component failed (its executor raised) for some customers
        out.append(Label("result:failed", "result", "failed", "Failed", failed_rows, FAILED))
    return out


def label_filter(ctx: Context, key: str, step: Subquery) -> ColumnElement[bool] | None:
    """The details' filter of a label key; "" = every customer. An unknown key is refused."""
    if not key:
        return None
    column, _, value = key.partition(":")
    allowed = {f"result:{r}" for r in (SEND_RESULTS if ctx.kind == SEND else ())} | \
              {f"branch:{b}" for b in ctx.branches if ctx.kind in (BRANCHES, AB)} | \
              {"result:parked", "result:passed", "result:failed", "result:exited"}
    if key not in allowed:
        raise Invalid(f"Unknown result label '{key}'.")
    return (step.c.branch if column == "branch" else step.c.result) == value


# ---------------------------------------------------------------------------------------------- queries


def _mine(session: Session, ctx: Context) -> Subquery:
    """The component's per-step rows in the round: its send rows, or the route entries naming it
    (engine/runtime/details.py); either way CustomerStep's columns."""
    return node_steps(session, row_id(ctx.record), str(ctx.node["id"]), str(ctx.node.get("type")))


def _minute(session: Session, step: Subquery) -> Any:
    """The step's time cut to the minute, as text ("YYYY-MM-DD HH:MM"), in the database's own SQL."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(step.c.at, 1, 16)
    return func.to_char(step.c.at, "YYYY-MM-DD HH24:MI")


def timeline(session: Session, ctx: Context) -> Timeline:
    """Step rows per minute (per hour when the round spans more than MINUTE_BUCKETS_MAX minutes) and series:
    the result for sends and waits, the branch for judgments, splits and the AB test."""
    by_branch = ctx.kind in (BRANCHES, AB)
    step = _mine(session, ctx)
    series_col = step.c.branch if by_branch else step.c.result
    bucket = _minute(session, step).label("bucket")
    rows = session.execute(select(bucket, series_col, func.count()).group_by(bucket, series_col)).all()
    minutes = sorted({str(b) for b, _, _ in rows})
    unit = "minute"
    cut = 16
    if len(minutes) > 1 and _span_minutes(minutes[0], minutes[-1]) > MINUTE_BUCKETS_MAX:
        unit, cut = "hour", 13
    grid: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b, value, n in rows:
        key = f"{'branch' if by_branch else 'result'}:{value}"
        grid[key][str(b)[:cut] + ("" if cut == 16 else ":00")] += int(n)
    buckets = sorted({b for per in grid.values() for b in per})
    series = sorted(grid, key=_series_order(ctx))
    return Timeline(unit=unit, buckets=buckets, series=series,
                    counts=[[grid[s].get(b, 0) for b in buckets] for s in series])


def _series_order(ctx: Context) -> Any:
    order = [f"result:{r}" for r in SEND_RESULTS] + [f"branch:{b}" for b in ctx.branches] + \
            ["result:parked", "result:passed", "result:failed"]

    def key(s: str) -> tuple[int, str]:
        return (order.index(s) if s in order else len(order), s)
    return key


def _span_minutes(first: str, last: str) -> float:
    fmt = "%Y-%m-%d %H:%M"
    return (datetime.strptime(last, fmt) - datetime.strptime(first, fmt)).total_seconds() / 60


def failure_reasons(session: Session, ctx: Context) -> list[tuple[str, int]]:
    step = _mine(session, ctx)
    reason = func.coalesce(step.c.reason, literal("(no reason given)"))
    rows = session.execute(select(reason, func.count()).where(step.c.result == "failed")
                           .group_by(reason).order_by(func.count().desc())).all()
    top = [(str(r), int(n)) for r, n in rows[:TOP_REASONS]]
    rest = sum(int(n) for _, n in rows[TOP_REASONS:])
    return top + ([("Other reasons", rest)] if rest else [])


def _failed_rows(session: Session, ctx: Context) -> int:
    step = _mine(session, ctx)
    return int(session.execute(select(func.count()).select_from(step).where(step.c.result == "failed")).scalar_one())


def details_state(session: Session, ctx: Context, entered: int) -> tuple[str, str]:
    """Whether the per-customer details of the component are there: ok, partial (a round that began more than
    7 days ago: its oldest details are gone), expired (counted customers, no details left) or none (nobody
    entered yet)."""
    has_rows = session.execute(select(literal(1)).select_from(_mine(session, ctx)).limit(1)).first()
    if not has_rows:
        expired = entered > 0 or _older_than_retention(ctx.record)
        return (DETAILS_EXPIRED, EXPIRED_NOTE) if expired else (DETAILS_NONE, "")
    if _older_than_retention(ctx.record):
        return DETAILS_PARTIAL, PARTIAL_NOTE
    return DETAILS_OK, ""


def _older_than_retention(record: ExecutionRecord) -> bool:
    started = record.started_at if record.started_at.tzinfo else record.started_at.replace(tzinfo=clock.now().tzinfo)
    return started < clock.now() - RETENTION


def clicks_of(ctx: Context, metrics: dict[str, int]) -> Clicks | None:
    """Short-link clicks of a Text SMS whose content has {short_link} (live from Redis, where GET /s/{code}
    counts them; the persisted counter when Redis no longer holds the round)."""
    if not isinstance(ctx.component, TextSms):
        return None
    config = ctx.node.get("config") or {}
    if SHORT_LINK not in variables(str(config.get("content") or "")):
        return None
    record_id, node_id = ctx.record.id, ctx.node["id"]
    clicks, clickers = int(metrics.get("clicks", 0)), 0
    try:
        r = get_redis()
        pipe = r.pipeline(transaction=False)
        pipe.hvals(f"c:{record_id}:{node_id}:clicks")
        pipe.scard(f"clickers:{record_id}:{node_id}")
        values, clickers = pipe.execute()
        clicks = max(clicks, sum(int(v) for v in values))
    except redis.RedisError:
        pass
    return Clicks(clicks=clicks, clickers=int(clickers), link_url=str(config.get("link_url") or ""))


def ab_summary(ctx: Context, m: dict[str, int], session: Session | None = None) -> AbSummary | None:
    if ctx.kind != AB:
        return None
    config = ctx.node.get("config") or {}
    parsed: AbTestConfig | None = None
    try:
        parsed = AbTestConfig.model_validate(config)
        target, window = parsed.target_event, parsed.window_hours
        ratios = [g.ratio for g in parsed.groups]
        names = [g.name for g in parsed.groups]
    except ValueError:
        target, window, ratios, names = "", 0, [], []
    groups = []
    for index, branch in enumerate(ctx.branches):
        groups.append(AbGroup(branch=branch, name=(names[index] if index < len(names) else "") or
                              f"Group {index + 1}", ratio=ratios[index] if index < len(ratios) else 0,
                              inflow=m.get(f"{INFLOW}{branch}", 0), achieved=m.get(f"target:{branch}", 0)))
    winner_number = m.get("winner", 0)
    winner = f"group_{winner_number}" if winner_number and f"group_{winner_number}" in ctx.branches else ""
    auto = ab_panel.auto_summary(session, record_id=row_id(ctx.record), node_id=str(ctx.node["id"]), config=parsed,
                                 groups=[GroupStat(g.branch, g.name, g.inflow, g.achieved) for g in groups],
                                 metrics=m) if parsed is not None and session is not None else None
    return AbSummary(groups=groups, winner=winner, target_event=target, window_hours=window, auto=auto)


# ---------------------------------------------------------------------------------------------- the panel


def node_counters(*, session: Session, actor: User, record_id: int, node_id: str) -> dict[str, int]:
    """Only the component's counters (the panel's headline numbers), with the same visibility check: one atomic
    Redis read, so a live panel can show a change at once and re-read the charts and details less often."""
    ctx = context(session=session, actor=actor, record_id=record_id, node_id=node_id)
    return {k: int(v) for k, v in counters_of(session, ctx.record).get(node_id, {}).items()}


def node_analysis(*, session: Session, actor: User, record_id: int, node_id: str) -> NodeAnalysis:
    """Everything the action analysis panel shows for component `node_id` of round `record_id`, except the
    customer details (`customer_details`)."""
    ctx = context(session=session, actor=actor, record_id=record_id, node_id=node_id)
    record = ctx.record
    metrics = dict(counters_of(session, record).get(node_id, {}))
    entered = int(metrics.get("entered", 0))
    failed_rows = 0 if ctx.kind == SEND else _failed_rows(session, ctx)
    state, note = details_state(session, ctx, entered)
    funnel: list[tuple[str, int]] = []
    if ctx.kind == SEND:
        funnel = [("Entered", entered), ("Actually sent", metrics.get("sent", 0)),
                  ("Succeeded", metrics.get("success", 0))]
    failure = ""
    if failed_rows or ctx.kind == SEND:
        failure = _component_failure(record, node_id)
    status = RecordStatus(record.status)
    awaiting = status != RecordStatus.IN_PROGRESS and ctx.kind == SEND and metrics.get("pending", 0) > 0 and \
        not _ended_before(record, NO_RECEIPT_AFTER)
    return NodeAnalysis(
        activity_id=row_id(ctx.activity), activity_name=ctx.activity.name,
        record_id=row_id(record), record_number=record.number,
        record_status=status.value, record_status_label=status.label, started_at=record.started_at,
        node_id=node_id, node=ctx.node, component_label=ctx.component.label,
        category=ctx.component.category.value, kind=ctx.kind, live=status == RecordStatus.IN_PROGRESS,
        metrics=metrics, labels=_labels(ctx, metrics, failed_rows), funnel=funnel,
        timeline=timeline(session, ctx),
        reasons=failure_reasons(session, ctx) if ctx.kind == SEND or failed_rows else [],
        clicks=clicks_of(ctx, metrics), ab=ab_summary(ctx, metrics, session),
        details_state=state, details_note=note,
        can_generate_crowd=supports_crowd(str(ctx.node.get("type"))), failure=failure, awaiting_receipts=awaiting,
        version_number=_version_number(session, record),
    )


def _version_number(session: Session, record: ExecutionRecord) -> int:
    version = session.get(ActivityVersion, record.version_id)
    return version.number if version else 0


def _ended_before(record: ExecutionRecord, span: timedelta) -> bool:
    ended = record.ended_at
    if ended is None:
        return False
    ended = ended if ended.tzinfo else ended.replace(tzinfo=clock.now().tzinfo)
    return ended < clock.now() - span


def _component_failure(record: ExecutionRecord, node_id: str) -> str:
    """Why the component failed in this round (the runtime's failure hash), "" when it did not."""
    try:
        return RoundStore(get_redis()).failures(row_id(record)).get(node_id, "")
    except redis.RedisError:
        return ""


def customer_details(*, session: Session, actor: User, record_id: int, node_id: str, label: str = "",
                     period: str = TO_DATE, page: int = 1, page_size: int = PAGE_SIZE) -> DetailsPage:
    """One page of the component's per-customer details (newest first), with each customer's QAID and name,
    filtered by a label key (see `Label.key`) and a period (to_date / last_5_minutes)."""
    if period not in PERIODS:
        raise Invalid(f"Unknown period '{period}'.")
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    ctx = context(session=session, actor=actor, record_id=record_id, node_id=node_id)
    step = _mine(session, ctx)
    where: list[ColumnElement[bool]] = []
    chosen = label_filter(ctx, label, step)
    if chosen is not None:
        where.append(chosen)
    span = PERIODS[period]
    if span is not None:
        where.append(step.c.at >= clock.now() - span)
    total = int(session.execute(select(func.count()).select_from(step).where(*where)).scalar_one())
    pages = max(1, math.ceil(total / page_size))
    page = max(1, min(int(page), pages))
    rows = session.execute(
        sa_select(step.c.customer_id, col(Customer.qaid), col(Customer.name), step.c.result, step.c.branch,
                  step.c.reason, step.c.at)
        .select_from(step)
        .join(Customer, col(Customer.id) == step.c.customer_id, isouter=True)
        .where(*where)
        .order_by(step.c.at.desc(), step.c.customer_id)
        .offset((page - 1) * page_size).limit(page_size)).all()
    entered = 0
    if total == 0:
        entered = int(counters_of(session, ctx.record).get(node_id, {}).get("entered", 0))
    state, note = details_state(session, ctx, entered) if total == 0 or _older_than_retention(ctx.record) \
        else (DETAILS_OK, "")
    return DetailsPage(
        rows=[DetailRow(customer_id=int(cid), qaid=qaid or "(deleted customer)", name=name or "", result=result,
                        branch=branch or "", reason=reason or "", at=at)
              for cid, qaid, name, result, branch, reason, at in rows],
        total=total, page=page, pages=pages, page_size=page_size, state=state, note=note, label=label,
        period=period)
