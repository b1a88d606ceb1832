"""Factories for tests: one place that knows how to build valid rows."""

from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlmodel import Session

from engine import clock
from engine.models import (
    Activity,
    ActivityGroup,
    ActivityVersion,
    ExecutionRecord,
    MarketingCampaign,
    Role,
    User,
    Workspace,
)
from engine.services.auth import hash_password
from engine.status import ActivityStatus, VersionState

_seq = count(1)
FAST_HASH = hash_password("pw", rounds=4)


def workspace(session: Session, *, cap: int = 100) -> Workspace:
    ws = Workspace(name=f"ws-{next(_seq)}", in_progress_cap=cap)
    session.add(ws)
    session.flush()
    return ws


def user(session: Session, ws: Workspace, role: Role = Role.MARKETER, name: str | None = None) -> User:
    n = name or f"{role.value}{next(_seq)}"
    u = User(workspace_id=ws.id, username=n, display_name=n.title(), password_hash=FAST_HASH, role=role)
    session.add(u)
    session.flush()
    return u


def valid_flow() -> dict[str, Any]:
    """Target Audience → Text SMS → End: the smallest flow that passes validation."""
    return {
        "nodes": [
            {"id": "n1", "type": "target_audience", "config": {"audience_id": 1}, "position": {"x": 0, "y": 0}},
            {"id": "n2", "type": "text_sms", "config": {"content": "Hi {name}"}, "position": {"x": 200, "y": 0}},
            {"id": "n3", "type": "end", "config": {}, "position": {"x": 400, "y": 0}},
        ],
        "edges": [{"source": "n1", "branch": "out", "target": "n2"}, {"source": "n2", "branch": "out", "target": "n3"}],
    }


def activity(
    session: Session,
    owner: User,
    *,
    status: ActivityStatus = ActivityStatus.DRAFT,
    name: str | None = None,
    public: bool = False,
    group: ActivityGroup | None = None,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    max_runs: int | None = None,
    runs_used: int = 0,
    flow: dict[str, Any] | None = None,
) -> Activity:
    """An activity in any status, with version 1 (published unless Draft) as current and live version."""
    a = Activity(
        workspace_id=owner.workspace_id, name=name or f"Activity {next(_seq)}", owner_id=owner.id,
        is_public=public, group_id=group.id if group else None, status=status,
        start_time=start_time, end_time=end_time, max_runs=max_runs, runs_used=runs_used,
    )
    session.add(a)
    session.flush()
    published = status != ActivityStatus.DRAFT
    v = ActivityVersion(
        activity_id=a.id, number=1, flow=flow or valid_flow(), author_id=owner.id,
        state=VersionState.PUBLISHED if published else VersionState.DRAFT,
        published_at=clock.now() if published else None,
    )
    session.add(v)
    session.flush()
    a.current_version_id = v.id
    a.live_version_id = v.id if published else None
    session.add(a)
    session.flush()
    return a


def record(session: Session, *, flow: dict[str, Any] | None = None) -> ExecutionRecord:
    """Round 1 of a new In Progress activity (of a new workspace and marketer), flushed."""
    ws = workspace(session)
    a = activity(session, user(session, ws, Role.MARKETER), status=ActivityStatus.IN_PROGRESS, flow=flow)
    r = ExecutionRecord(activity_id=a.id, version_id=a.live_version_id, number=1, trigger="publish")
    session.add(r)
    session.flush()
    return r


def group(
    session: Session, ws: Workspace, name: str, parent: ActivityGroup | None = None, position: int = 0
) -> ActivityGroup:
    g = ActivityGroup(workspace_id=ws.id, name=name, parent_id=parent.id if parent else None, position=position)
    session.add(g)
    session.flush()
    return g


def campaign(session: Session, ws: Workspace, name: str, parent: MarketingCampaign | None = None) -> MarketingCampaign:
    c = MarketingCampaign(workspace_id=ws.id, name=name, parent_id=parent.id if parent else None)
    session.add(c)
    session.flush()
    return c


def later(hours: float = 1) -> datetime:
    return clock.now() + timedelta(hours=hours)
