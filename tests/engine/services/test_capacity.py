"""The workspace's in-progress cap (100) under concurrent starts and publishes, from threads and from
separate processes against the real database file: exactly the cap ends up in progress."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
from sqlmodel import func, select

from engine import db
from engine.errors import Conflict
from engine.models import Activity, ExecutionRecord, Role, User
from engine.services import activities as svc
from engine.status import ActivityStatus
from tests import factories as f

S = ActivityStatus


def _seed(running: int, stopped: int, drafts: int = 0) -> tuple[int, list[int], list[int]]:
    with db.write_session() as session:
        ws = f.workspace(session, cap=100)
        admin = f.user(session, ws, Role.ADMIN)
        for _ in range(running):
            f.activity(session, admin, status=S.IN_PROGRESS)
        stopped_ids = [f.activity(session, admin, status=S.STOPPED).id for _ in range(stopped)]
        draft_ids = [f.activity(session, admin, status=S.DRAFT).id for _ in range(drafts)]
        return admin.id, stopped_ids, draft_ids


def _act(kind: str, user_id: int, activity_id: int, reset: bool = False) -> str:
    if reset:  # a forked process must not share the parent's connections
        db.get_engine.cache_clear()
    try:
        with db.write_session() as session:
            actor = session.get(User, user_id)
            fn = svc.start if kind == "start" else svc.publish
            fn(session=session, actor=actor, activity_id=activity_id)
        return "ok"
    except Conflict as err:
        assert "already in progress" in err.message
        return "refused"


def _in_progress() -> tuple[int, int]:
    with db.read_session() as session:
        running = session.exec(select(func.count()).select_from(Activity)
                               .where(Activity.status == S.IN_PROGRESS)).one()
        records = session.exec(select(func.count()).select_from(ExecutionRecord)).one()
        return running, records


@pytest.mark.parametrize("kind", ["start", "publish"])
def test_concurrent_threads_respect_the_cap(database: str, kind: str) -> None:
    user_id, stopped, drafts = _seed(running=90, stopped=15, drafts=15)
    targets = stopped if kind == "start" else drafts
    with ThreadPoolExecutor(max_workers=15) as pool:
        results = list(pool.map(lambda a: _act(kind, user_id, a), targets))
    assert results.count("ok") == 10 and results.count("refused") == 5
    assert _in_progress() == (100, 10)


def test_concurrent_processes_respect_the_cap(database: str) -> None:
    user_id, stopped, drafts = _seed(running=95, stopped=12, drafts=12)
    jobs = [("start", a) for a in stopped] + [("publish", a) for a in drafts]
    with ProcessPoolExecutor(max_workers=8, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_act, [k for k, _ in jobs], [user_id] * len(jobs), [a for _, a in jobs],
                                [True] * len(jobs)))
    assert results.count("ok") == 5 and results.count("refused") == 19
    assert _in_progress() == (100, 5)
