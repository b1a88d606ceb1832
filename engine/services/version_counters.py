"""Counters per version: for every component of an activity, its total entries and its unique customers, per
published version (summed over the version's rounds) and over all versions.

- **Entries** are the rounds' `entered` counters (engine/services/execution.py: Redis while it holds a round,
  else the persisted copy), summed: a customer who enters twice (two cycles of a periodic activity, a round of
  each version) is two entries.
- **Unique customers** are distinct customer ids. *Exact* where that is cheap: every round of the version began
  within the 7 days its per-customer details are kept (engine/runtime/details.py) and the version had at most
  `EXACT_LIMIT` entries at any component; then one COUNT(DISTINCT) over the route and send rows. Otherwise an
  *estimate* from the version's HyperLogLog (engine/runtime/uniques.py, about 0.8 % standard error), labelled
  so; with neither (details expired and Redis has forgotten the version) the number is unknown, never a guess.
  "All versions" counts a customer of several versions once (a union, not a sum). A unique count is never
  shown above the entries it belongs to (rows are written a moment after the counters move).
- A component that is not in a version's flow has no cell for it (the UI's "—"); a component the live version
  removed keeps its older versions' numbers (`removed`).
Test rounds (seed 004) are no version's numbers. Visibility: engine.services.activities.get_activity (a private
activity of someone else is "not found").
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy import bindparam, text
from sqlmodel import Session, col, select

from engine import clock
from engine.components.registry import UnknownComponent, get_component
from engine.errors import NotFound
from engine.models import ActivityVersion, ExecutionRecord, NodeCounter, User, row_id
from engine.runtime import uniques
from engine.runtime.connection import get_redis
from engine.runtime.lifecycle import RETENTION
from engine.runtime.store import TTL, RoundStore
from engine.services import activities
from engine.services.versions import draining_versions
from engine.status import VersionState

#: a version with more entries than this at any component gets the estimate (a COUNT(DISTINCT) over its rows
#: would cost a page load seconds)
EXACT_LIMIT = 50_000
EXACT, ESTIMATE, UNKNOWN = "exact", "estimate", "unknown"
LIVE, DRAINING, SUPERSEDED = "live", "draining", "superseded"
ALL = "all"


@dataclass(frozen=True)
class Cell:
    """One component's numbers in one version (or over all versions)."""

    entries: int
    unique: int | None  # None: unknown (details expired and no estimate left)
    kind: str  # exact / estimate / unknown


@dataclass(frozen=True)
class VersionColumn:
    version_id: int
    number: int
    role: str  # live / draining / superseded
    rounds: int  # the version's rounds (test rounds aside)
    unique_kind: str  # exact / estimate: how the version's unique customers are counted

    @property
    def label(self) -> str:
        return f"V{self.number} ({self.role})"


@dataclass
class ComponentRow:
    node_id: str
    node_type: str
    label: str  # "Text SMS"
    cells: dict[int, Cell]  # version id → numbers; no entry: the component is not in that version
    total: Cell
    removed: bool  # in an older version, not in the live one

    def cell(self, version: int | str) -> Cell | None:
        """The numbers of a version id, or of `ALL`."""
        return self.total if version == ALL else self.cells.get(int(version))


@dataclass
class VersionCounters:
    activity_id: int
    live_version_id: int | None
    versions: list[VersionColumn]  # newest first
    components: list[ComponentRow] = field(default_factory=list)

    @property
    def unique_kind(self) -> str:
        """exact when every version's unique customers are exact, else estimate."""
        return EXACT if all(v.unique_kind == EXACT for v in self.versions) else ESTIMATE

    def row(self, node_id: str) -> ComponentRow | None:
        return next((c for c in self.components if c.node_id == node_id), None)


# ---------------------------------------------------------------------------------------------- reading


def _entered(session: Session, records: list[ExecutionRecord]) -> dict[int, dict[str, int]]:
    """record → node → entered: the persisted counters, overlaid with Redis's for the rounds it still holds."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    ids = [row_id(r) for r in records]
    if not ids:
        return {}
    for record_id, node_id, value in session.exec(select(NodeCounter.record_id, NodeCounter.node_id,
                                                         NodeCounter.value).where(
            col(NodeCounter.record_id).in_(ids), NodeCounter.metric == "entered")):
        out[record_id][node_id] = int(value)
    now = clock.now()
    recent = [row_id(r) for r in records if r.ended_at is None or _aware(r.ended_at) > now - _REDIS_KEEPS]
    try:
        live = RoundStore(get_redis()).counters_many(recent)
    except redis.RedisError:
        live = {}
    for record_id, nodes in live.items():
        for node_id, metrics in nodes.items():
            if "entered" in metrics:
                out[record_id][node_id] = int(metrics["entered"])
    return dict(out)


_REDIS_KEEPS = timedelta(seconds=TTL)  # how long Redis holds an ended round's counters


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=clock.now().tzinfo)


def _distinct_sql(session: Session, by_version: bool) -> tuple[str, str]:
    """COUNT(DISTINCT customer) per (version,) node over route rows and over send rows, in the database's SQL."""
    group = "e.version_id, " if by_version else ""
    pick = "e.version_id AS v, " if by_version else "0 AS v, "
    if session.get_bind().dialect.name == "postgresql":
        keys = "CROSS JOIN LATERAL jsonb_object_keys(CAST(r.route AS jsonb)) AS j(key)"
    else:
        keys = ", json_each(r.route) j"
    routes = (f"SELECT {pick}j.key AS node, COUNT(DISTINCT r.customer_id) AS n FROM customerroute r "
              f"JOIN executionrecord e ON e.id = r.record_id {keys} WHERE r.record_id IN :ids "
              f"GROUP BY {group}j.key")
    sends = (f"SELECT {pick}s.node_id AS node, COUNT(DISTINCT s.customer_id) AS n FROM customerstep s "
             f"JOIN executionrecord e ON e.id = s.record_id WHERE s.record_id IN :ids GROUP BY {group}s.node_id")
    return routes, sends


def _distinct(session: Session, record_ids: list[int], *, by_version: bool) -> dict[tuple[int, str], int]:
    """(version or 0, node) → distinct customers in the rows of these rounds (a node is in one table only)."""
    out: dict[tuple[int, str], int] = {}
    if not record_ids:
        return out
    for sql in _distinct_sql(session, by_version):
        query = text(sql).bindparams(bindparam("ids", expanding=True))
        for version, node, n in session.execute(query, {"ids": record_ids}).all():
            out[(int(version), str(node))] = out.get((int(version), str(node)), 0) + int(n)
    return out


def _label(node_type: str) -> str:
    try:
        return get_component(node_type).label
    except UnknownComponent:
        return node_type


def _role(version_id: int, live_id: int | None, draining: set[int]) -> str:
    if version_id == live_id:
        return LIVE
    return DRAINING if version_id in draining else SUPERSEDED


def _clamp(unique: int | None, entries: int) -> int | None:
    return None if unique is None else min(unique, entries)


# ---------------------------------------------------------------------------------------------- the service


def version_counters(*, session: Session, actor: User, activity_id: int) -> VersionCounters:
    """Every component's entries and unique customers per published version and over all of them."""
    activity = activities.get_activity(session=session, actor=actor, activity_id=activity_id)
    records = list(session.exec(select(ExecutionRecord).where(
        ExecutionRecord.activity_id == activity.id, col(ExecutionRecord.is_test).is_(False))).all())
    ran = {r.version_id for r in records}
    found = [v for v in session.exec(select(ActivityVersion).where(ActivityVersion.activity_id == activity.id)
                                     .order_by(col(ActivityVersion.number).desc())).all()
             if v.state == VersionState.PUBLISHED and (row_id(v) in ran or v.id == activity.live_version_id)]
    entered = _entered(session, records)
    per_version: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rounds: dict[int, list[ExecutionRecord]] = defaultdict(list)
    for record in records:
        rounds[record.version_id].append(record)
        for node_id, n in entered.get(row_id(record), {}).items():
            per_version[record.version_id][node_id] += n
    cutoff = clock.now() - RETENTION
    exact = {row_id(v) for v in found
             if all(_aware(r.started_at) >= cutoff for r in rounds[row_id(v)])
             and max(per_version[row_id(v)].values(), default=0) <= EXACT_LIMIT}
    draining = draining_versions(session, activity)
    columns = [VersionColumn(version_id=row_id(v), number=v.number,
                             role=_role(row_id(v), activity.live_version_id, draining),
                             rounds=len(rounds[row_id(v)]), unique_kind=EXACT if row_id(v) in exact else ESTIMATE)
               for v in found]
    nodes = _nodes(found, activity.live_version_id)
    counted = _uniques(session, rounds, exact, [row_id(v) for v in found], list(nodes))
    out = VersionCounters(activity_id=row_id(activity), live_version_id=activity.live_version_id, versions=columns)
    live = next((v for v in found if v.id == activity.live_version_id), None)
    live_nodes = set(_node_ids(live)) if live is not None else set()
    for node_id, node_type in nodes.items():
        cells: dict[int, Cell] = {}
        for v in found:
            vid = row_id(v)
            if node_id not in _node_ids(v):
                continue
            entries = per_version[vid].get(node_id, 0)
            unique, kind = counted.get((vid, node_id), (None, UNKNOWN))
            if entries == 0:  # nobody here yet: no estimate needed
                unique, kind = 0, EXACT if vid in exact else ESTIMATE
            cells[vid] = Cell(entries=entries, unique=_clamp(unique, entries), kind=kind)
        total_entries = sum(c.entries for c in cells.values())
        unique, kind = counted.get((0, node_id), (None, UNKNOWN))
        if total_entries == 0:
            unique = 0
        out.components.append(ComponentRow(
            node_id=node_id, node_type=node_type, label=_label(node_type), cells=cells,
            total=Cell(entries=total_entries, unique=_clamp(unique, total_entries), kind=kind),
            removed=bool(live_nodes) and node_id not in live_nodes))
    return out


def _node_ids(version: ActivityVersion) -> dict[str, str]:
    return {str(n.get("id")): str(n.get("type")) for n in (version.flow or {}).get("nodes") or []}


def _nodes(found: list[ActivityVersion], live_id: int | None) -> dict[str, str]:
    """node → type: the live version's components in its flow's order, then those only older versions have
    (newest first)."""
    ordered = sorted(found, key=lambda v: (v.id != live_id, -v.number))
    out: dict[str, str] = {}
    for version in ordered:
        for node_id, node_type in _node_ids(version).items():
            out.setdefault(node_id, node_type)
    return out


def _uniques(session: Session, rounds: dict[int, list[ExecutionRecord]], exact: set[int], version_ids: list[int],
             node_ids: list[str]) -> dict[tuple[int, str], tuple[int | None, str]]:
    """(version id, node) → (unique customers, kind); (0, node) for all versions together."""
    out: dict[tuple[int, str], tuple[int | None, str]] = {}
    exact_records = [row_id(r) for v in exact for r in rounds[v]]
    for key, n in _distinct(session, exact_records, by_version=True).items():
        out[key] = (n, EXACT)
    for vid in exact:  # an exact version's component nobody reached yet: 0, exactly
        for node_id in node_ids:
            out.setdefault((vid, node_id), (0, EXACT))
    rest = [v for v in version_ids if v not in exact]
    estimated: dict[tuple[int, str], int] = {}
    totals: dict[str, int] = {}
    try:
        r = get_redis()
        estimated = uniques.estimates(r, rest, node_ids)
        if rest:
            totals = uniques.union_estimates(r, version_ids, node_ids)
    except redis.RedisError:
        pass
    for key, n in estimated.items():
        out[key] = (n, ESTIMATE)
    if not rest:  # every version exact: the union is exact too
        for (_v, node_id), n in _distinct(session, exact_records, by_version=False).items():
            out[(0, node_id)] = (n, EXACT)
        for node_id in node_ids:
            out.setdefault((0, node_id), (0, EXACT))
    else:
        for node_id, n in totals.items():
            out[(0, node_id)] = (n, ESTIMATE)
    return out


def selector_options(counters: VersionCounters) -> list[tuple[str, str]]:
    """(value, label) of the version selector: All versions, then each version newest first."""
    return [(ALL, "All versions"), *[(str(v.version_id), v.label) for v in counters.versions]]


def describe(cell: Cell | None, version: str, counters: VersionCounters) -> dict[str, Any]:
    """A cell as the UI shows it: "—" when the component is not in the version, the unique count's kind."""
    name = "All versions" if version == ALL else next(
        (v.label for v in counters.versions if str(v.version_id) == version), "")
    if cell is None:
        return {"version": name, "entries": "—", "unique": "—", "kind": "", "present": False}
    unique = "unknown" if cell.unique is None else (f"≈ {cell.unique:,}" if cell.kind == ESTIMATE
                                                    else f"{cell.unique:,}")
    return {"version": name, "entries": f"{cell.entries:,}", "unique": unique, "kind": cell.kind, "present": True}


def for_record(*, session: Session, actor: User, record_id: int) -> VersionCounters:
    """`version_counters` of the activity a round belongs to (the action analysis panel knows the round)."""
    record = session.get(ExecutionRecord, record_id)
    if record is None:
        raise NotFound("Execution record not found.")
    return version_counters(session=session, actor=actor, activity_id=record.activity_id)
