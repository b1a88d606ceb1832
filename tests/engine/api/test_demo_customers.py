"""The demo customer base: idempotent, audiences 1 and 2 for the demo flows, the documented API key."""


from sqlmodel import func, select
from starlette.testclient import TestClient

from engine import db
from engine.api.app import create_app
from engine.demo import WORKSPACE, seed
from engine.demo_customers import CUSTOMERS, DEMO_API_KEY, seed_customers
from engine.models import Audience, AudienceKind, BehaviorEvent, Customer, CustomerTag, Workspace
from engine.shared.audiences import materialize


def test_demo_customers_are_idempotent_and_referenced_audiences_exist(database: str) -> None:
    with db.write_session() as s:
        assert seed_customers(s) is False  # no demo workspace yet: nothing to do
        seed(s)
    with db.write_session() as s:
        assert seed_customers(s) is True
    with db.write_session() as s:
        assert seed_customers(s) is False

    with db.read_session() as s:
        ws = s.exec(select(Workspace).where(Workspace.name == WORKSPACE)).one()
        count = s.exec(select(func.count()).select_from(Customer).where(Customer.workspace_id == ws.id)).one()
        assert count == CUSTOMERS
        events = s.exec(select(func.count()).select_from(BehaviorEvent)).one()
        assert 29_000 <= events <= 31_000
        names = set(s.exec(select(BehaviorEvent.name).distinct()).all())
        assert {"browse_h5", "add_to_cart", "purchase", "register_app", "login"} <= names
        assert s.exec(select(func.count()).select_from(CustomerTag)).one() > 4 * CUSTOMERS
        customers = s.exec(select(Customer).where(Customer.workspace_id == ws.id)).all()
        zones = {c.timezone for c in customers}
        assert "Asia/Shanghai" in zones and len(zones) >= 5
        assert sum(c.timezone == "Asia/Shanghai" for c in customers) > CUSTOMERS * 0.7
        assert 0 < sum(c.email is None for c in customers) < CUSTOMERS / 2
        assert 0 < sum(c.wechat_openid is None for c in customers) < CUSTOMERS
        assert 0 < sum(c.push_token is None for c in customers) < CUSTOMERS
        assert {"city", "gender", "age", "member_level", "total_spend"} <= set(customers[0].attributes)

        all_members, new_members = s.get(Audience, 1), s.get(Audience, 2)
        assert all_members.workspace_id == ws.id and all_members.name == "All members"
        assert new_members.workspace_id == ws.id and new_members.kind == AudienceKind.RULE
        everyone, recent = materialize(session=s, audience_id=1), materialize(session=s, audience_id=2)
        assert CUSTOMERS * 0.8 < len(everyone) < CUSTOMERS and 100 < len(recent) < len(everyone)
        assert set(recent) <= set(everyone)
        vip = s.exec(select(Audience).where(Audience.name == "VIP list")).one()
        assert vip.kind == AudienceKind.STATIC and len(materialize(session=s, audience_id=vip.id)) > 100
        for audience in s.exec(select(Audience)).all():
            assert materialize(session=s, audience_id=audience.id, workspace_id=ws.id), audience.name

    with TestClient(create_app()) as client:
        response = client.post("/api/v1/events", headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
                               json={"qaid": "QA10000001", "name": "add_to_cart", "properties": {"sku": "SKU-1"}})
    assert response.status_code == 202 and response.json()["customers_created"] == 0


def test_the_demo_run_is_deterministic(database: str) -> None:
    with db.write_session() as s:
        seed(s)
        seed_customers(s)
    with db.read_session() as s:
        first = s.exec(select(Customer).order_by(Customer.id).limit(3)).all()
    assert [c.qaid for c in first] == ["QA10000001", "QA10000002", "QA10000003"]
    # same seed, same people (names/phones do not depend on the run)
    from random import Random

    from engine import clock
    from engine.demo_customers import SEED, _person

    again = _person(Random(SEED), 0, clock.now())
    assert (again["name"], again["phone"]) == (first[0].name, first[0].phone)
