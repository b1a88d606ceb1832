"""The /audiences page's services: behaviour-event and membership conditions (SQL on SQLite and PostgreSQL),
the estimate with its sample, the list (kind, size, creator, used by, search/sort/paging), editing rules and the
delete refusal that names the live activities and rules using an audience."""

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import Audience, AudienceKind, BehaviorEvent, Role
from engine.services import audiences as aud
from engine.shared import audiences as who
from engine.shared import customers as cust
from engine.status import ActivityStatus
from tests import factories as f


def _events(session: Session, ws_id: int, customer_id: int, name: str, days_ago: list[float]) -> None:
    for d in days_ago:
        session.add(BehaviorEvent(workspace_id=ws_id, customer_id=customer_id, name=name,
                                  occurred_at=clock.now() - timedelta(days=d)))
    session.flush()


@pytest.fixture
def shoppers(session: Session) -> tuple[Any, dict[str, int]]:
    ws = f.workspace(session)
    ids, _ = cust.ensure_customers(session=session, workspace_id=ws.id, qaids=["A", "B", "C", "D"])
    _events(session, ws.id, ids["A"], "purchase", [1, 2, 3])  # 3 recent purchases
    _events(session, ws.id, ids["B"], "purchase", [1, 40])  # 1 recent, 1 old
    _events(session, ws.id, ids["C"], "purchase", [50, 60, 70])  # only old ones
    _events(session, ws.id, ids["D"], "browse_h5", [1])  # another event
    return ws, ids


def _who(session: Session, actor: Any, rule: dict[str, Any], ids: dict[str, int]) -> set[str]:
    names = {v: k for k, v in ids.items()}
    query = who.rule_query(actor.workspace_id, rule, who.audience_loader(session, actor.workspace_id))
    return {names[i] for i in session.execute(query).scalars()}


@pytest.mark.parametrize(("op", "value", "expected"), [
    ("did", {"days": 30}, {"A", "B"}),
    ("did", {"times": 1, "days": 45}, {"A", "B"}),
    ("did", {"times": 2, "days": 45}, {"A", "B"}),
    ("did", {"times": 3, "days": 30}, {"A"}),
    ("did", {"times": 4, "days": 30}, set()),
    ("did", {"times": 3, "days": 100}, {"A", "C"}),
    ("did_not", {"days": 30}, {"C", "D"}),
    ("did_not", {"times": 2, "days": 30}, {"B", "C", "D"}),
])
def test_behaviour_event_condition(session: Session, shoppers: tuple[Any, dict[str, int]], op: str,
                                   value: dict[str, int], expected: set[str]) -> None:
    ws, ids = shoppers
    admin = f.user(session, ws, Role.ADMIN)
    rule = {"all": [{"field": "event:purchase", "op": op, "value": value}]}
    assert who.validate_rule(rule) == []
    assert _who(session, admin, rule, ids) == expected
    assert aud.preview_rule(session=session, actor=admin, rule=rule) == len(expected)


@pytest.mark.parametrize(("cond", "words"), [
    ({"field": "event:purchase", "op": "eq", "value": 1}, "'did' or 'did_not'"),
    ({"field": "event:purchase", "op": "did", "value": {"times": 2}}, "'days'"),
    ({"field": "event:purchase", "op": "did", "value": {"days": 0}}, "'days'"),
    ({"field": "event:purchase", "op": "did", "value": {"days": 3, "times": 0}}, "'times'"),
    ({"field": "event:purchase", "op": "did", "value": {"days": 3, "when": 1}}, "takes"),
    ({"field": "event:", "op": "did", "value": {"days": 3}}, "unknown field"),
    ({"field": "audience:x", "op": "member"}, "audience id"),
    ({"field": "audience:3", "op": "eq", "value": 1}, "'member'"),
])
def test_new_conditions_are_validated(cond: dict[str, Any], words: str) -> None:
    problems = who.validate_rule({"all": [cond]})
    assert problems and words in problems[0]


def test_membership_of_static_and_rule_audiences(session: Session, shoppers: tuple[Any, dict[str, int]]) -> None:
    ws, ids = shoppers
    admin = f.user(session, ws, Role.ADMIN)
    static = aud.create_static_audience(session=session, workspace_id=ws.id, name="List",
                                        customer_ids=[ids["A"], ids["C"]], source="CSV import")
    buyers = aud.create_rule_audience(session=session, actor=admin, name="Buyers", rule={
        "all": [{"field": "event:purchase", "op": "did", "value": {"days": 30}}]})
    both = {"all": [{"field": f"audience:{static.id}", "op": "member"},
                    {"field": f"audience:{buyers.id}", "op": "member", "value": True}]}
    assert _who(session, admin, both, ids) == {"A"}
    not_list = {"any": [{"field": f"audience:{static.id}", "op": "member", "value": False}]}
    assert _who(session, admin, not_list, ids) == {"B", "D"}
    nested = aud.create_rule_audience(session=session, actor=admin, name="Nested", rule=both)
    assert who.materialize(session=session, audience_id=nested.id) == [ids["A"]]
    assert who.members_among(session=session, audience_id=nested.id, customer_ids=list(ids.values())) == {ids["A"]}
    # a rule may not come to refer to itself, directly or through another rule
    with pytest.raises(Invalid, match="refers back to itself"):
        aud.update_rule_audience(session=session, actor=admin, audience_id=buyers.id, name="Buyers", rule={
            "all": [{"field": f"audience:{nested.id}", "op": "member"}]})
    with pytest.raises(Invalid, match="does not exist"):
        aud.preview_rule(session=session, actor=admin, rule={"all": [{"field": "audience:99999", "op": "member"}]})
    other_ws = f.workspace(session)
    stranger = f.user(session, other_ws, Role.ADMIN)
    with pytest.raises(Invalid, match="does not exist"):  # another workspace's audience reads as missing
        aud.preview_rule(session=session, actor=stranger, rule={"all": [{"field": f"audience:{static.id}",
                                                                          "op": "member"}]})


def test_a_cycle_stored_in_the_database_is_crowd_data_error(session: Session) -> None:
    ws = f.workspace(session)
    loop = Audience(workspace_id=ws.id, name="Loop", kind=AudienceKind.RULE, rule={"all": []})
    session.add(loop)
    session.flush()
    loop.rule = {"all": [{"field": f"audience:{loop.id}", "op": "member"}]}
    session.add(loop)
    session.flush()
    with pytest.raises(who.CrowdDataError, match="refers back to itself"):
        who.materialize(session=session, audience_id=loop.id)


def test_estimate_counts_and_samples(session: Session, shoppers: tuple[Any, dict[str, int]]) -> None:
    ws, ids = shoppers
    marketer = f.user(session, ws)
    est = aud.estimate_rule(session=session, actor=marketer, sample=1, rule={
        "any": [{"field": "event:purchase", "op": "did", "value": {"days": 30}},
                {"all": [{"field": "event:browse_h5", "op": "did", "value": {"days": 7}}]}]})
    assert est.size == 3 and [s["qaid"] for s in est.sample] == ["A"]
    with pytest.raises(Invalid, match="not valid"):
        aud.estimate_rule(session=session, actor=marketer, rule={"all": []})


def test_list_page_kinds_sizes_used_by_and_delete_refusal(session: Session,
                                                          shoppers: tuple[Any, dict[str, int]]) -> None:
    ws, ids = shoppers
    admin = f.user(session, ws, Role.ADMIN, name="Ada")
    marketer, other = f.user(session, ws, name="Mia"), f.user(session, ws, name="Otto")
    manager = f.user(session, ws, Role.MANAGER)
    rule = aud.create_rule_audience(session=session, actor=marketer, name="Recent buyers", rule={
        "all": [{"field": "event:purchase", "op": "did", "value": {"days": 30}}]})
    imported = aud.create_static_audience(session=session, workspace_id=ws.id, name="Imported list",
                                          customer_ids=[ids["A"]], source="CSV import", created_by=admin.id)
    generated = aud.create_static_audience(session=session, workspace_id=ws.id, name="Crowd",
                                           customer_ids=[ids["B"], ids["C"]], source="Generate Crowd: record 1")

    def flow(audience_id: int) -> dict[str, Any]:
        out = f.valid_flow()
        out["nodes"][0]["config"]["audience_id"] = audience_id
        return out

    live = f.activity(session, marketer, status=ActivityStatus.IN_PROGRESS, name="Spring sale", public=True,
                      flow=flow(rule.id))
    f.activity(session, other, status=ActivityStatus.PAUSED, name="Otto's secret", flow=flow(rule.id))
    f.activity(session, marketer, status=ActivityStatus.DRAFT, name="Draft", flow=flow(imported.id))
    judged = flow(generated.id)
    judged["nodes"].insert(1, {"id": "j", "type": "audience_judgment",
                               "config": {"groups": [{"audience_id": imported.id}]}})
    f.activity(session, marketer, status=ActivityStatus.STOPPED, name="Stopped one", flow=judged)

    page = aud.list_page(session=session, actor=manager, query=aud.AudienceQuery(sort="name", descending=False))
    assert [r.name for r in page.rows] == ["Crowd", "Imported list", "Recent buyers"]
    by = {r.name: r for r in page.rows}
    assert [by[n].kind for n in ("Crowd", "Imported list", "Recent buyers")] == ["generated", "imported", "rule"]
    assert (by["Recent buyers"].size, by["Imported list"].size, by["Crowd"].size) == (2, 1, 2)
    assert by["Recent buyers"].counted_at is not None and by["Crowd"].counted_at is None
    assert (by["Recent buyers"].creator, by["Imported list"].creator, by["Crowd"].creator) == ("Mia", "Ada", "System")
    assert [(u.name, u.visible) for u in by["Recent buyers"].used_by] == [("Otto's secret", False),
                                                                          ("Spring sale", True)]
    assert [u.name for u in by["Imported list"].used_by] == ["Draft", "Stopped one"]
    assert live.id in [u.activity_id for u in by["Recent buyers"].used_by]

    q = aud.AudienceQuery
    assert [r.name for r in aud.list_page(session=session, actor=manager, query=q(search="LIST")).rows] == [
        "Imported list"]
    assert [r.name for r in aud.list_page(session=session, actor=manager, query=q(kind="generated")).rows] == ["Crowd"]
    paged = aud.list_page(session=session, actor=manager, query=q(sort="name", page=2, page_size=2))
    assert (paged.total, paged.pages, paged.page, [r.name for r in paged.rows]) == (3, 2, 2, ["Crowd"])
    assert [r.name for r in aud.list_page(session=session, actor=manager, query=q(sort="creator", descending=False))
            .rows][-1] == "Recent buyers"  # Ada, Mia, System
    with pytest.raises(Invalid):
        aud.list_page(session=session, actor=manager, query=q(sort="size; drop"))

    # a live activity refuses, naming the visible one and counting the private one
    with pytest.raises(Conflict, match="“Spring sale” \\(In Progress\\), 1 private activity of other users"):
        aud.delete_audience(session=session, actor=marketer, audience_id=rule.id)
    # Draft and Stopped users do not refuse; a rule that names it does
    nested = aud.create_rule_audience(session=session, actor=marketer, name="Nested", rule={
        "all": [{"field": f"audience:{imported.id}", "op": "member"}]})
    with pytest.raises(Conflict, match="the rule of audience “Nested”"):
        aud.delete_audience(session=session, actor=marketer, audience_id=imported.id)
    aud.delete_audience(session=session, actor=marketer, audience_id=nested.id)
    aud.delete_audience(session=session, actor=marketer, audience_id=imported.id)
    with pytest.raises(Forbidden):
        aud.delete_audience(session=session, actor=manager, audience_id=generated.id)


def test_update_rule_audience(session: Session) -> None:
    ws = f.workspace(session)
    marketer, manager = f.user(session, ws), f.user(session, ws, Role.MANAGER)
    everyone = {"all": [{"field": "qaid", "op": "exists"}]}
    a = aud.create_rule_audience(session=session, actor=marketer, name="A", rule=everyone)
    aud.create_rule_audience(session=session, actor=marketer, name="B", rule=everyone)
    assert a.updated_at is None
    with pytest.raises(Conflict, match="already exists"):
        aud.update_rule_audience(session=session, actor=marketer, audience_id=a.id, name="B", rule=everyone)
    with pytest.raises(Forbidden):
        aud.update_rule_audience(session=session, actor=manager, audience_id=a.id, name="A", rule=everyone)
    new_rule = {"any": [{"field": "name", "op": "contains", "value": "x"}]}
    done = aud.update_rule_audience(session=session, actor=marketer, audience_id=a.id, name="A2", rule=new_rule)
    assert (done.name, done.rule) == ("A2", new_rule) and done.updated_at is not None
    static = aud.create_static_audience(session=session, workspace_id=ws.id, name="S", customer_ids=[])
    with pytest.raises(Conflict, match="Only a rule audience"):
        aud.update_rule_audience(session=session, actor=marketer, audience_id=static.id, name="S", rule=everyone)


def test_import_with_a_column_mapping_reports_progress_and_is_all_or_nothing(session: Session) -> None:
    from sqlmodel import func, select

    from engine.models import Customer

    ws = f.workspace(session)
    marketer = f.user(session, ws)
    text = "User,Mobile,Shoe size,Note\nU1,+8613800000001,42,x\nU2,+8613800000002,38,y\n"
    assert aud.csv_header(text) == ["User", "Mobile", "Shoe size", "Note"]
    assert [aud.suggested_column(c) for c in ["User", "Mobile", "tag:VIP", "Shoe size", ""]] == [
        "attr:User", "phone", "tag:VIP", "attr:Shoe size", "-"]
    heard: list[tuple[str, int, int]] = []
    done = aud.import_csv(session=session, actor=marketer, name="Mapped", csv_text=text,
                          columns=["qaid", "phone", "attr:shoe_size", "-"],
                          progress=lambda phase, n, total: heard.append((phase, n, total)))
    assert (done.rows, done.members, done.customers_created) == (2, 2, 2)
    u1 = cust.get_customer(session=session, workspace_id=ws.id, qaid="U1")
    assert u1.attributes == {"shoe_size": 42} and u1.phone == "+8613800000001"
    # saving: customer rows then members (2 each), reported as blocks are written
    assert heard[0] == ("saving", 0, 4) and heard[-1] == ("saving", 4, 4)
    with pytest.raises(aud.CsvImportError, match="mapping names 2 columns"):
        aud.import_csv(session=session, actor=marketer, name="Short", csv_text=text, columns=["qaid", "phone"])
    # one bad line refuses the whole file: no audience, no customer written, every bad line reported
    bad = "qaid,email\nN1,n1@example.com\nN2,not-an-email\nN3,n3@example.com\nN4\n"
    before = session.exec(select(func.count()).select_from(Customer)).one()
    with pytest.raises(aud.CsvImportError) as caught:
        aud.import_csv(session=session, actor=marketer, name="Bad", csv_text=bad)
    assert [line for line, _ in caught.value.errors] == [3, 5]
    assert "email" in caught.value.errors[0][1]
    assert session.exec(select(func.count()).select_from(Customer)).one() == before
    assert [a.name for a in aud.list_audiences(session=session, actor=marketer)] == ["Mapped"]


def test_tag_values_read_the_same_by_index_and_by_probe(session: Session) -> None:
    ws = f.workspace(session)
    cust.upsert_customers(session=session, workspace_id=ws.id, rows=[
        {"qaid": "T1", "tags": {"level": "gold", "city": "Shanghai"}}, {"qaid": "T2", "tags": {"level": "vip"}},
        {"qaid": "T3", "tags": {"level": "regular", "city": "Beijing"}}, {"qaid": "T4"}])
    marketer = f.user(session, ws)
    for rule, expected in [
        ({"all": [{"field": "tag:level", "op": "in", "value": ["gold", "vip"]}]}, ["T1", "T2"]),
        ({"all": [{"field": "tag:level", "op": "not_in", "value": ["gold", "vip"]}]}, ["T3", "T4"]),
        ({"any": [{"field": "tag:city", "op": "eq", "value": "Shanghai"},
                  {"field": "tag:level", "op": "eq", "value": "vip"}]}, ["T1", "T2"]),
        ({"all": [{"field": "tag:city", "op": "neq", "value": "Shanghai"}]}, ["T2", "T3", "T4"]),
    ]:
        est = aud.estimate_rule(session=session, actor=marketer, rule=rule, sample=10)
        assert (est.size, [c["qaid"] for c in est.sample]) == (len(expected), expected), rule
