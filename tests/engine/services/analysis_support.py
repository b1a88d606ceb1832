"""A real round for the action analysis and Generate Crowd tests: a seeded activity walked in process on the
real Redis, the provider simulator answering the Text SMS, the HTTP sink taking the webhook and the
simulator's receipts, which are then applied through the runtime's receipt path.

The flow: Target Audience → Text SMS with {short_link} → Result Judgment on the SMS ("Reached": success or
pending) → AB Test A/B 50/50 (target: purchase within 24 h) → A: Webhook → End, B: End; the others (no
phone) → Wait Until 1 hour → End. So one round has a send with every result, a judgment, an AB test, a data
push and customers still waiting (the round stays In Progress until they are released).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from engine.db import read_session, write_session
from engine.models import ExecutionRecord, Role, User
from engine.runtime.connection import get_redis
from engine.runtime.receipts import apply_receipts
from engine.runtime.rounds import finish_if_done, start_round
from engine.runtime.step import run_step
from engine.runtime.store import RoundStore
from engine.simulator import SimulatorServer
from tests import factories as f
from tests.engine.runtime import support as s

LINK = "https://shop.example.com/coupon"


def _node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}


def _edge(source: str, target: str, branch: str = "out") -> dict[str, str]:
    return {"source": source, "branch": branch, "target": target}


def analysis_flow(hook_url: str) -> Callable[[int], dict[str, Any]]:
    def build(audience_id: int) -> dict[str, Any]:
        return {
            "nodes": [
                _node("t", "target_audience", audience_id=audience_id),
                _node("sms", "text_sms", content="Hi {name}, your coupon: {short_link}", link_url=LINK),
                _node("rj", "result_judgment", node_id="sms",
                      groups=[{"name": "Reached", "conditions": [{"op": "in", "value": ["success", "pending"]}]}]),
                _node("ab", "ab_test", groups=[{"name": "A", "ratio": 50}, {"name": "B", "ratio": 50}],
                      target_event="purchase", window_hours=24),
                _node("hook", "webhook", url=hook_url, retries=0),
                _node("w", "wait_until", mode="period", hours=1),
                _node("e1", "end"), _node("e2", "end"), _node("e3", "end"),
            ],
            "edges": [_edge("t", "sms"), _edge("sms", "rj"), _edge("rj", "ab", "group_1"),
                      _edge("ab", "hook", "group_1"), _edge("hook", "e1"), _edge("ab", "e2", "group_2"),
                      _edge("rj", "w", "others"), _edge("w", "e3")],
        }
    return build


@dataclass
class Round:
    record_id: int
    activity_id: int
    owner_id: int
    store: RoundStore

    def record(self) -> ExecutionRecord:
        with read_session() as session:
            record = session.get(ExecutionRecord, self.record_id)
            assert record is not None
            return record


def walk(record_id: int, store: RoundStore) -> None:
    """Start the round and walk every entry batch here (the round stays open while customers wait)."""
    batches: list[tuple[str, str]] = []
    start_round(record_id, enqueue=lambda r, n, b: batches.append((n, b)), store=store)
    for node, batch in batches:
        run_step(record_id, node, batch, store=store)
    finish_if_done(record_id, store=store)


def release_waits(record_id: int, store: RoundStore) -> int:
    """What the scheduler does when the wait is over: resume every parked batch of the round."""
    released = 0
    for member, data in store.due_waits(float("inf")):
        if data["record"] != record_id:
            continue
        store.unpark(member)
        run_step(record_id, data["node"], data["batch"], store=store, resume=True)
        released += 1
    finish_if_done(record_id, store=store)
    return released


def deliver_receipts(simulator: SimulatorServer, http_sink: Any, store: RoundStore) -> int:
    """Wait until the simulator has posted every receipt to the sink, then apply them as the API would."""
    s.wait_for(lambda: simulator.simulator.snapshot()["receipts_pending"] == 0, 30, what="the receipts")
    return apply_receipts(http_sink.receipts(), store=store)


def seed_round(n: int, http_sink: Any, simulator: SimulatorServer, *, receipts: bool = True) -> Round:
    activity_id, owner_id = s.seed_activity(n, analysis_flow(f"{http_sink.url}/ok"))
    record_id = int(s.records(activity_id)[0].id)  # type: ignore[arg-type]
    store = RoundStore(get_redis())
    walk(record_id, store)
    if receipts:
        deliver_receipts(simulator, http_sink, store)
    return Round(record_id=record_id, activity_id=activity_id, owner_id=owner_id, store=store)


def users_of(owner_id: int) -> dict[str, User]:
    """The owner and, in the same workspace, an admin, another marketer and a manager."""
    with write_session() as session:
        owner = session.get(User, owner_id)
        assert owner is not None
        ws = _workspace(session, owner)
        out = {"owner": owner, "admin": f.user(session, ws, Role.ADMIN), "other": f.user(session, ws, Role.MARKETER),
               "manager": f.user(session, ws, Role.MANAGER)}
        for user in out.values():
            session.refresh(user)
        return out


def _workspace(session: Session, owner: User):  # type: ignore[no-untyped-def]
    from engine.models import Workspace

    return session.exec(select(Workspace).where(Workspace.id == owner.workspace_id)).one()
