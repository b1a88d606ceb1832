"""Customers (bulk upsert, tags), audiences (CSV import, rules, materialisation) on a real migrated database."""

import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, func, select

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Audience, AudienceKind, AudienceMember, Customer, CustomerTag, Role
from engine.services import audiences as aud
from engine.shared import audiences as who
from engine.shared import customers as cust
from tests import factories as f


def _count(session: Session, model: Any) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


# ---------------------------------------------------------------- customers


def test_upsert_creates_updates_and_keeps_empty_fields(session: Session) -> None:
    ws = f.workspace(session)
    first = cust.upsert_customers(session=session, workspace_id=ws.id, rows=[
        {"qaid": "A1", "name": "Wang Fang", "phone": "+86 138-0013-8000", "attributes": {"city": "Shanghai"},
         "tags": {"level": "gold"}},
        {"qaid": "A2"},
    ])
    assert first.created == 2 and first.updated == 0 and set(first.ids) == {"A1", "A2"}
    again = cust.upsert_customers(session=session, workspace_id=ws.id, rows=[
        {"qaid": "A1", "name": "", "email": "fang@example.com", "attributes": {"age": 30}, "tags": {"level": "vip"}},
        {"qaid": "A2"},  # nothing to change
        {"qaid": "A3", "timezone": "Europe/London"},
    ])
    assert again.created == 1 and again.updated == 1 and again.ids["A1"] == first.ids["A1"]
    a1 = cust.get_customer(session=session, workspace_id=ws.id, qaid="A1")
    session.refresh(a1)
    assert (a1.name, a1.phone, a1.email) == ("Wang Fang", "+8613800138000", "fang@example.com")
    assert a1.attributes == {"city": "Shanghai", "age": 30}
    assert cust.get_tags(session=session, customer_ids=[a1.id]) == {a1.id: {"level": "vip"}}
    assert cust.get_customer(session=session, workspace_id=ws.id, qaid="A3").timezone == "Europe/London"
    assert cust.get_customer(session=session, workspace_id=ws.id, qaid="A2").timezone == "Asia/Shanghai"
    with pytest.raises(NotFound):
        cust.get_customer(session=session, workspace_id=ws.id, qaid="nope")


def test_upsert_refuses_bad_rows_without_writing(session: Session) -> None:
    ws = f.workspace(session)
    for row, words in [({"qaid": ""}, "qaid is empty"), ({"qaid": "x" * 65}, "longer than 64"),
                       ({"qaid": "B", "email": "nope"}, "not an email"), ({"qaid": "B", "phone": "12"}, "phone"),
                       ({"qaid": "B", "timezone": "Mars/Olympus"}, "time zone"),
                       ({"qaid": "B", "tags": {"t": 3}}, "must be text")]:
        with pytest.raises(Invalid, match=words):
            cust.upsert_customers(session=session, workspace_id=ws.id, rows=[{"qaid": "ok"}, row])
    assert _count(session, Customer) == 0


def test_tags_set_get_remove_and_workspace_isolation(session: Session) -> None:
    ws, other = f.workspace(session), f.workspace(session)
    ids, created = cust.ensure_customers(session=session, workspace_id=ws.id, qaids=["C1", "C2", "C1"])
    assert created == 2
    same, created_again = cust.ensure_customers(session=session, workspace_id=ws.id, qaids=["C1", "C2"])
    assert same == ids and created_again == 0
    other_ids, _ = cust.ensure_customers(session=session, workspace_id=other.id, qaids=["C1"])
    assert other_ids["C1"] != ids["C1"]
    assert cust.set_tag(session=session, customer_ids=list(ids.values()), tag="level", value="gold") == 2
    cust.set_tag(session=session, customer_ids=[ids["C1"]], tag="level", value="vip")
    cust.set_tag(session=session, customer_ids=[ids["C1"]], tag="city", value="Hangzhou")
    assert cust.get_tags(session=session, customer_ids=list(ids.values())) == {
        ids["C1"]: {"level": "vip", "city": "Hangzhou"}, ids["C2"]: {"level": "gold"}}
    assert cust.get_tags(session=session, customer_ids=[ids["C1"]], tags=["city"]) == {ids["C1"]: {"city": "Hangzhou"}}
    assert cust.tag_values(session=session, workspace_id=ws.id) == {"city": ["Hangzhou"], "level": ["gold", "vip"]}
    cust.remove_tag(session=session, customer_ids=[ids["C1"]], tag="city")
    assert "city" not in cust.get_tags(session=session, customer_ids=[ids["C1"]])[ids["C1"]]
    with pytest.raises(Invalid, match="longer than 120"):
        cust.set_tag(session=session, customer_ids=[ids["C1"]], tag="level", value="x" * 121)
    assert cust.count_customers(session=session, workspace_id=ws.id) == 2


# ---------------------------------------------------------------- CSV import

GOOD_CSV = """QAID,Name,Mobile,email,tag:level,attr:age,attr:zip
Q1,Wang Fang,+8613800000001,fang@example.com,gold,31,00123
Q2,Li Wei,,,silver,45,
Q3,"Zhang, Min",,,,,

Q1,,,,vip,,
"""


def test_import_csv_creates_static_audience_and_upserts_customers(session: Session) -> None:
    ws = f.workspace(session)
    marketer = f.user(session, ws)
    cust.upsert_customers(session=session, workspace_id=ws.id, rows=[{"qaid": "Q2", "name": "Old", "email": "l@x.io"}])
    result = aud.import_csv(session=session, actor=marketer, name="  Spring VIPs ", csv_text=GOOD_CSV)
    assert (result.rows, result.members, result.customers_created, result.customers_updated) == (4, 3, 2, 1)
    assert result.warnings == ["1 rows repeated a QAID already in the file."]
    audience = result.audience
    assert (audience.name, audience.kind, audience.source, audience.created_by) == (
        "Spring VIPs", AudienceKind.STATIC, "CSV import", marketer.id)
    ids = cust.ids_for_qaids(session=session, workspace_id=ws.id, qaids=["Q1", "Q2", "Q3"])
    assert who.materialize(session=session, audience_id=audience.id) == sorted(ids.values())
    q1 = cust.get_customer(session=session, workspace_id=ws.id, qaid="Q1")
    assert (q1.name, q1.phone, q1.attributes) == ("Wang Fang", "+8613800000001", {"age": 31, "zip": "00123"})
    assert cust.get_tags(session=session, customer_ids=[q1.id]) == {q1.id: {"level": "vip"}}  # later row wins
    q2 = cust.get_customer(session=session, workspace_id=ws.id, qaid="Q2")
    assert (q2.name, q2.email) == ("Li Wei", "l@x.io")  # empty cell keeps the stored email
    assert cust.get_customer(session=session, workspace_id=ws.id, qaid="Q3").name == "Zhang, Min"


def test_import_csv_reports_bad_lines_and_saves_nothing(session: Session) -> None:
    ws = f.workspace(session)
    admin = f.user(session, ws, Role.ADMIN)
    csv_text = ("qaid,phone,email,timezone,tag:level\n"
                "G1,+8613800000001,,,gold\n"             # line 2 fine
                ",+8613800000002,,,\n"                   # line 3: no qaid
                "G3,abc,,,\n"                            # line 4: phone
                "\n"                                     # line 5 blank: skipped
                "G6,,\"not an\nemail\",,\n"              # lines 6-7: a quoted value spanning two lines
                "G8,,,Mars/Base,\n"                      # line 8: time zone
                "G9,,,,gold,extra\n")                    # line 9: too many values
    with pytest.raises(aud.CsvImportError) as caught:
        aud.import_csv(session=session, actor=admin, name="Bad", csv_text=csv_text)
    lines = [line for line, _ in caught.value.errors]
    assert lines == [3, 4, 6, 8, 9]
    message = str(caught.value)
    assert "5 problems" in message and "line 3: the qaid is empty" in message
    assert "line 9: 6 values, but the header has 5 columns" in message
    assert _count(session, Customer) == 0 and _count(session, Audience) == 0 and _count(session, CustomerTag) == 0


@pytest.mark.parametrize("csv_text, words", [
    ("", "the file is empty"),
    ("qaid,name\n", "no customer rows"),
    ("name,phone\nA,+8613800000000\n", "a 'qaid' column is required"),
    ("qaid,colour\nA,red\n", "unknown column 'colour'"),
    ("qaid,name,Name\nA,b,c\n", "appears twice"),
    ("qaid,tag:\nA,b\n", "has no tag name"),
])
def test_import_csv_refuses_bad_headers(session: Session, csv_text: str, words: str) -> None:
    ws = f.workspace(session)
    with pytest.raises(aud.CsvImportError, match=words) as caught:
        aud.import_csv(session=session, actor=f.user(session, ws), name="X", csv_text=csv_text)
    assert caught.value.errors[0][0] in (1, 2)
    assert _count(session, Audience) == 0


def test_import_of_qaids_only_needs_existing_customers(session: Session) -> None:
    ws = f.workspace(session)
    marketer = f.user(session, ws)
    cust.ensure_customers(session=session, workspace_id=ws.id, qaids=["K1", "K2"])
    with pytest.raises(aud.CsvImportError) as caught:
        aud.import_csv(session=session, actor=marketer, name="List", csv_text="qaid\nK1\nK9\nK2\nK8\n")
    assert [line for line, _ in caught.value.errors] == [3, 5]
    assert "no customer has the QAID 'K9'" in str(caught.value)
    assert cust.count_customers(session=session, workspace_id=ws.id) == 2
    # bytes with a BOM, semicolons, through `file`
    result = aud.import_csv(session=session, actor=marketer, name="List",
                            file=io.BytesIO("\ufeffqaid;\nK2;\nK1;\n".replace(";", "").encode("utf-8-sig")))
    assert result.members == 2 and result.customers_created == 0
    semi = aud.import_csv(session=session, actor=marketer, name="Semi", csv_text="qaid;tag:level\nK1;gold\n")
    assert semi.members == 1


def test_import_permissions_and_names(session: Session) -> None:
    ws = f.workspace(session)
    manager, marketer = f.user(session, ws, Role.MANAGER), f.user(session, ws)
    with pytest.raises(Forbidden):
        aud.import_csv(session=session, actor=manager, name="M", csv_text="qaid,name\nA,B\n")
    with pytest.raises(Invalid, match="Enter an audience name"):
        aud.import_csv(session=session, actor=marketer, name="  ", csv_text="qaid,name\nA,B\n")
    with pytest.raises(Invalid, match="at most 60"):
        aud.import_csv(session=session, actor=marketer, name="x" * 61, csv_text="qaid,name\nA,B\n")
    with pytest.raises(Invalid, match="either"):
        aud.import_csv(session=session, actor=marketer, name="Both")
    aud.import_csv(session=session, actor=marketer, name="Once", csv_text="qaid,name\nA,B\n")
    with pytest.raises(Conflict, match="already exists"):
        aud.import_csv(session=session, actor=marketer, name="Once", csv_text="qaid,name\nA,B\n")


def test_import_of_100k_rows(session: Session) -> None:
    """Correct at scale (half the customers new, half updated); its speed is a benchmark's business."""
    ws = f.workspace(session)
    marketer = f.user(session, ws)
    cust.upsert_customers(session=session, workspace_id=ws.id,
                          rows=[{"qaid": f"U{i}", "name": "old"} for i in range(0, 100_000, 2)])  # half exist
    csv_text = "qaid,name,tag:segment\n" + "".join(f"U{i},Customer {i},s{i % 7}\n" for i in range(100_000))
    result = aud.import_csv(session=session, actor=marketer, name="Big", csv_text=csv_text)
    assert (result.members, result.customers_created, result.customers_updated) == (100_000, 50_000, 50_000)
    assert who.count_members(session=session, audience_id=result.audience.id) == 100_000


# ---------------------------------------------------------------- rules

PEOPLE = [
    # qaid, attributes, tags, timezone, email, joined days ago
    ("P1", {"city": "Shanghai", "age": 25, "vip": True, "note": "likes 50%_off"}, {"level": "gold", "score": "10"},
     "Asia/Shanghai", "p1@example.com", 3),
    ("P2", {"city": "Beijing", "age": 40, "vip": False}, {"level": "silver", "score": "3"}, "Asia/Shanghai", None, 40),
    ("P3", {"city": "Shanghai", "age": 61}, {"level": "bronze"}, "Europe/London", "p3@example.com", 100),
    ("P4", {}, {}, "Asia/Tokyo", None, 1),
]


@pytest.fixture
def people(session: Session) -> tuple[Any, dict[str, int]]:
    ws = f.workspace(session)
    now = clock.now()
    rows = [{"qaid": q, "attributes": a, "tags": t, "timezone": tz, "email": e,
             "created_at": now - timedelta(days=d)} for q, a, t, tz, e, d in PEOPLE]
    result = cust.upsert_customers(session=session, workspace_id=ws.id, rows=rows)
    other = f.workspace(session)  # same attributes in another workspace never leak in
    cust.upsert_customers(session=session, workspace_id=other.id, rows=[{**rows[0], "qaid": "X1"}])
    return ws, result.ids


RULE_CASES = [
    ({"field": "tag:level", "op": "eq", "value": "gold"}, {"P1"}),
    ({"field": "tag:level", "op": "neq", "value": "gold"}, {"P2", "P3", "P4"}),
    ({"field": "tag:level", "op": "in", "value": ["gold", "bronze"]}, {"P1", "P3"}),
    ({"field": "tag:level", "op": "not_in", "value": ["gold", "bronze"]}, {"P2", "P4"}),
    ({"field": "tag:score", "op": "gt", "value": 3}, {"P1"}),
    ({"field": "tag:score", "op": "gte", "value": 3}, {"P1", "P2"}),
    ({"field": "tag:score", "op": "lt", "value": 10}, {"P2"}),
    ({"field": "tag:score", "op": "lte", "value": 10}, {"P1", "P2"}),
    ({"field": "tag:score", "op": "eq", "value": 10}, {"P1"}),
    ({"field": "tag:level", "op": "contains", "value": "il"}, {"P2"}),
    ({"field": "tag:level", "op": "exists"}, {"P1", "P2", "P3"}),
    ({"field": "tag:level", "op": "exists", "value": False}, {"P4"}),
    ({"field": "attr:city", "op": "eq", "value": "Shanghai"}, {"P1", "P3"}),
    ({"field": "attr:city", "op": "neq", "value": "Shanghai"}, {"P2", "P4"}),
    ({"field": "attr:city", "op": "in", "value": ["Beijing", "Hangzhou"]}, {"P2"}),
    ({"field": "attr:city", "op": "not_in", "value": ["Beijing"]}, {"P1", "P3", "P4"}),
    ({"field": "attr:age", "op": "gt", "value": 40}, {"P3"}),
    ({"field": "attr:age", "op": "gte", "value": 40}, {"P2", "P3"}),
    ({"field": "attr:age", "op": "lt", "value": 40}, {"P1"}),
    ({"field": "attr:age", "op": "lte", "value": 40}, {"P1", "P2"}),
    ({"field": "attr:age", "op": "eq", "value": 25}, {"P1"}),
    ({"field": "attr:age", "op": "in", "value": [25, 61]}, {"P1", "P3"}),
    ({"field": "attr:vip", "op": "eq", "value": True}, {"P1"}),
    ({"field": "attr:vip", "op": "eq", "value": False}, {"P2"}),
    ({"field": "attr:note", "op": "contains", "value": "50%_"}, {"P1"}),  # % and _ are literal
    ({"field": "attr:note", "op": "contains", "value": "5%"}, set()),
    ({"field": "attr:age", "op": "exists"}, {"P1", "P2", "P3"}),
    ({"field": "attr:age", "op": "exists", "value": False}, {"P4"}),
    ({"field": "timezone", "op": "eq", "value": "Asia/Shanghai"}, {"P1", "P2"}),
    ({"field": "timezone", "op": "neq", "value": "Asia/Shanghai"}, {"P3", "P4"}),
    ({"field": "timezone", "op": "in", "value": ["Asia/Tokyo", "Europe/London"]}, {"P3", "P4"}),
    ({"field": "timezone", "op": "not_in", "value": ["Asia/Tokyo"]}, {"P1", "P2", "P3"}),
    ({"field": "timezone", "op": "contains", "value": "Asia/"}, {"P1", "P2", "P4"}),
    ({"field": "timezone", "op": "gt", "value": "Asia/Tokyo"}, {"P3"}),
    ({"field": "email", "op": "exists"}, {"P1", "P3"}),
    ({"field": "email", "op": "exists", "value": False}, {"P2", "P4"}),
    ({"field": "qaid", "op": "lte", "value": "P2"}, {"P1", "P2"}),
    ({"field": "created_at", "op": "within_days", "value": 30}, {"P1", "P4"}),
    ({"field": "attr:city", "op": "within_days", "value": 30}, set()),  # no date attribute: nobody
]


@pytest.mark.parametrize("cond, expected", RULE_CASES, ids=[f"{c['field']}-{c['op']}" for c, _ in RULE_CASES])
def test_rule_operators(session: Session, people: tuple[Any, dict[str, int]], cond: dict[str, Any],
                        expected: set[str]) -> None:
    ws, ids = people
    admin = f.user(session, ws, Role.ADMIN)
    audience = aud.create_rule_audience(session=session, actor=admin, name="R", rule={"all": [cond]})
    got = who.materialize(session=session, audience_id=audience.id)
    assert got == sorted(ids[q] for q in expected)
    assert aud.preview_rule(session=session, actor=admin, rule={"all": [cond]}) == len(expected)


def test_created_at_and_date_attributes(session: Session, people: tuple[Any, dict[str, int]]) -> None:
    ws, ids = people
    admin = f.user(session, ws, Role.ADMIN)
    since = (clock.now() - timedelta(days=50)).isoformat()
    joined = aud.create_rule_audience(session=session, actor=admin, name="Joined",
                                      rule={"all": [{"field": "created_at", "op": "gte", "value": since}]})
    assert who.materialize(session=session, audience_id=joined.id) == sorted(ids[q] for q in ("P1", "P2", "P4"))
    recent = (clock.now() - timedelta(days=2)).isoformat()
    cust.upsert_customers(session=session, workspace_id=ws.id, rows=[{"qaid": "P2", "attributes": {"last": recent}}])
    last = aud.create_rule_audience(session=session, actor=admin, name="Last",
                                    rule={"all": [{"field": "attr:last", "op": "within_days", "value": 7}]})
    assert who.materialize(session=session, audience_id=last.id) == [ids["P2"]]


def test_all_any_and_nested_groups(session: Session, people: tuple[Any, dict[str, int]]) -> None:
    ws, ids = people
    admin = f.user(session, ws, Role.ADMIN)
    rule = {"all": [{"field": "attr:city", "op": "eq", "value": "Shanghai"}],
            "any": [{"field": "tag:level", "op": "eq", "value": "bronze"},
                    {"all": [{"field": "attr:age", "op": "lt", "value": 30}, {"field": "email", "op": "exists"}]}]}
    audience = aud.create_rule_audience(session=session, actor=admin, name="Nested", rule=rule)
    assert who.materialize(session=session, audience_id=audience.id) == sorted([ids["P1"], ids["P3"]])
    anyone = aud.create_rule_audience(session=session, actor=admin, name="Any", rule={"any": [
        {"field": "tag:level", "op": "eq", "value": "silver"},
        {"field": "timezone", "op": "eq", "value": "Asia/Tokyo"}]})
    assert who.materialize(session=session, audience_id=anyone.id) == sorted([ids["P2"], ids["P4"]])
    among = who.members_among(session=session, audience_id=anyone.id, customer_ids=[ids["P1"], ids["P2"]])
    assert among == {ids["P2"]}
    assert who.count_members(session=session, audience_id=anyone.id) == 2


@pytest.mark.parametrize("rule, words", [
    ({}, "a group is an object"),
    ({"all": []}, "at least one condition"),
    ({"all": [{"field": "colour", "op": "eq", "value": "x"}]}, "unknown field 'colour'"),
    ({"all": [{"field": "tag:", "op": "eq", "value": "x"}]}, "unknown field"),
    ({"all": [{"field": "tag:a", "op": "like", "value": "x"}]}, "unknown operator 'like'"),
    ({"all": [{"field": "tag:a", "op": "in", "value": []}]}, "non-empty list"),
    ({"all": [{"field": "tag:a", "op": "eq"}]}, "needs a value"),
    ({"all": [{"field": "tag:a", "op": "gt", "value": True}]}, "not true/false"),
    ({"all": [{"field": "tag:a", "op": "within_days", "value": 3}]}, "applies to created_at"),
    ({"all": [{"field": "created_at", "op": "gte", "value": "yesterday"}]}, "not an ISO date"),
    ({"all": [{"field": "tag:a", "op": "exists", "value": "yes"}]}, "true or false"),
    ({"all": "tag:a"}, "must be a list"),
    ({"all": [{"field": "tag:a", "op": "exists"}], "none": []}, "unknown key"),
    ({"all": [{"all": [{"all": [{"all": [{"all": [{"all": [{"field": "qaid", "op": "exists"}]}]}]}]}]}]},
     "nest at most"),
])
def test_invalid_rules_are_refused(session: Session, rule: dict[str, Any], words: str) -> None:
    ws = f.workspace(session)
    with pytest.raises(Invalid, match=words):
        aud.create_rule_audience(session=session, actor=f.user(session, ws), name="Bad", rule=rule)
    assert _count(session, Audience) == 0


# ---------------------------------------------------------------- crowd data failures


def test_crowd_data_errors(session: Session, people: tuple[Any, dict[str, int]]) -> None:
    ws, ids = people
    admin = f.user(session, ws, Role.ADMIN)
    good = aud.create_rule_audience(session=session, actor=admin, name="Gold",
                                    rule={"all": [{"field": "tag:level", "op": "eq", "value": "gold"}]})
    # another workspace asking for it
    with pytest.raises(who.CrowdDataError, match="another workspace") as caught:
        who.materialize(session=session, audience_id=good.id, workspace_id=ws.id + 1)
    assert caught.value.audience_id == good.id
    assert who.materialize(session=session, audience_id=good.id, workspace_id=ws.id) == [ids["P1"]]
    # a rule broken after it was saved (e.g. edited in the database)
    broken = Audience(workspace_id=ws.id, name="Broken", kind=AudienceKind.RULE, rule={"all": [{"field": "x"}]})
    session.add(broken)
    session.flush()
    with pytest.raises(who.CrowdDataError, match="^Failed to obtain crowd data: the rule of audience “Broken”"):
        who.materialize(session=session, audience_id=broken.id)
    # deleted
    aud.delete_audience(session=session, actor=admin, audience_id=good.id)
    with pytest.raises(who.CrowdDataError, match=f"audience {good.id} no longer exists"):
        who.materialize(session=session, audience_id=good.id)
    with pytest.raises(who.CrowdDataError):
        who.members_among(session=session, audience_id=good.id, customer_ids=[ids["P1"]])
    # the database fails while reading
    session.execute(text("DROP TABLE customertag"))
    tagged = Audience(workspace_id=ws.id, name="Tagged", kind=AudienceKind.RULE,
                      rule={"all": [{"field": "tag:level", "op": "exists"}]})
    session.add(tagged)
    session.flush()
    with pytest.raises(who.CrowdDataError, match="the database failed while reading audience “Tagged” "
                                                 r"\((OperationalError|ProgrammingError)\)"):  # SQLite | PostgreSQL
        who.materialize(session=session, audience_id=tagged.id)


def test_empty_audiences_are_not_errors(session: Session) -> None:
    ws = f.workspace(session)
    admin = f.user(session, ws, Role.ADMIN)
    rule = aud.create_rule_audience(session=session, actor=admin, name="Nobody",
                                    rule={"all": [{"field": "tag:level", "op": "eq", "value": "diamond"}]})
    static = aud.create_static_audience(session=session, workspace_id=ws.id, name="Empty", customer_ids=[])
    assert who.materialize(session=session, audience_id=rule.id) == []
    assert who.materialize(session=session, audience_id=static.id) == []


# ---------------------------------------------------------------- reading and permissions


def test_list_get_create_delete_permissions(session: Session) -> None:
    ws, other = f.workspace(session), f.workspace(session)
    manager, marketer = f.user(session, ws, Role.MANAGER), f.user(session, ws)
    stranger = f.user(session, other, Role.ADMIN)
    rule = {"all": [{"field": "qaid", "op": "exists"}]}
    with pytest.raises(Forbidden):
        aud.create_rule_audience(session=session, actor=manager, name="No", rule=rule)
    everyone = aud.create_rule_audience(session=session, actor=marketer, name="Everyone", rule=rule)
    ids, _ = cust.ensure_customers(session=session, workspace_id=ws.id, qaids=["a", "b"])
    static = aud.create_static_audience(session=session, workspace_id=ws.id, name="Static",
                                        customer_ids=[ids["b"], ids["a"], ids["b"]], source="Generate Crowd")
    aud.add_members(session=session, audience_id=static.id, customer_ids=[ids["a"]])  # duplicates ignored
    assert [a.name for a in aud.list_audiences(session=session, actor=manager)] == ["Everyone", "Static"]
    assert [a.name for a in aud.list_audiences(session=session, actor=manager, kind=AudienceKind.STATIC)] == ["Static"]
    assert aud.list_audiences(session=session, actor=stranger) == []
    assert aud.get_audience(session=session, actor=manager, audience_id=everyone.id).rule == rule
    with pytest.raises(NotFound):
        aud.get_audience(session=session, actor=stranger, audience_id=everyone.id)
    assert aud.static_sizes(session=session, audience_ids=[static.id, everyone.id]) == {static.id: 2}
    assert who.materialize(session=session, audience_id=static.id) == sorted(ids.values())
    with pytest.raises(Forbidden):
        aud.delete_audience(session=session, actor=manager, audience_id=static.id)
    with pytest.raises(NotFound):
        aud.delete_audience(session=session, actor=stranger, audience_id=static.id)
    aud.delete_audience(session=session, actor=marketer, audience_id=static.id)
    assert _count(session, AudienceMember) == 0


def test_numeric_comparisons_skip_values_that_are_not_numbers(session: Session) -> None:
    ws = f.workspace(session)
    admin = f.user(session, ws, Role.ADMIN)
    result = cust.upsert_customers(session=session, workspace_id=ws.id, rows=[
        {"qaid": "N1", "attributes": {"age": "unknown"}, "tags": {"score": "n/a"}},
        {"qaid": "N2", "attributes": {"age": 0}, "tags": {"score": "0"}},
        {"qaid": "N3", "attributes": {"age": "41"}, "tags": {"score": "-2.5"}},
    ])
    ids = result.ids
    for cond, expected in [
        ({"field": "attr:age", "op": "lt", "value": 10}, {"N2"}),
        ({"field": "attr:age", "op": "gt", "value": 40}, {"N3"}),  # numeric text in an attribute counts
        ({"field": "tag:score", "op": "lte", "value": 0}, {"N2", "N3"}),
        ({"field": "tag:score", "op": "eq", "value": 0}, {"N2"}),
        ({"field": "tag:score", "op": "neq", "value": 0}, {"N1", "N3"}),
    ]:
        audience = aud.create_rule_audience(session=session, actor=admin, name=f"{cond}"[:60], rule={"all": [cond]})
        assert who.materialize(session=session, audience_id=audience.id) == sorted(ids[q] for q in expected), cond
