"""A component type added as one module (tests/engine/components/postcard.py) and registered runs in a real round:
published, walked by the runtime's step, counted as a send (sent / success / not sent, one result row per
customer), read by a Result Judgment — with no runtime code naming it."""

from collections import Counter
from collections.abc import Iterator

import pytest

from engine.channels.registry import reset_channels
from engine.db import write_session
from engine.models import Role, User
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.settings import get_settings
from engine.shared.customers import upsert_customers
from tests import factories as f
from tests.engine.components import postcard
from tests.engine.runtime import support as s
from tests.engine.runtime.invariants import violations


@pytest.fixture
def mail(smtp_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:  # noqa: ANN001 — tests' SmtpSink
    monkeypatch.setenv("SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    reset_channels()
    yield smtp_server
    reset_channels()
    get_settings.cache_clear()


def _flow(audience_id: int) -> dict:
    def node(nid: str, type_: str, **config: object) -> dict:
        return {"id": nid, "type": type_, "config": config, "position": {"x": 0, "y": 0}}

    return {"nodes": [node("t", "target_audience", audience_id=audience_id),
                      node("p", postcard.TYPE, picture="city", greeting="Greetings, {name}"),
                      node("r", "result_judgment", node_id="p",
                           groups=[{"name": "delivered", "conditions": [{"op": "eq", "value": "success"}]}]),
                      node("e1", "end"), node("e2", "end")],
            "edges": [{"source": "t", "branch": "out", "target": "p"}, {"source": "p", "branch": "out", "target": "r"},
                      {"source": "r", "branch": "group_1", "target": "e1"},
                      {"source": "r", "branch": "others", "target": "e2"}]}


def test_a_registered_component_type_runs_as_a_send_in_a_round(database: str, redis_url: str, mail) -> None:  # noqa: ANN001
    with postcard.registered():
        with write_session() as session:
            ws = f.workspace(session)
            owner = f.user(session, ws, Role.MARKETER)
            rows = [{"qaid": f"P{i}", "name": f"Pat {i}", "email": f"pat{i}@example.com" if i else None}
                    for i in range(5)]
            ids = upsert_customers(session=session, workspace_id=ws.id, rows=rows).ids
            audience = create_static_audience(session=session, workspace_id=ws.id, name="All",
                                              customer_ids=sorted(ids.values()))
            flow = _flow(audience.id)
            activity = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="Postcards"),
                                           flow=flow)
            svc.publish(session=session, actor=session.get(User, owner.id), activity_id=activity.id)
            activity_id = int(activity.id)
        record_id = s.records(activity_id)[0].id

        s.run_in_process(record_id)

        counters = s.persisted_counters(record_id)
        steps = s.steps_of(record_id)
    assert sorted(str(m["To"]) for _, _, m in mail.received) == [f"pat{i}@example.com" for i in range(1, 5)]
    assert {m.get_payload().strip() for _, _, m in mail.received} == {f"Greetings, Pat {i}" for i in range(1, 5)}
    sent = counters["p"]
    assert (sent["entered"], sent["sent"], sent["success"], sent["not_sent"]) == (5, 4, 4, 1)
    results = Counter((st.result, st.reason) for st in steps if st.node_id == "p")
    assert results == {("success", None): 4, ("failed", "no email address"): 1}
    assert counters["r"]["branch:group_1"] == 4 and counters["r"]["branch:others"] == 1
    assert violations(flow, counters, audience=5) == []
