"""AB test results: per group, how many customers did the target event within the window after they entered,
and the winning group. Refreshed by the scheduler while windows are open (the flow itself never waits for
the window), stored as the node's counters `targets_achieved`, `target:group_i` and `winner` (group number,
0 while no group has achieved a target; an automatic pick's group once it is made: engine/runtime/ab_winner.py)."""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from engine.components.ab_test import INFLOW, AbTestConfig, targets_achieved, winning_group
from engine.flow.graph import graph_for
from engine.models import Activity, ActivityVersion, ExecutionRecord, row_id
from engine.runtime import ab_winner
from engine.runtime.details import steps
from engine.runtime.ports import RuntimePorts
from engine.runtime.store import RoundStore

LOOKBACK = timedelta(days=8)  # beyond the detail retention nothing is left to count


def refresh_record(session: Session, store: RoundStore, record: ExecutionRecord) -> dict[str, dict[str, int]]:
    version = session.get(ActivityVersion, record.version_id)
    activity = session.get(Activity, record.activity_id)
    if version is None or activity is None:
        return {}
    graph = graph_for(record.version_id, version.flow)
    out: dict[str, dict[str, int]] = {}
    for node_id, node in graph.nodes.items():
        if node.get("type") != "ab_test":
            continue
        config = AbTestConfig.model_validate(node.get("config") or {})
        by_time: dict[datetime, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        step = steps(session, row_id(record), node_id=node_id)
        # test customers only: not those held for the pick and then sent to the winner (route result "winner")
        for cid, branch, at in session.execute(select(step.c.customer_id, step.c.branch, step.c.at)
                                               .where(step.c.result == "passed", step.c.branch != "")):
            by_time[at.replace(second=0, microsecond=0)][branch].append(cid)
        ports = RuntimePorts(session, store, activity.workspace_id)
        achieved: dict[str, int] = defaultdict(int)
        for entered_at, routes in by_time.items():
            for branch, n in targets_achieved(config, dict(routes), entered_at, ports).items():
                achieved[branch] += n
        inflow = {k.removeprefix(INFLOW): v for k, v in store.counters(row_id(record)).get(node_id, {}).items()
                  if k.startswith(INFLOW)}
        winner = ab_winner.winner(store, row_id(record), node_id) or winning_group(inflow, dict(achieved))
        metrics = {"targets_achieved": sum(achieved.values()),
                   "winner": int(winner.removeprefix("group_")) if winner else 0,
                   **{f"target:{branch}": n for branch, n in achieved.items()}}
        store.count(row_id(record), node_id, "ab", metrics)
        out[node_id] = metrics
    return out


def refresh_recent(session: Session, store: RoundStore, now: datetime) -> list[int]:
    """Every record of the last days whose flow has an AB test."""
    refreshed: list[int] = []
    records = session.exec(select(ExecutionRecord).where(col(ExecutionRecord.started_at) >= now - LOOKBACK)).all()
    for record in records:
        if refresh_record(session, store, record):
            refreshed.append(row_id(record))
    return refreshed
