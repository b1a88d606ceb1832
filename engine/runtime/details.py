"""Per-customer details of a round: how the runtime writes them, and the one per-step view every reader uses.

Two tables (engine/models/execution.py). A sending component's passage is a `CustomerStep` row, because
receipts, the 72-hour rule, the dashboard and Generate Crowd read and update sends one by one. Every other
component's passage goes into the customer's `CustomerRoute` row of the walk: one JSON object {node: value}
per customer and walk, so a customer through seven components costs one row plus one per send instead of
seven (the route row is about a tenth of a step row's write cost, docs/BENCHMARKS.md). A value is

- `"b"`: routed on branch b, result "passed" (End: `""`);
- `"=b"`: routed on branch b, result b (judgments record the branch as their result);
- `[b, result, reason]`: anything else (a component that failed for them, parked at a Wait Until).

A resumed walk's row (start_node = the wait) names the wait again with "out"; the readers drop the earlier
"parked" entry of a customer who has such a row, so there is one passage per (record, node, customer), as
before. `steps` expands the routes back into per-step rows in SQL (json_each on SQLite, jsonb_each on
PostgreSQL) with the columns of CustomerStep, so the analysis queries run the same on either table.
"""

import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import BindParameter, CursorResult, Integer, String, bindparam, column, delete, select, text
from sqlalchemy.sql import Subquery
from sqlmodel import Session, col

from engine.components.base import Outcome
from engine.components.registry import is_send
from engine.models import ActivityVersion, CustomerRoute, CustomerStep, ExecutionRecord, table_of
from engine.runtime.sql import Groups, insert_ignore_grouped, insert_ignore_rows

STEP_TABLE = table_of(CustomerStep)
ROUTE_TABLE = table_of(CustomerRoute)
STEP_COLUMNS = ("record_id", "node_id", "customer_id", "branch", "result", "reason", "at")
ROUTE_COLUMNS = ("record_id", "customer_id", "start_node", "at", "route")


# ---------------------------------------------------------------------------------------------- writing


@lru_cache(maxsize=8192)  # bounded: a failure's reason is free text
def _fragment(node_id: str, branch: str, result: str, reason: str | None) -> str:
    """`"node":value` of one passage, JSON-encoded once per distinct passage (not per customer)."""
    if reason is None and result == "passed":
        value: Any = branch
    elif reason is None and result == branch:
        value = "=" + branch
    else:
        value = [branch, result, reason]
    return json.dumps(node_id) + ":" + json.dumps(value, separators=(",", ":"))


class Routes:
    """The route entries of one walk, per customer, as JSON fragments (joined into one object per customer
    when the walk is written)."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: dict[int, list[str]] = {}

    def add(self, node_id: str, ids: list[int], outcome: Outcome) -> None:
        """Every customer of `ids` passed `node_id` with `outcome` (routed, or not: End, parked, failed)."""
        parts = self.parts
        results = outcome.results
        get = results.get
        routed = 0
        for branch, members in outcome.routes.items():
            routed += len(members)
            plain = _fragment(node_id, branch, "passed", None)
            seen: dict[tuple[str, str | None], str] = {}  # result → fragment, for this branch (not a cached call each)
            for cid in members:
                found = get(cid) if results else None
                if found is None:
                    frag = plain
                elif (frag := seen.get(found)) is None:  # type: ignore[assignment]  # str once found
                    frag = seen[found] = _fragment(node_id, branch, found[0], found[1])
                entry = parts.get(cid)
                if entry is None:
                    parts[cid] = [frag]
                else:
                    entry.append(frag)
        if routed == len(ids):
            return
        in_route = {cid for members in outcome.routes.values() for cid in members}
        parked = {cid for _, members in outcome.parked for cid in members}
        ended: dict[tuple[str, str | None], str] = {}
        for cid in ids:  # not routed on: End, parked, failed (or dropped)
            if cid not in in_route:
                found = get(cid) or ("parked" if cid in parked else "passed", None)
                if (frag := ended.get(found)) is None:  # type: ignore[assignment]
                    frag = ended[found] = _fragment(node_id, "", found[0], found[1])
                parts.setdefault(cid, []).append(frag)

    def rows(self, record_id: int, start: str, stamp: Any) -> list[tuple[Any, ...]]:
        """(record, customer, start node, at, route) rows, one per customer of the walk (`groups`, one by one)."""
        return [(record_id, cid, start, stamp, route)
                for (_, _, _, route), members in self.groups(record_id, start, stamp).items() for cid in members]

    def groups(self, record_id: int, start: str, stamp: Any) -> Groups:
        """The same rows gathered by what they share: (record, start node, at, route) → customers."""
        by_route: dict[str, list[int]] = {}
        for cid, frags in self.parts.items():
            route = "{" + ",".join(frags) + "}"
            bucket = by_route.get(route)
            if bucket is None:
                bucket = by_route[route] = []
            bucket.append(cid)
        return {(record_id, start, stamp, route): members for route, members in by_route.items()}


def insert_routes(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert-or-ignore route rows (a redelivered walk writes the same rows: the first stays)."""
    insert_ignore_rows(session, ROUTE_TABLE, ROUTE_COLUMNS, rows)


def insert_route_groups(session: Session, groups: Groups) -> None:
    """Insert-or-ignore route rows gathered by route (`Routes.groups`): a walk's customers follow a few dozen
    routes, each written with one statement (engine/runtime/sql.py `insert_ignore_grouped`)."""
    insert_ignore_grouped(session, ROUTE_TABLE, ROUTE_COLUMNS, "customer_id", groups)


# ---------------------------------------------------------------------------------------------- reading

_SQLITE_VALUE = {
    "branch": "CASE WHEN j.type = 'array' THEN json_extract(j.value, '$[0]') "
              "WHEN substr(j.value, 1, 1) = '=' THEN substr(j.value, 2) ELSE j.value END",
    "result": "CASE WHEN j.type = 'array' THEN json_extract(j.value, '$[1]') "
              "WHEN substr(j.value, 1, 1) = '=' THEN substr(j.value, 2) ELSE 'passed' END",
    "reason": "CASE WHEN j.type = 'array' THEN json_extract(j.value, '$[2]') END",
    "parked": "j.type = 'array' AND json_extract(j.value, '$[1]') = 'parked'",
    "from": "customerroute r, json_each(r.route) j",
}
_PG_VALUE = {
    "branch": "CASE WHEN jsonb_typeof(j.value) = 'array' THEN j.value->>0 "
              "WHEN left(j.value #>> '{}', 1) = '=' THEN substr(j.value #>> '{}', 2) ELSE j.value #>> '{}' END",
    "result": "CASE WHEN jsonb_typeof(j.value) = 'array' THEN j.value->>1 "
              "WHEN left(j.value #>> '{}', 1) = '=' THEN substr(j.value #>> '{}', 2) ELSE 'passed' END",
    "reason": "CASE WHEN jsonb_typeof(j.value) = 'array' THEN j.value->>2 END",
    "parked": "jsonb_typeof(j.value) = 'array' AND j.value->>1 = 'parked'",
    "from": "customerroute r CROSS JOIN LATERAL jsonb_each(CAST(r.route AS jsonb)) AS j(key, value)",
}


def steps(session: Session, record_id: int, *, node_id: str | None = None,
          customer_ids: list[int] | None = None) -> Subquery:
    """The route entries of a round as per-step rows (record_id, node_id, customer_id, branch, result, reason,
    at) — CustomerStep's columns — optionally of one node and/or some customers. A "parked" entry superseded by
    the customer's resumed walk is left out."""
    sql = _PG_VALUE if session.get_bind().dialect.name == "postgresql" else _SQLITE_VALUE
    where = ["r.record_id = :record_id"]
    params: dict[str, Any] = {"record_id": record_id}
    binds: list[BindParameter[Any]] = []
    if node_id is not None:
        where.append("j.key = :node_id")
        params["node_id"] = node_id
    if customer_ids is not None:
        where.append("r.customer_id IN :customer_ids")
        params["customer_ids"] = list(customer_ids)
        binds.append(bindparam("customer_ids", expanding=True))
    where.append(f"NOT ({sql['parked']} AND EXISTS (SELECT 1 FROM customerroute r2 WHERE r2.record_id = "
                 "r.record_id AND r2.customer_id = r.customer_id AND r2.start_node = j.key))")
    query = text(f"SELECT r.record_id AS record_id, j.key AS node_id, r.customer_id AS customer_id, "
                 f"{sql['branch']} AS branch, {sql['result']} AS result, {sql['reason']} AS reason, r.at AS at "
                 f"FROM {sql['from']} WHERE " + " AND ".join(where))
    return query.bindparams(*binds, **params).columns(
        column("record_id", Integer), column("node_id", String), column("customer_id", Integer),
        column("branch", String), column("result", String), column("reason", String),
        column("at", ROUTE_TABLE.c.at.type)).subquery("step")


def send_steps(record_id: int, node_id: str) -> Subquery:
    """A sending component's step rows as the same subquery shape as `steps` (the primary key's range)."""
    return select(*(STEP_TABLE.c[c] for c in STEP_COLUMNS)).where(
        STEP_TABLE.c.record_id == record_id, STEP_TABLE.c.node_id == node_id).subquery("step")


def node_steps(session: Session, record_id: int, node_id: str, node_type: str) -> Subquery:
    """The per-step rows of one component of a round, from whichever table holds its kind."""
    return send_steps(record_id, node_id) if is_send(node_type) else steps(session, record_id, node_id=node_id)


def customer_steps(session: Session, record_id: int, customer_ids: list[int],
                   send_nodes: Iterable[str]) -> list[Any]:
    """Every passage (route entries and sends) of some customers in a round: rows with node_id, customer_id,
    branch, result, reason, at. `send_nodes`: the flow's sending components (their rows are found through the
    primary key)."""
    if not customer_ids:
        return []
    sub = steps(session, record_id, customer_ids=customer_ids)
    found = list(session.execute(select(sub)).all())
    sends = list(send_nodes)
    if sends:
        found += session.execute(select(*(STEP_TABLE.c[c] for c in STEP_COLUMNS)).where(
            STEP_TABLE.c.record_id == record_id, STEP_TABLE.c.node_id.in_(bindparam("nodes", expanding=True)),
            STEP_TABLE.c.customer_id.in_(bindparam("ids", expanding=True))),
            {"nodes": sends, "ids": list(customer_ids)}).all()
    return found


def all_steps(session: Session, record_id: int) -> list[Any]:
    """Every passage of a round (route entries, then sends), as rows with CustomerStep's columns: for tests,
    tools and small rounds (a million-customer round is millions of rows)."""
    sub = steps(session, record_id)
    rows = list(session.execute(select(sub)).all())
    rows += session.execute(select(*(STEP_TABLE.c[c] for c in STEP_COLUMNS))
                            .where(STEP_TABLE.c.record_id == record_id)).all()
    return rows


def entered_ids(session: Session, record_ids: Iterable[int]) -> set[int]:
    """The customers who entered any of these rounds (the route rows of their entry walks: started at the
    trigger, not at a wait they resumed after)."""
    ids = list(record_ids)
    if not ids:
        return set()
    versions = dict(session.execute(select(col(ExecutionRecord.id), col(ActivityVersion.flow))
                                    .join(ActivityVersion, col(ActivityVersion.id) == ExecutionRecord.version_id)
                                    .where(col(ExecutionRecord.id).in_(ids))).all())
    out: set[int] = set()
    for record_id, flow in versions.items():
        waits = [str(n["id"]) for n in (flow or {}).get("nodes") or [] if n.get("type") == "wait_until"]
        query = select(ROUTE_TABLE.c.customer_id).where(ROUTE_TABLE.c.record_id == record_id)
        if waits:
            query = query.where(ROUTE_TABLE.c.start_node.not_in(waits))
        out.update(session.execute(query).scalars())
    return out


def purge(session: Session, cutoff: datetime) -> int:
    """Delete the details older than `cutoff` (route rows by their walk's time, sends by theirs)."""
    # a DELETE's result is a CursorResult (it has rowcount); Session.execute is typed for any statement
    routes = cast(CursorResult[Any], session.execute(delete(ROUTE_TABLE).where(ROUTE_TABLE.c.at < cutoff)))
    sends = cast(CursorResult[Any], session.execute(delete(STEP_TABLE).where(STEP_TABLE.c.at < cutoff)))
    return int(routes.rowcount or 0) + int(sends.rowcount or 0)
