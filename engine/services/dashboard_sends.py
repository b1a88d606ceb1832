"""Sends per hour of send components, read from the step rows — and re-read only when their counters moved.

The step rows (CustomerStep) are the only execution data with a time, so the dashboard's numbers come from
them: `GROUP BY` (round, component, hour, result) over the rows of the send components since the window's
first hour, answered from the step table's primary key (record_id, node_id, ...). That aggregate costs about
a microsecond per row on SQLite (its GROUP BY sorts), so a million-customer round costs a second: too much to
repeat every two seconds for every open dashboard. Hence `SendHistory`, one per process, keeps each
component's hourly counts with a *fingerprint*, the component's counters (`execution.counters_of`: Redis while
the round runs, NodeCounter after), which move whenever a send or a receipt changes a step row:
- counters unchanged since the counts were read, and the counts equal them → reused (no SQL at all);
- otherwise read again — but a component whose last read took `t` seconds is re-read at most every
  REUSE_FACTOR·t seconds (small rounds: every refresh; a million sends: every few seconds), so the work a
  dashboard causes stays a bounded share of a core however big the round.
Counts are only trusted with a fingerprint when they add up to the counters (a round that began inside the
window); a receipt whose row lags its counter, or a round that began before the window, is read again.
"""

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_
from sqlalchemy import select as sa_select  # typed for 5 columns (sqlmodel's select: up to 4)
from sqlmodel import Session, col, select

from engine.components.registry import COMPONENTS
from engine.components.sending import SendingComponent
from engine.models import CustomerStep, ExecutionRecord, NodeCounter
from engine.services.execution import counters_of

#: send component type -> component, in palette order (one source of truth: the component registry)
SEND_COMPONENTS: dict[str, SendingComponent] = {
    t: c for t, c in COMPONENTS.items() if isinstance(c, SendingComponent)
}
#: reasons a send component gives a customer it could not hand to its channel (no or an unusable address);
#: an address check names its problem for any unusable address, the empty one included
NOT_SENT_REASONS: frozenset[str] = frozenset(
    reason for c in SEND_COMPONENTS.values() for reason in (c.missing_reason, c.address_problem("")) if reason
)
RESULTS = ("success", "failed", "pending")  # "actually sent"; customers not sent are counted apart
HOUR_FORMAT = "%Y-%m-%d %H"  # the hour keys of the counts (UTC)
REUSE_FACTOR = 4.0
_TERMS_PER_QUERY = 50  # bound parameters stay well under SQLite's limit

Pair = tuple[int, str]  # (record id, node id)
Counts = dict[tuple[str, str], int]  # (hour, success | failed | pending | not_sent) -> customers
Fingerprint = tuple[tuple[str, int], ...]  # a component's counters, sorted (metric, value) pairs


@dataclass
class Round:
    """What the history needs to know about a round."""

    id: int
    started_at: datetime
    in_progress: bool


@dataclass
class _Entry:
    since: datetime
    fingerprint: Fingerprint | None
    read_at: float  # time.monotonic() of the read
    cost: float  # seconds the read took
    counts: Counts = field(default_factory=dict)


class SendHistory:
    """Hourly counts per (round, send component) since a window start, shared by a process's dashboards."""

    def __init__(self, *, max_entries: int = 20_000, reuse_factor: float | None = None) -> None:
        self.max_entries = max_entries
        #: a moved component is re-read at most every reuse_factor × its last read's cost (0: always re-read)
        self.reuse_factor = REUSE_FACTOR if reuse_factor is None else reuse_factor
        self._entries: dict[tuple[str, int, str], _Entry] = {}
        self._lock = threading.Lock()
        self.reads = 0  # components read from the step rows (tests and benchmarks look at it)

    def counts(self, session: Session, rounds: dict[int, Round], pairs: list[Pair], since: datetime
               ) -> dict[Pair, Counts]:
        """(record, node) -> its counts since `since` (each pair's record must be in `rounds`)."""
        db = str(session.get_bind().engine.url)
        prints = fingerprints(session, [rounds[rid] for rid in {rid for rid, _ in pairs}], pairs)
        now = time.monotonic()
        out: dict[Pair, Counts] = {}
        stale: list[Pair] = []
        with self._lock:
            for pair in pairs:
                entry = self._entries.get((db, *pair))
                if entry is not None and entry.since == since and (
                        (entry.fingerprint is not None and entry.fingerprint == prints.get(pair))
                        or now - entry.read_at < self.reuse_factor * entry.cost):
                    out[pair] = entry.counts
                else:
                    stale.append(pair)
        if not stale:
            return out
        started = time.monotonic()
        fresh = step_counts(session, stale, since)
        cost = time.monotonic() - started
        sizes = {pair: sum(fresh.get(pair, {}).values()) + 1 for pair in stale}
        total = sum(sizes.values())
        with self._lock:
            if len(self._entries) + len(stale) > self.max_entries:
                self._entries.clear()
            for pair in stale:
                counts = fresh.get(pair, {})
                trusted = rounds[pair[0]].started_at >= since and _adds_up(counts, prints.get(pair))
                self._entries[(db, *pair)] = _Entry(
                    since=since, fingerprint=prints.get(pair) if trusted else None, read_at=started,
                    cost=cost * sizes[pair] / total,  # its share of the read, by rows: small ones stay live
                    counts=counts)
                out[pair] = counts
            self.reads += len(stale)
        return out


def _adds_up(counts: Counts, fingerprint: Fingerprint | None) -> bool:
    """Do the step rows say what the counters say (success, failed, pending, not sent)?"""
    if fingerprint is None:
        return False
    metrics = dict(fingerprint)
    totals: dict[str, int] = defaultdict(int)
    for (_hour, result), n in counts.items():
        totals[result] += n
    return all(totals[r] == metrics.get(r, 0) for r in (*RESULTS, "not_sent"))


def fingerprints(session: Session, rounds: list[Round], pairs: list[Pair]) -> dict[Pair, Fingerprint]:
    """(record, node) -> its counters as a sorted tuple of (metric, value); missing when there are none.
    Finished rounds: their persisted counters, in one query; running ones: `counters_of` (live from Redis)."""
    wanted = set(pairs)
    by_record: dict[int, dict[str, dict[str, int]]] = {}
    ended = [r.id for r in rounds if not r.in_progress]
    if ended:
        rows = session.exec(select(NodeCounter).where(col(NodeCounter.record_id).in_(ended))).all()
        for row in rows:
            by_record.setdefault(row.record_id, {}).setdefault(row.node_id, {})[row.metric] = row.value
    for r in rounds:
        if r.in_progress or r.id not in by_record:
            record = session.get(ExecutionRecord, r.id)
            if record is None:
                continue
            try:
                by_record[r.id] = counters_of(session, record)
            except redis.RedisError:  # counters_of already falls back; this is belt and braces
                continue
    return {(rid, node): tuple(sorted(metrics.items()))
            for rid, nodes in by_record.items() for node, metrics in nodes.items() if (rid, node) in wanted}


# ---------------------------------------------------------------- the aggregate


def _hour(session: Session) -> ColumnElement[str]:
    """The step's hour as 'YYYY-MM-DD HH' (UTC): SQLite stores datetimes as ISO text (its first 13
    characters); elsewhere date_trunc."""
    at = col(CustomerStep.at)
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(at, 1, 13)
    return func.to_char(func.date_trunc("hour", at), "YYYY-MM-DD HH24")


def step_counts(session: Session, pairs: list[Pair], since: datetime) -> dict[Pair, Counts]:
    """(record, node) -> (hour, result) -> customers of those send components since `since`, from the step
    rows. A failed row whose reason is a not-sent reason is `not_sent`; anything not settled is pending."""
    out: dict[Pair, Counts] = defaultdict(dict)
    for stmt in count_statements(session, pairs, since):
        for record_id, node_id, at_hour, result, n in session.execute(stmt).all():
            counts = out[(int(record_id), str(node_id))]
            key = (str(at_hour), str(result))
            counts[key] = counts.get(key, 0) + int(n)
    return dict(out)


def count_statements(session: Session, pairs: list[Pair], since: datetime) -> list[Select[*tuple[Any, ...]]]:
    """The aggregate queries of `step_counts`. The rounds of one version share their send components: one
    (records IN, nodes IN) term per component set, which the step table's primary key answers (a row-value
    IN (VALUES ...) would make SQLite scan the whole table)."""
    if not pairs:
        return []
    failed = col(CustomerStep.result) == "failed"
    outcome = case(
        (col(CustomerStep.result) == "success", literal("success")),
        (failed & col(CustomerStep.reason).in_(sorted(NOT_SENT_REASONS)), literal("not_sent")),
        (failed, literal("failed")),
        else_=literal("pending"),
    )
    hour = _hour(session)
    nodes_of: dict[int, list[str]] = defaultdict(list)
    for record_id, node_id in pairs:
        nodes_of[record_id].append(node_id)
    by_nodes: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for record_id, nodes in nodes_of.items():
        by_nodes[tuple(sorted(nodes))].append(record_id)
    terms = [and_(col(CustomerStep.record_id).in_(rids), col(CustomerStep.node_id).in_(nodes))
             for nodes, rids in by_nodes.items()]
    return [
        sa_select(col(CustomerStep.record_id), col(CustomerStep.node_id), hour, outcome, func.count())
        .where(or_(*terms[start:start + _TERMS_PER_QUERY]), col(CustomerStep.at) >= since,
               col(CustomerStep.result) != "opted_out")  # consent: not a send (nor a customer without address)
        .group_by(col(CustomerStep.record_id), col(CustomerStep.node_id), hour, outcome)
        for start in range(0, len(terms), _TERMS_PER_QUERY)
    ]
