"""Migration 0008 moves the per-step rows of the components that only route into route rows, keeps the sends'
step rows, and reads the same per-step details afterwards (and back again on downgrade)."""

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from engine import db
from engine.db import read_session, write_session
from engine.models import ExecutionRecord, Role
from engine.runtime.details import all_steps, entered_ids
from engine.settings import PROJECT_ROOT
from engine.status import ActivityStatus
from tests import factories as f

FLOW = {"nodes": [{"id": "t", "type": "target_audience", "config": {"audience_id": 1}},
                  {"id": "sms", "type": "text_sms", "config": {"content": "Hi"}},
                  {"id": "e", "type": "end", "config": {}}],
        "edges": [{"source": "t", "branch": "out", "target": "sms"},
                  {"source": "sms", "branch": "out", "target": "e"}]}
#: (node, customer, branch, result, reason) as the old one-row-per-step table held them
OLD = [("t", 1, "out", "passed", None), ("sms", 1, "out", "success", None), ("e", 1, "", "passed", None),
       ("t", 2, "out", "passed", None), ("sms", 2, "out", "failed", "No phone"), ("e", 2, "", "passed", None)]


def _alembic(revision: str, *, down: bool = False) -> None:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    (command.downgrade if down else command.upgrade)(cfg, revision)
    db.reset_engine()


def test_old_step_rows_become_routes_and_read_the_same(database: str) -> None:
    with write_session() as session:
        ws = f.workspace(session)
        activity = f.activity(session, f.user(session, ws, Role.MARKETER), status=ActivityStatus.IN_PROGRESS,
                              flow=FLOW)
        record = ExecutionRecord(activity_id=activity.id, version_id=activity.live_version_id, number=1,
                                 trigger="publish")
        session.add(record)
        session.flush()
        record_id = int(record.id)  # type: ignore[arg-type]
    _alembic("0007", down=True)
    with write_session() as session:
        session.execute(text("INSERT INTO customerstep (record_id, node_id, customer_id, branch, result, reason, at)"
                             " VALUES (:r, :n, :c, :b, :res, :reason, '2026-12-01 10:00:00')"),
                        [{"r": record_id, "n": n, "c": c, "b": b, "res": res, "reason": reason}
                         for n, c, b, res, reason in OLD])
    _alembic("head")
    with read_session() as session:
        steps = sorted((s.node_id, s.customer_id, s.branch, s.result, s.reason) for s in all_steps(session, record_id))
        sends = session.execute(text("SELECT count(*) FROM customerstep")).scalar_one()
        routes = session.execute(text("SELECT count(*) FROM customerroute")).scalar_one()
        assert entered_ids(session, [record_id]) == {1, 2}
    assert steps == sorted(OLD)
    assert (sends, routes) == (2, 2)  # the sends stay step rows; t and e of each customer are one route row
    _alembic("0007", down=True)
    with read_session() as session:
        back = sorted(session.execute(text("SELECT node_id, customer_id, branch, result, reason FROM customerstep"))
                      .all())
    assert [tuple(row) for row in back] == sorted(OLD)
    _alembic("head")
