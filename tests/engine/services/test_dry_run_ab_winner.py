"""Dry run of an AB Test with an automatic winner: the test's share is split into the groups as the engine would;
the others would wait for the winner (which no dry run can know) — the card says how many, and they are listed with
that reason, carried no further."""

from sqlmodel import Session

from engine.components.ab_test import in_test
from engine.models import Role
from engine.services import dry_run as svc
from engine.services.audiences import create_static_audience
from engine.shared.customers import upsert_customers
from tests import factories as f


def test_customers_outside_the_test_would_wait_for_the_winner(session: Session) -> None:
    ws = f.workspace(session)
    owner = f.user(session, ws, Role.MARKETER)
    ids = upsert_customers(session=session, workspace_id=ws.id,
                           rows=[{"qaid": f"D{i}", "name": f"D{i}"} for i in range(200)]).ids
    audience = create_static_audience(session=session, workspace_id=ws.id, name="D", customer_ids=list(ids.values()))
    ab = {"groups": [{"name": "A", "ratio": 50}, {"name": "B", "ratio": 50}], "target_event": "purchase",
          "window_hours": 24, "auto_winner": True, "significance": "95", "test_share": 30}
    flow = {"nodes": [{"id": "t", "type": "target_audience", "config": {"audience_id": audience.id}},
                      {"id": "ab", "type": "ab_test", "config": ab},
                      {"id": "e1", "type": "end", "config": {}}, {"id": "e2", "type": "end", "config": {}}],
            "edges": [{"source": "t", "branch": "out", "target": "ab"},
                      {"source": "ab", "branch": "group_1", "target": "e1"},
                      {"source": "ab", "branch": "group_2", "target": "e2"}]}
    activity = f.activity(session, owner, flow=flow)
    result = svc.dry_run(session=session, actor=owner, activity_id=activity.id)
    tested = [cid for cid in ids.values() if in_test(svc.DRY_RECORD, "ab", cid, 30)]
    held = 200 - len(tested)
    assert result.nodes["ab"].reached == 200 and sum(result.nodes["ab"].branches.values()) == len(tested)
    assert result.nodes["ab"].waits == f"{held:,} would wait for the automatic winner"
    assert result.nodes["e1"].reached + result.nodes["e2"].reached == len(tested)
    assert result.reasons["AB Test: would wait for the automatic winner"] == held
