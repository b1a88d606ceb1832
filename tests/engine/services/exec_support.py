"""Shared arrangement of the execution-view and Incoming Users tests: a flow with every display form of the
execution data, seeded and run for real (start_round + run_step on real Redis, sends to the provider
simulator), and users of every role in the activity's workspace."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select

from engine.channels.registry import reset_channels
from engine.db import read_session, write_session
from engine.models import Activity, ExecutionRecord, Role, User
from engine.runtime.connection import get_redis
from engine.runtime.rounds import finish_if_done, start_round
from engine.runtime.step import run_step
from engine.runtime.store import RoundStore
from engine.settings import get_settings
from tests import factories as f
from tests.engine.runtime.support import seed_activity

N = 100  # customers; every 50th has no phone (seed_activity)


def node(nid: str, type_: str, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}


def edge(source: str, target: str, branch: str = "out") -> dict[str, str]:
    return {"source": source, "branch": branch, "target": target}


def display_flow(audience_id: int, *, wait: bool = False) -> dict[str, Any]:
    """Target Audience → Text SMS → AB Test (A / B) → A: APP PUSH → End; B: Tag → [Wait Until 1 h →] End."""
    nodes = [node("t", "target_audience", audience_id=audience_id),
             node("sms", "text_sms", content="Hi {name}"),
             node("ab", "ab_test", groups=[{"name": "A", "ratio": 50}, {"name": "B", "ratio": 50}],
                  target_event="purchase", window_hours=24),
             node("push", "app_push", title="Hi", body="Hello {name}"),
             node("tag", "tag", tag="seen", value="yes"),
             node("e1", "end"), node("e2", "end")]
    edges = [edge("t", "sms"), edge("sms", "ab"), edge("ab", "push", "group_1"), edge("ab", "tag", "group_2"),
             edge("push", "e1")]
    if wait:
        nodes.append(node("w", "wait_until", mode="period", hours=1))
        edges += [edge("tag", "w"), edge("w", "e2")]
    else:
        edges.append(edge("tag", "e2"))
    return {"nodes": nodes, "edges": edges}


@pytest.fixture
def providers(database: str, redis_url: str, simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Real Redis and the provider simulator behind the channels."""
    monkeypatch.setenv("PROVIDER_URL", simulator.url)
    get_settings.cache_clear()
    reset_channels()
    yield
    reset_channels()


def seeded(*, wait: bool = False) -> tuple[int, int, int]:
    """(activity id, owner id, record id) of a published activity over N customers (not yet run)."""
    activity_id, owner_id = seed_activity(N, lambda audience: display_flow(audience, wait=wait))
    with read_session() as session:
        record = session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)).one()
        return activity_id, owner_id, int(record.id)  # type: ignore[arg-type]


def start(record_id: int, batch_size: int = 40) -> list[tuple[str, str]]:
    """Start the round; returns its entry batches (node, batch key), not walked yet."""
    batches: list[tuple[str, str]] = []
    start_round(record_id, enqueue=lambda _r, n, b: batches.append((n, b)), store=store(),
                batch_size=batch_size)
    return batches


def walk(record_id: int, batches: list[tuple[str, str]]) -> None:
    for node_id, batch in batches:
        run_step(record_id, node_id, batch, store=store())
    finish_if_done(record_id, store=store())


def store() -> RoundStore:
    return RoundStore(get_redis())


def users(activity_id: int) -> dict[str, User]:
    """admin, owner, other (marketer), manager of the activity's workspace."""
    with write_session() as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None
        owner = session.get(User, activity.owner_id)
        ws = activity.workspace_id
        found = {"owner": owner}
        for key, role in (("admin", Role.ADMIN), ("other", Role.MARKETER), ("manager", Role.MANAGER)):
            found[key] = f.user(session, _ws(session, ws), role)
        return found  # type: ignore[return-value]


def _ws(session, workspace_id: int):  # noqa: ANN001, ANN202
    from engine.models import Workspace

    return session.get(Workspace, workspace_id)


def set_public(activity_id: int, public: bool) -> None:
    with write_session() as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None
        activity.is_public = public
        session.add(activity)
