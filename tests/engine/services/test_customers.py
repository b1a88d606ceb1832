"""engine.services.customers on a real round (start_round + run_step on real Redis, sends to the provider
simulator): prefix search with paging and sorting over the indexes, phone masking per role, the profile's rounds
and messages with a private activity's rows only for its creator and admins, admin edits, and the right to be
forgotten leaving the counters as they were."""

from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from engine.db import read_session, write_session
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import BehaviorEvent, Customer, CustomerTag, ExecutionRecord, User
from engine.services import customers as svc
from engine.services.execution import counters_of
from engine.services.incoming import SUCCESS
from engine.shared.customers import upsert_customers
from tests.engine.runtime.support import steps_of
from tests.engine.services.exec_support import N, providers, seeded, set_public, start, users, walk  # noqa: F401

pytestmark = pytest.mark.usefixtures("providers")


def call(user: User, fn: Any, **kw: Any) -> Any:
    with read_session() as session:
        return fn(session=session, actor=session.get(User, user.id), **kw)


def change(user: User, fn: Any, **kw: Any) -> Any:
    with write_session() as session:
        return fn(session=session, actor=session.get(User, user.id), **kw)


def customer_id(qaid: str) -> int:
    with read_session() as session:
        return int(session.exec(select(Customer.id).where(Customer.qaid == qaid)).one())  # type: ignore[arg-type]


def ran() -> tuple[int, int, dict[str, User]]:
    """(activity id, record id, users) of a private activity whose round walked everyone to the end."""
    activity_id, _owner, record_id = seeded()
    walk(record_id, start(record_id))
    return activity_id, record_id, users(activity_id)


def test_search_finds_prefixes_of_qaid_name_email_and_pages_sorted() -> None:
    _activity, _record, who = ran()
    admin = who["admin"]
    with write_session() as session:
        session.get(Customer, customer_id("F00007")).email = "Ann.Lee@Example.com"  # type: ignore[union-attr]
    everyone = call(admin, svc.search_customers, page_size=30)
    assert (everyone.total, everyone.pages, everyone.more) == (N, 4, False)
    assert [r.qaid for r in everyone.rows][:3] == ["F00000", "F00001", "F00002"]
    last = call(admin, svc.search_customers, page=4, page_size=30)
    assert [r.qaid for r in last.rows] == [f"F{i:05d}" for i in range(90, 100)]
    down = call(admin, svc.search_customers, sort="qaid", descending=True, page_size=5)
    assert [r.qaid for r in down.rows] == ["F00099", "F00098", "F00097", "F00096", "F00095"]
    assert {r.qaid for r in call(admin, svc.search_customers, query="F0001").rows} == {
        f"F{i:05d}" for i in range(10, 20)}
    assert [r.qaid for r in call(admin, svc.search_customers, query="f70").rows] == ["F00070"]  # name "F70"
    assert [r.qaid for r in call(admin, svc.search_customers, query="ann.l").rows] == ["F00007"]
    assert call(admin, svc.search_customers, query="  ").total == N
    assert call(admin, svc.search_customers, query="nobody").total == 0
    with pytest.raises(Invalid):
        call(admin, svc.search_customers, sort="phone")
    with pytest.raises(Invalid):
        call(admin, svc.search_customers, page_size=0)


def test_other_workspaces_customers_are_never_found() -> None:
    _activity, _record, who = ran()
    seeded()  # a second workspace with the same QAIDs
    assert call(who["admin"], svc.search_customers, query="F0000").total == 10
    with read_session() as session:
        foreign = session.exec(select(Customer.id).where(Customer.workspace_id != who["admin"].workspace_id)).first()
    with pytest.raises(NotFound):
        call(who["admin"], svc.customer_profile, customer_id=foreign)


def test_phones_show_their_last_four_digits_unless_the_viewer_is_an_admin() -> None:
    _activity, _record, who = ran()
    cid = customer_id("F00012")
    assert call(who["admin"], svc.customer_profile, customer_id=cid).phone == "+8613900000012"
    for role in ("owner", "other", "manager"):
        profile = call(who[role], svc.customer_profile, customer_id=cid)
        assert (profile.phone, profile.phone_masked) == ("•••• 0012", True)
        [row] = call(who[role], svc.search_customers, query="F00012").rows
        assert row.phone == "•••• 0012"
    # an admin finds by a phone prefix; the others only by the whole number (no digit-by-digit reading)
    assert call(who["admin"], svc.search_customers, query="+861390000001").total == 10
    assert [r.qaid for r in call(who["admin"], svc.search_customers, query="86 1390 0000 012").rows] == ["F00012"]
    assert call(who["other"], svc.search_customers, query="+861390000001").total == 0
    assert [r.qaid for r in call(who["other"], svc.search_customers, query="+86 139-0000-0012").rows] == ["F00012"]
    assert call(who["admin"], svc.search_customers, query="F00000").rows[0].phone == ""  # every 50th has none


def test_the_profile_shows_rounds_with_routes_and_messages_and_private_ones_only_to_creator_and_admins() -> None:
    activity_id, record_id, who = ran()
    cid = customer_id("F00003")
    with write_session() as session:
        session.add(BehaviorEvent(workspace_id=who["admin"].workspace_id, customer_id=cid, name="purchase",
                                  properties={"amount": 120}))
        session.add(CustomerTag(customer_id=cid, tag="level", value="VIP"))
    profile = call(who["owner"], svc.customer_profile, customer_id=cid)
    [entry] = profile.entries
    assert (entry.activity_id, entry.record_id, entry.status) == (activity_id, record_id, SUCCESS)
    assert entry.route[:3] == ["Target Audience (t)", "Text SMS (sms)", "AB Test (ab)"]
    assert entry.route[-1] in ("End (e1)", "End (e2)")
    mine = {(s.node_id, s.result) for s in steps_of(record_id) if s.customer_id == cid and s.node_id in ("sms", "push")}
    assert {(m.node_id, m.result) for m in profile.messages} == mine and ("sms", "pending") in mine
    assert all(m.channel in ("Text SMS", "APP PUSH") for m in profile.messages)
    assert [(e.name, e.properties) for e in profile.events] == [("purchase", '{"amount": 120}')]
    assert [(t.tag, t.value) for t in profile.tags] == [("level", "VIP")]
    reach = {c.field: c.reachable for c in profile.channels}
    assert reach == {"phone": True, "email": False, "wechat_openid": False, "push_token": True}
    assert "consent per channel is below" in profile.consent_note
    assert call(who["admin"], svc.customer_profile, customer_id=cid).entries == profile.entries
    for role in ("other", "manager"):  # the activity is private to its creator
        seen = call(who[role], svc.customer_profile, customer_id=cid)
        assert (seen.entries, seen.messages) == ([], [])
        assert seen.tags == profile.tags  # the customer themselves is the workspace's
    set_public(activity_id, True)
    assert len(call(who["manager"], svc.customer_profile, customer_id=cid).entries) == 1


def test_only_admins_edit_attributes_and_tags() -> None:
    _activity, _record, who = ran()
    cid = customer_id("F00004")
    for role in ("owner", "manager"):
        with pytest.raises(Forbidden, match="Only an admin"):
            change(who[role], svc.set_customer_tag, customer_id=cid, tag="level", value="VIP")
        with pytest.raises(Forbidden, match="Only an admin"):
            change(who[role], svc.set_attribute, customer_id=cid, name="age", value=3)
        with pytest.raises(Forbidden, match="Only an admin"):
            change(who[role], svc.delete_customer, customer_id=cid)
        assert call(who[role], svc.customer_profile, customer_id=cid).edit_refusal == svc.ADMIN_ONLY
    admin = who["admin"]
    assert call(admin, svc.customer_profile, customer_id=cid).edit_refusal == ""
    change(admin, svc.set_customer_tag, customer_id=cid, tag="level", value="VIP")
    change(admin, svc.set_customer_tag, customer_id=cid, tag="level", value="Gold")
    change(admin, svc.set_attribute, customer_id=cid, name="age", value=svc.parse_attribute_value("42"))
    change(admin, svc.set_attribute, customer_id=cid, name="city", value=svc.parse_attribute_value("Pune"))
    profile = call(admin, svc.customer_profile, customer_id=cid)
    assert [(t.tag, t.value) for t in profile.tags if t.tag == "level"] == [("level", "Gold")]
    assert profile.attributes == {"age": 42, "city": "Pune"}
    change(admin, svc.remove_customer_tag, customer_id=cid, tag="level")
    change(admin, svc.remove_attribute, customer_id=cid, name="age")
    profile = call(admin, svc.customer_profile, customer_id=cid)
    assert ([t for t in profile.tags if t.tag == "level"], profile.attributes) == ([], {"city": "Pune"})
    with pytest.raises(Invalid):
        change(admin, svc.set_customer_tag, customer_id=cid, tag=" ", value="x")
    with pytest.raises(Invalid):
        change(admin, svc.set_attribute, customer_id=cid, name="", value="x")


def test_deleting_a_customer_forgets_their_rows_and_leaves_the_counters() -> None:
    _activity, record_id, who = ran()
    cid = customer_id("F00005")
    with write_session() as session:
        session.add(BehaviorEvent(workspace_id=who["admin"].workspace_id, customer_id=cid, name="purchase"))
        session.add(CustomerTag(customer_id=cid, tag="level", value="VIP"))
    with read_session() as session:
        before = counters_of(session, session.get(ExecutionRecord, record_id))  # type: ignore[arg-type]
    mine = [s for s in steps_of(record_id) if s.customer_id == cid]
    others = len(steps_of(record_id)) - len(mine)
    with pytest.raises(Invalid, match="F00005"):
        change(who["admin"], svc.delete_customer, customer_id=cid, confirm_qaid="F00006")
    gone = change(who["admin"], svc.delete_customer, customer_id=cid, confirm_qaid="F00005")
    assert (gone.qaid, gone.tags, gone.events, gone.memberships) == ("F00005", 1, 1, 1)
    assert gone.routes == 1 and gone.sends == len({s.node_id for s in mine if s.node_id in ("sms", "push")}) > 0
    assert [s for s in steps_of(record_id) if s.customer_id == cid] == []
    assert len(steps_of(record_id)) == others
    with read_session() as session:
        assert session.get(Customer, cid) is None
        assert session.exec(select(BehaviorEvent).where(BehaviorEvent.customer_id == cid)).first() is None
        assert session.exec(select(CustomerTag).where(CustomerTag.customer_id == cid)).first() is None
        assert counters_of(session, session.get(ExecutionRecord, record_id)) == before  # type: ignore[arg-type]
    assert call(who["admin"], svc.search_customers, query="F00005").total == 0
    with pytest.raises(NotFound):
        call(who["admin"], svc.customer_profile, customer_id=cid)


@pytest.mark.sqlite_only("reads SQLite's query plan")
def test_each_search_field_reads_an_index_range_not_the_table() -> None:
    _activity, _record, who = ran()
    with read_session() as session:
        actor = session.get(User, who["admin"].id)
        for term in ("F0001", "ann", "+8613900"):
            where = svc._match(session, actor, term)  # noqa: SLF001
            compiled = select(Customer.id).where(where).compile(session.get_bind(),
                                                                compile_kwargs={"literal_binds": True})
            plan = [str(r[-1]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
            ranges = [p for p in plan if p.startswith("SEARCH customer USING")]
            assert not [p for p in plan if p.startswith("SCAN")], plan
            assert any("sqlite_autoindex_customer" in p and "qaid>?" in p for p in ranges), plan
            assert any("ix_customer_ws_name_lower" in p and "<expr>>?" in p for p in ranges), plan
            assert any("ix_customer_ws_email_lower" in p and "<expr>>?" in p for p in ranges), plan
            if term.startswith("+"):
                assert any("ix_customer_ws_phone" in p and "phone>?" in p for p in ranges), plan


def test_a_broad_term_walks_the_sort_index_and_pages_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    _activity, _record, who = ran()
    admin = who["admin"]
    sorts = [(sort, down) for sort in svc.SORTS for down in (False, True)]
    narrow = {(sort, down, page): call(admin, svc.search_customers, query="F", sort=sort, descending=down,
                                       page=page, page_size=7) for sort, down in sorts for page in (1, 3)}
    monkeypatch.setattr(svc, "COUNT_LIMIT", 30)  # "F" finds all 100: now a broad term
    for (sort, down, page), expected in narrow.items():
        got = call(admin, svc.search_customers, query="F", sort=sort, descending=down, page=page, page_size=7)
        assert got.more and got.total == 30
        assert [r.qaid for r in got.rows] == [r.qaid for r in expected.rows], (sort, down, page)
    with read_session() as session:  # SQLite: the broad page walks (workspace_id, key) in order, no sort
        actor = session.get(User, admin.id)
        for sort, down in sorts if session.get_bind().dialect.name == "sqlite" else []:
            statement = svc._page_query(session, actor, "F", sort, down, True).limit(20)  # noqa: SLF001
            compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
            plan = " | ".join(str(r[-1]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert "TEMP B-TREE" not in plan, (sort, plan)


def test_on_postgresql_each_search_field_reads_its_pattern_index() -> None:
    _activity, _record, who = ran()
    with write_session() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL's text_pattern_ops indexes")
        upsert_customers(session=session, workspace_id=who["admin"].workspace_id, rows=[
            {"qaid": f"P{i:06d}", "name": f"Name {i}", "phone": f"+8613700{i:06d}", "email": f"p{i}@example.com"}
            for i in range(20_000)])
        session.execute(text("ANALYZE customer"))
    with read_session() as session:
        actor = session.get(User, who["admin"].id)
        for term, index in (("P00012", "ix_customer_ws_qaid_prefix"), ("name 123", "ix_customer_ws_name_lower"),
                            ("p123@", "ix_customer_ws_email_lower"), ("+86137000123", "ix_customer_ws_phone")):
            compiled = select(Customer.id).where(svc._match(session, actor, term)).compile(  # noqa: SLF001
                session.get_bind())
            cursor = session.connection().connection.cursor()
            cursor.execute(f"EXPLAIN {compiled}", compiled.params)
            plan = "\n".join(str(r[0]) for r in cursor.fetchall())
            assert "Seq Scan" not in plan and index in plan, plan
