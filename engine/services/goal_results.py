"""Issue 16: what the execution views show of an activity's conversion goal — conversions and rate per round,
per version and per branch (each branch of every split and judgment: the customers routed there who
converted), the customers who exited, and the uplift of the treated over the holdout with its interval.

Numbers come from the rounds' counters (entered, held_out, exited, branch:<b>: engine/services/execution.py)
and `goalconversion` (one row per converted customer and round, engine/runtime/goals.py). Per branch, the
converted customers' route rows are joined through their primary key (record, customer), so the cost follows
the conversions, not the round's size; the route rows are the 7-day details, so per-branch numbers of older
rounds are no longer shown (totals per round and version are kept).
"""

from collections import defaultdict
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from engine.components.registry import UnknownComponent, get_component
from engine.errors import NotFound
from engine.flow.graph import graph_for
from engine.models import ActivityVersion, ExecutionRecord, GoalConversion, User, row_id
from engine.runtime.goal_walk import EXITED, HELD_OUT
from engine.services import activities
from engine.services.execution import counters_of
from engine.shared.goal_rules import GoalSettings, read_settings
from engine.shared.uplift import Uplift, uplift

MAX_ROUNDS = 50  # the newest rounds summed per version and listed (a minute-periodic activity has thousands)

_BRANCH_SQL = {
    "sqlite": "SELECT j.key AS node, CASE WHEN j.type = 'array' THEN json_extract(j.value, '$[0]') "
              "WHEN substr(j.value, 1, 1) = '=' THEN substr(j.value, 2) ELSE j.value END AS branch, "
              "COUNT(*) AS n FROM goalconversion g JOIN customerroute r ON r.record_id = g.record_id "
              "AND r.customer_id = g.customer_id, json_each(r.route) j "
              "WHERE g.record_id = :record_id AND NOT g.held_out GROUP BY 1, 2",
    "postgresql": "SELECT j.key AS node, CASE WHEN jsonb_typeof(j.value) = 'array' THEN j.value->>0 "
                  "WHEN left(j.value #>> '{}', 1) = '=' THEN substr(j.value #>> '{}', 2) "
                  "ELSE j.value #>> '{}' END AS branch, COUNT(*) AS n FROM goalconversion g "
                  "JOIN customerroute r ON r.record_id = g.record_id AND r.customer_id = g.customer_id "
                  "CROSS JOIN LATERAL jsonb_each(CAST(r.route AS jsonb)) AS j(key, value) "
                  "WHERE g.record_id = :record_id AND NOT g.held_out GROUP BY 1, 2",
}


class Rate(BaseModel):
    """Conversions of a group: `converted` of `customers`."""

    customers: int = 0
    converted: int = 0

    @property
    def rate(self) -> float:
        return self.converted / self.customers if self.customers else 0.0


class GoalNumbers(BaseModel):
    """One round's or one version's numbers."""

    label: str  # "Round 3" / "V2"
    record_id: int | None = None
    version_number: int = 0
    entered: int = 0
    treated: Rate = Rate()  # entrants not held out
    holdout: Rate = Rate()
    exited: int = 0
    uplift: Uplift | None = None

    @property
    def all(self) -> Rate:
        return Rate(customers=self.treated.customers + self.holdout.customers,
                    converted=self.treated.converted + self.holdout.converted)


class BranchGoal(BaseModel):
    node_id: str
    node_label: str
    branch: str
    branch_label: str
    routed: int
    converted: int

    @property
    def rate(self) -> float:
        return self.converted / self.routed if self.routed else 0.0


class GoalReport(BaseModel):
    settings: GoalSettings
    rounds: list[GoalNumbers] = []
    versions: list[GoalNumbers] = []
    branches: list[BranchGoal] = []  # of the round asked for (or the newest)
    branch_round: int | None = None  # that round's number


def _label(node: dict[str, Any]) -> str:
    try:
        return get_component(str(node.get("type"))).label
    except UnknownComponent:
        return str(node.get("type") or node.get("id"))


def _branch_label(node: dict[str, Any], branch: str) -> str:
    if branch == "others":
        return "Others"
    groups = (node.get("config") or {}).get("groups") or []
    if branch.startswith("group_") and branch[6:].isdigit():
        number = int(branch[6:])
        if 0 < number <= len(groups) and isinstance(groups[number - 1], dict):
            name = str(groups[number - 1].get("name") or "").strip()
            if name:
                return name
        return f"Group {number}"
    return branch


def _numbers(label: str, counters: dict[str, dict[str, int]], trigger: str | None,
             converted: dict[bool, int]) -> GoalNumbers:
    start = counters.get(trigger or "", {})
    entered, held = start.get("entered", 0), start.get(HELD_OUT, 0)
    out = GoalNumbers(label=label, entered=entered,
                      treated=Rate(customers=max(entered - held, 0), converted=converted.get(False, 0)),
                      holdout=Rate(customers=held, converted=converted.get(True, 0)),
                      exited=sum(m.get(EXITED, 0) for m in counters.values()))
    return out


def goal_report(*, session: Session, actor: User, activity_id: int, record_id: int | None = None) -> GoalReport:
    """The goal's numbers of an activity (visibility: `activities.get_activity`), with the branches of round
    `record_id` (default: the newest round)."""
    activity = activities.get_activity(session=session, actor=actor, activity_id=activity_id)
    report = GoalReport(settings=read_settings(session, row_id(activity)))
    if report.settings.empty:  # nothing set: the panels show nothing, and read nothing more
        return report
    records = list(session.exec(select(ExecutionRecord).where(
        col(ExecutionRecord.activity_id) == activity.id, col(ExecutionRecord.is_test).is_(False))
        .order_by(col(ExecutionRecord.number).desc()).limit(MAX_ROUNDS)).all())
    if record_id is not None and all(r.id != record_id for r in records):
        shown = session.get(ExecutionRecord, record_id)
        if shown is None or shown.activity_id != activity.id:
            raise NotFound("Execution record not found.")
        records.append(shown)
    if not records:
        return report
    versions = {v.id: v for v in session.exec(select(ActivityVersion).where(
        col(ActivityVersion.id).in_({r.version_id for r in records}))).all()}
    conversions: dict[int, dict[bool, int]] = defaultdict(dict)
    for rid, held, n in session.execute(
            sa_select(col(GoalConversion.record_id), col(GoalConversion.held_out), func.count())
            .where(col(GoalConversion.record_id).in_([row_id(r) for r in records]))
            .group_by(col(GoalConversion.record_id), col(GoalConversion.held_out))).all():
        conversions[int(rid)][bool(held)] = int(n)
    per_version: dict[int, GoalNumbers] = {}
    counters_by_record: dict[int, dict[str, dict[str, int]]] = {}
    for record in records:
        version = versions[record.version_id]
        graph = graph_for(row_id(version), version.flow)
        counters = counters_by_record[row_id(record)] = counters_of(session, record)
        numbers = _numbers(f"Round {record.number}", counters, graph.trigger_id, conversions[row_id(record)])
        numbers.record_id, numbers.version_number = record.id, version.number
        numbers.uplift = uplift(numbers.treated.converted, numbers.treated.customers, numbers.holdout.converted,
                                numbers.holdout.customers)
        report.rounds.append(numbers)
        total = per_version.setdefault(version.number, GoalNumbers(label=f"V{version.number}",
                                                                    version_number=version.number))
        total.entered += numbers.entered
        total.exited += numbers.exited
        total.treated = Rate(customers=total.treated.customers + numbers.treated.customers,
                             converted=total.treated.converted + numbers.treated.converted)
        total.holdout = Rate(customers=total.holdout.customers + numbers.holdout.customers,
                             converted=total.holdout.converted + numbers.holdout.converted)
    for total in per_version.values():
        total.uplift = uplift(total.treated.converted, total.treated.customers, total.holdout.converted,
                              total.holdout.customers)
    report.versions = sorted(per_version.values(), key=lambda v: -v.version_number)
    shown_record = next((r for r in records if r.id == record_id), records[0])
    report.branch_round = shown_record.number
    report.branches = _branches(session, shown_record, versions[shown_record.version_id],
                                counters_by_record[row_id(shown_record)])
    return report


def _branches(session: Session, record: ExecutionRecord, version: ActivityVersion,
              counters: dict[str, dict[str, int]]) -> list[BranchGoal]:
    """Each branch of every component with more than one: routed there (its counter) and converted."""
    flow = version.flow or {}
    outs: dict[str, list[str]] = defaultdict(list)
    for edge in flow.get("edges") or []:
        branch = str(edge.get("branch") or "out")
        if branch not in outs[str(edge.get("source"))]:
            outs[str(edge.get("source"))].append(branch)
    nodes = {str(n["id"]): n for n in flow.get("nodes") or []}
    splits = {nid: branches for nid, branches in outs.items() if len(branches) > 1 and nid in nodes}
    if not splits:
        return []
    sql = _BRANCH_SQL["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
    converted = {(str(node), str(branch)): int(n) for node, branch, n in session.execute(
        text(sql), {"record_id": record.id}).all() if str(node) in splits}
    return [BranchGoal(node_id=nid, node_label=_label(nodes[nid]), branch=b, branch_label=_branch_label(nodes[nid], b),
                       routed=counters.get(nid, {}).get(f"branch:{b}", 0), converted=converted.get((nid, b), 0))
            for nid, branches in splits.items() for b in branches]


def goal_report_of_record(*, session: Session, actor: User, record_id: int) -> GoalReport:
    """`goal_report` of the round's activity, its branches from this round (the analysis panel)."""
    record = session.get(ExecutionRecord, record_id)
    if record is None:
        raise NotFound("Execution record not found.")
    return goal_report(session=session, actor=actor, activity_id=record.activity_id, record_id=record_id)
