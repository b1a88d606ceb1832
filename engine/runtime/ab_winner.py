"""The automatic AB winner in a running round (issue 16): the pick, recorded once, and the release of the
customers held at the AB Test to the winner's branch.

- **Held customers** (outside the test's share, engine/components/ab_test.py) are parked like a Wait Until's,
  as batches in the round's pending set and the `waits` sorted set, at `HELD_AT` (year 3000: no clock reaches
  it). The round therefore stays In Progress while they wait, and the stall rescue leaves them alone.
- **The pick** (`pick_winners`, from the scheduler's AB refresh): for each AB Test with `auto_winner` of a round
  In Progress or Completed, the groups' inflows and targets achieved (the counters `abtest.refresh_record` keeps)
  go through `ab_stats.decide`. A pick is written to the database first (`abdecision`, insert-or-ignore on
  (record, node): once, whoever races), committed, then copied to Redis (`abwin:{record}` node → branch), which
  the executor and the resumed walks read. A crash between the two is repaired by the next pass (the row is
  there: Redis is written again).
- **The release** (`release`): every held batch of a picked AB Test is moved to "now" in `waits`, so the
  scheduler's `due_waits` resumes it as any wait (`run_batch(resume=True)`); the resumed walk routes it on the
  winner's branch (`resume_outcome`). Exactly once: a batch walks only while it is pending (store.begin), and a
  re-scored member is the same member. Batches parked after the pick by a walk that read "no winner" just
  before it are found by the next pass. Held batches of rounds no longer In Progress (stopped, ended) are
  dropped: a stopped round releases nobody. A test round (seed 004) is picked at the first pass, as if its window
  had ended: testers are not kept waiting for it.
- **Counters**: held customers count `entered` and `parked` at the AB Test; their release counts `passed` and
  `branch:group_k` under the batch's "~r" key, in the same write — entered = passed + still waiting, and
  passed = the sum of the branches, at every instant. The groups' inflows (`inflow_group_i`) are test
  customers only; customers sent to the winner carry the route result "winner".
"""

import json
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.components.ab_stats import Decision, GroupStat, decide
from engine.components.ab_test import HELD_AT, INFLOW, WINNER, AbTestConfig
from engine.components.base import Outcome
from engine.db import read_session, write_session
from engine.models import AbDecision, ActivityVersion, ExecutionRecord, table_of
from engine.runtime.details import steps
from engine.runtime.sql import insert_ignore
from engine.runtime.store import TTL, RoundStore
from engine.status import RecordStatus

log = logging.getLogger("engine.ab_winner")
HELD_SCORE = HELD_AT.timestamp()
LOOKBACK = timedelta(days=8)  # as engine/runtime/abtest.py: beyond the detail retention nothing is left to count
#: the rounds whose AB tests may still be picked: In Progress, or Completed (a round whose customers all passed
#: before the window ended); never a stopped or failed round
PICKABLE = (RecordStatus.IN_PROGRESS, RecordStatus.COMPLETED)
_DECISIONS = table_of(AbDecision)


def key(record_id: int) -> str:
    return f"abwin:{record_id}"


# ---------------------------------------------------------------------------------------------- reading


def winner(store: RoundStore, record_id: int, node_id: str) -> str | None:
    """The picked group's branch (Redis: the executor asks once per batch), or None before the pick."""
    found = cast(bytes | None, store.r.hget(key(record_id), node_id))
    return found.decode() if found else None


def resume_outcome(store: RoundStore, record_id: int, node_id: str, node_type: str, ids: list[int]) -> Outcome:
    """Where a resumed batch goes on: a wait's customers on "out"; an AB Test's held customers on the winner's
    branch (an AB Test resumes only after its pick; a missing pick fails the walk, which is retried)."""
    if node_type != "ab_test":
        return Outcome(routes={"out": ids})
    branch = winner(store, record_id, node_id)
    if branch is None:
        raise RuntimeError(f"AB test {node_id} of record {record_id} resumed before its winner was picked")
    return Outcome(routes={branch: ids}, results={cid: (WINNER, None) for cid in ids})


def decision_of(session: Session, record_id: int, node_id: str) -> AbDecision | None:
    return session.get(AbDecision, (record_id, node_id))


# ---------------------------------------------------------------------------------------------- the pick


def auto_nodes(flow: dict[str, Any]) -> dict[str, AbTestConfig]:
    """The flow's AB Tests with an automatic winner, parsed (an invalid config picks nothing)."""
    out: dict[str, AbTestConfig] = {}
    for node in flow.get("nodes") or []:
        if node.get("type") == "ab_test" and (node.get("config") or {}).get("auto_winner"):
            try:
                out[str(node["id"])] = AbTestConfig.model_validate(node.get("config") or {})
            except ValueError:
                continue
    return out


def group_stats(config: AbTestConfig, counters: dict[str, int]) -> list[GroupStat]:
    """Each group's test customers and targets achieved, from the node's counters (abtest.refresh_record)."""
    return [GroupStat(branch=f"group_{i + 1}", name=g.name.strip() or f"Group {i + 1}",
                      inflow=counters.get(f"{INFLOW}group_{i + 1}", 0),
                      achieved=counters.get(f"target:group_{i + 1}", 0))
            for i, g in enumerate(config.groups)]


def first_entry(session: Session, record_id: int, node_id: str) -> datetime | None:
    """When the first test customer reached the AB Test: the test's window starts then."""
    step = steps(session, record_id, node_id=node_id)
    found = session.execute(select(func.min(step.c.at)).where(step.c.result == "passed")).scalar()
    if found is None:
        return None
    return cast(datetime, found)


def window_end(session: Session, record_id: int, node_id: str, config: AbTestConfig) -> datetime | None:
    start = first_entry(session, record_id, node_id)
    if start is None:
        return None
    start = start if start.tzinfo else start.replace(tzinfo=HELD_AT.tzinfo)
    return start + timedelta(hours=config.window_hours)


def record_pick(*, record_id: int, node_id: str, config: AbTestConfig, groups: list[GroupStat], decision: Decision,
                now: datetime) -> AbDecision:
    """Write the pick once (insert-or-ignore on (record, node)) and return the row that stands."""
    with write_session() as session:
        insert_ignore(session, _DECISIONS, [{
            "record_id": record_id, "node_id": node_id, "winner": decision.winner, "kind": decision.kind,
            "reason": decision.reason[:300], "level": config.significance, "p_value": decision.p_value,
            "customers": decision.customers, "decided_at": now,
            "stats": json.dumps([[g.branch, g.inflow, g.achieved] for g in groups])}])
    with read_session() as session:
        row = decision_of(session, record_id, node_id)
        assert row is not None
        session.expunge(row)
        return row


def publish(store: RoundStore, row: AbDecision) -> None:
    """Copy a recorded pick to Redis (what the executor and the resumed walks read), with the node's "winner"
    counter (the canvas card's Winner)."""
    pipe = store.r.pipeline(transaction=True)
    pipe.hset(key(row.record_id), row.node_id, row.winner)
    pipe.expire(key(row.record_id), TTL)
    store.count(row.record_id, row.node_id, "ab", {"winner": int(row.winner.removeprefix("group_"))}, pipe)
    pipe.execute()


def pick_winners(store: RoundStore, now: datetime) -> list[tuple[int, str]]:
    """One pass: pick where the rule says so, make sure every pick is in Redis, release held batches. Returns the
    (record, node) picked in this pass."""
    with read_session() as session:
        rows = session.execute(select(col(ExecutionRecord.id), col(ExecutionRecord.status),
                                      col(ExecutionRecord.is_test), col(ActivityVersion.flow))
                               .join(ActivityVersion, col(ActivityVersion.id) == ExecutionRecord.version_id)
                               .where(col(ExecutionRecord.started_at) >= now - LOOKBACK)).all()
    picked: list[tuple[int, str]] = []
    for record_id, status, is_test, flow in rows:
        nodes = auto_nodes(flow or {})
        if not nodes:
            continue
        counters = store.counters(int(record_id))
        for node_id, config in nodes.items():
            with read_session() as session:
                row = decision_of(session, int(record_id), node_id)
                if row is None and status in PICKABLE:
                    groups = group_stats(config, counters.get(node_id, {}))
                    ends = window_end(session, int(record_id), node_id, config)
                    # a test round (seed 004) does not keep its testers waiting for the window: picked once they entered
                    decision = decide(groups, level=config.significance,
                                      window_ended=ends is not None and (bool(is_test) or now >= ends))
                    if decision is not None and is_test:
                        decision = replace(decision, reason=f"test round, picked at once: {decision.reason}")
                else:
                    decision = None
            if row is None and decision is not None:
                row = record_pick(record_id=int(record_id), node_id=node_id, config=config, groups=groups,
                                  decision=decision, now=now)
                picked.append((int(record_id), node_id))
                log.info("record %s AB test %s: %s wins (%s)", record_id, node_id, row.winner, row.reason)
            if row is not None and winner(store, int(record_id), node_id) != row.winner:
                publish(store, row)
    release(store, now)
    return picked


# ---------------------------------------------------------------------------------------------- the release


def held(store: RoundStore) -> list[tuple[str, dict[str, Any]]]:
    """Every held batch waiting for a pick: (waits member, its record / node / batch)."""
    raw = cast(list[bytes], store.r.zrangebyscore("waits", HELD_SCORE, HELD_SCORE))
    return [(m.decode(), json.loads(m)) for m in raw]


def release(store: RoundStore, now: datetime) -> list[str]:
    """Make the held batches of picked AB Tests due now (the scheduler resumes them on its tick); drop those of
    rounds no longer In Progress. Returns the batches released."""
    waiting = held(store)
    if not waiting:
        return []
    records = {int(data["record"]) for _, data in waiting}
    with read_session() as session:
        open_ids = {int(i) for i in session.execute(select(col(ExecutionRecord.id)).where(
            col(ExecutionRecord.id).in_(records), col(ExecutionRecord.status) == RecordStatus.IN_PROGRESS)).scalars()}
    due: dict[str, float] = {}
    dropped: list[str] = []
    released: list[str] = []
    for member, data in waiting:
        record_id = int(data["record"])
        if record_id not in open_ids:
            dropped.append(member)
        elif winner(store, record_id, str(data["node"])) is not None:
            due[member] = now.timestamp()
            released.append(str(data["batch"]))
    if due:
        store.r.zadd("waits", due, xx=True)  # the same members, due now: resumed once by the scheduler
    if dropped:
        store.r.zrem("waits", *dropped)
    return released


def pick_and_release(store: RoundStore, now: datetime) -> list[tuple[int, str]]:
    """The scheduler's hook (its AB refresh): a failure is logged, never stops the scheduler's other work."""
    try:
        return pick_winners(store, now)
    except Exception:  # noqa: BLE001 — the next refresh tries again from DB and Redis state
        log.exception("AB winner pass failed")
        return []

