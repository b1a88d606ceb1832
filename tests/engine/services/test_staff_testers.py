"""Issue 14: staff contacts as testers, through the services on the real migrated database. A user's contact is
set (and checked) by an admin; a staff tester is added and removed like a customer tester, refused without a
contact; their hidden customer row never appears in audiences, estimates, the customer list, search or counts,
and no import or API call can reach it by its QAID. (The test round reaching the staff phone in the provider
simulator: tests/engine/runtime/test_test_rounds.py.)"""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

from engine import db
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import ActivityTester, Customer, Role, User, Workspace
from engine.services import approval as svc
from engine.services import audiences as aud
from engine.services import customers as cust
from engine.services import users
from engine.services.canvas import canvas_view
from engine.settings import PROJECT_ROOT
from engine.shared.audiences import count_members, materialize
from engine.shared.customers import (
    STAFF_QAID_PREFIX,
    count_customers,
    ensure_customers,
    get_customer,
    upsert_customers,
)
from tests import factories as f

STAFF_PHONE = "+8613711112222"


@pytest.fixture
def ws(session: Session) -> Workspace:
    return f.workspace(session)


@pytest.fixture
def admin(session: Session, ws: Workspace) -> User:
    return f.user(session, ws, Role.ADMIN)


@pytest.fixture
def marketer(session: Session, ws: Workspace) -> User:
    return f.user(session, ws, Role.MARKETER)


def staff(session: Session, ws: Workspace, admin: User, name: str = "Sam Staff", phone: str = "+86 137-1111-2222",
          email: str = "sam@example.com") -> User:
    user = f.user(session, ws, Role.MANAGER, name=name.replace(" ", "").lower())
    user.display_name = name
    users.set_contact(session=session, actor=admin, user_id=user.id, phone=phone, email=email)
    return user


def test_an_admin_sets_a_checked_contact(session: Session, ws, admin, marketer) -> None:
    user = f.user(session, ws, Role.MARKETER)
    row = users.set_contact(session=session, actor=admin, user_id=user.id, phone=" +86 137-1111-2222 ",
                            email="sam@example.com")
    assert (row.phone, row.email) == (STAFF_PHONE, "sam@example.com")  # normalised like a customer's
    with pytest.raises(Invalid, match="is not a phone number"):
        users.set_contact(session=session, actor=admin, user_id=user.id, phone="call me", email="")
    with pytest.raises(Invalid, match="is not an email address"):
        users.set_contact(session=session, actor=admin, user_id=user.id, phone="", email="sam@")
    with pytest.raises(Forbidden):
        users.set_contact(session=session, actor=marketer, user_id=user.id, phone=STAFF_PHONE)
    session.refresh(user)
    assert (user.phone, user.email) == (STAFF_PHONE, "sam@example.com")  # refusals changed nothing
    row = users.set_contact(session=session, actor=admin, user_id=user.id, phone="", email="")
    assert (row.phone, row.email) == ("", "")
    assert [r.phone for r in users.list_users(session=session, actor=admin) if r.id == user.id] == [""]


def test_a_staff_tester_is_added_listed_and_removed(session: Session, ws, admin, marketer) -> None:
    sam = staff(session, ws, admin)
    activity = f.activity(session, marketer, status="draft")
    options = svc.staff_options(session=session, actor=marketer, activity_id=activity.id)
    assert [(o.user_id, o.label) for o in options] == [(sam.id, f"Sam Staff ({STAFF_PHONE} / sam@example.com)")]

    tester = svc.add_staff_tester(session=session, actor=marketer, activity_id=activity.id, user_id=sam.id)
    [view] = svc.list_testers(session=session, actor=marketer, activity_id=activity.id)
    assert (view.id, view.staff, view.qaid, view.name, view.phone) == (tester.id, True, "", "Sam Staff", STAFF_PHONE)
    row = session.get(Customer, tester.customer_id)
    assert (row.staff_user_id, row.qaid, row.phone) == (sam.id, f"{STAFF_QAID_PREFIX}{sam.id}", STAFF_PHONE)
    assert svc.staff_options(session=session, actor=marketer, activity_id=activity.id) == []  # already a tester
    with pytest.raises(Conflict, match="already a tester"):
        svc.add_staff_tester(session=session, actor=marketer, activity_id=activity.id, user_id=sam.id)

    # the same user tests another activity through the same hidden row
    other = f.activity(session, marketer, status="draft")
    again = svc.add_staff_tester(session=session, actor=marketer, activity_id=other.id, user_id=sam.id)
    assert again.customer_id == tester.customer_id

    svc.remove_tester(session=session, actor=marketer, activity_id=activity.id, tester_id=tester.id)
    assert svc.list_testers(session=session, actor=marketer, activity_id=activity.id) == []
    assert [o.user_id for o in svc.staff_options(session=session, actor=marketer, activity_id=activity.id)] == [sam.id]


def test_a_staff_tester_needs_an_active_user_with_a_contact(session: Session, ws, admin, marketer) -> None:
    activity = f.activity(session, marketer, status="draft", public=True)  # a manager sees it, changes nothing
    bare = f.user(session, ws, Role.MARKETER, name="bare")
    assert svc.staff_options(session=session, actor=marketer, activity_id=activity.id) == []
    with pytest.raises(Invalid, match="has no phone or email"):
        svc.add_staff_tester(session=session, actor=marketer, activity_id=activity.id, user_id=bare.id)
    gone = staff(session, ws, admin, name="Gone Staff", phone="+8613700000009", email="")
    users.set_active(session=session, actor=admin, user_id=gone.id, active=False)
    with pytest.raises(NotFound):
        svc.add_staff_tester(session=session, actor=marketer, activity_id=activity.id, user_id=gone.id)
    elsewhere = f.user(session, f.workspace(session), Role.ADMIN)
    elsewhere.phone = "+8613700000010"
    session.add(elsewhere)
    session.flush()
    with pytest.raises(NotFound):
        svc.add_staff_tester(session=session, actor=marketer, activity_id=activity.id, user_id=elsewhere.id)
    manager = f.user(session, ws, Role.MANAGER)
    sam = staff(session, ws, admin)
    with pytest.raises(Forbidden):
        svc.add_staff_tester(session=session, actor=manager, activity_id=activity.id, user_id=sam.id)
    assert session.exec(select(ActivityTester)).all() == []


def test_a_test_round_uses_the_current_contact(session: Session, ws, admin, marketer) -> None:
    """The hidden row follows the user: a new phone before the round, none once deactivated."""
    sam = staff(session, ws, admin)
    activity = f.activity(session, marketer, status="draft")
    tester = svc.add_staff_tester(session=session, actor=marketer, activity_id=activity.id, user_id=sam.id)
    users.set_contact(session=session, actor=admin, user_id=sam.id, phone="+8613733334444", email="")
    assert session.get(Customer, tester.customer_id).phone == "+8613733334444"
    sam.phone = "+8613755556666"  # changed behind the services' back: run_test copies it anyway
    session.add(sam)
    session.flush()
    svc.run_test(session=session, actor=marketer, activity_id=activity.id)
    assert session.get(Customer, tester.customer_id).phone == "+8613755556666"
    users.set_active(session=session, actor=admin, user_id=sam.id, active=False)
    row = session.get(Customer, tester.customer_id)
    assert (row.phone, row.email) == (None, None)


def test_staff_rows_never_appear_in_audiences_estimates_lists_or_search(session: Session, ws, admin,
                                                                        marketer) -> None:
    ids = upsert_customers(session=session, workspace_id=ws.id, rows=[
        {"qaid": "C1", "name": "Sam Staff", "phone": "+8613700000001"},
        {"qaid": "C2", "name": "Other", "phone": "+8613700000002"}]).ids
    sam = staff(session, ws, admin)
    activity = f.activity(session, marketer, status="draft")
    tester = svc.add_staff_tester(session=session, actor=marketer, activity_id=activity.id, user_id=sam.id)
    hidden = tester.customer_id

    # rules: a name both share, and the staff phone; the estimate's count and sample; a saved rule audience
    by_name = {"all": [{"field": "name", "op": "eq", "value": "Sam Staff"}]}
    by_phone = {"all": [{"field": "phone", "op": "eq", "value": STAFF_PHONE}]}
    assert aud.preview_rule(session=session, actor=admin, rule=by_name) == 1
    assert aud.preview_rule(session=session, actor=admin, rule=by_phone) == 0
    estimate = aud.estimate_rule(session=session, actor=admin, rule=by_name)
    assert (estimate.size, [s["qaid"] for s in estimate.sample]) == (1, ["C1"])
    rule_audience = aud.create_rule_audience(session=session, actor=admin, name="Sams", rule=by_name)
    assert materialize(session=session, audience_id=rule_audience.id) == [ids["C1"]]
    assert count_members(session=session, audience_id=rule_audience.id) == 1
    # a static audience that somehow holds the row (a crowd, say) still leaves it out
    static = aud.create_static_audience(session=session, workspace_id=ws.id, name="Static",
                                        customer_ids=[ids["C2"], hidden])
    assert materialize(session=session, audience_id=static.id) == [ids["C2"]]
    assert count_members(session=session, audience_id=static.id) == 1

    # the Customers page: list, count, search by name / phone / the reserved QAID, the profile by id
    page = cust.search_customers(session=session, actor=admin)
    assert sorted(r.qaid for r in page.rows) == ["C1", "C2"] and page.total == 2
    for term in ("Sam", STAFF_PHONE, STAFF_QAID_PREFIX, "sam@"):
        assert hidden not in {r.id for r in cust.search_customers(session=session, actor=admin, query=term).rows}
    assert count_customers(session=session, workspace_id=ws.id) == 2
    with pytest.raises(NotFound):
        cust.customer_profile(session=session, actor=admin, customer_id=hidden)

    # no QAID path reaches it: a customer tester, an import, an event's QAID, a template preview's lookup
    qaid = f"{STAFF_QAID_PREFIX}{sam.id}"
    with pytest.raises(NotFound):
        svc.add_tester(session=session, actor=marketer, activity_id=activity.id, qaid=qaid)
    with pytest.raises(Invalid, match="kept for staff testers"):
        upsert_customers(session=session, workspace_id=ws.id, rows=[{"qaid": qaid, "phone": "+8613799999999"}])
    with pytest.raises(Invalid, match="kept for staff testers"):
        ensure_customers(session=session, workspace_id=ws.id, qaids=[qaid])
    with pytest.raises(NotFound):
        get_customer(session=session, workspace_id=ws.id, qaid=qaid)
    assert session.get(Customer, hidden).phone == STAFF_PHONE


def test_migration_0015_matches_the_models_and_goes_down_and_up(database: str) -> None:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    command.downgrade(cfg, "0014_channels")
    db.reset_engine()
    with db.get_engine().connect() as conn:
        assert "staff_user_id" not in {c["name"] for c in inspect(conn).get_columns("customer")}
    command.upgrade(cfg, "head")
    db.reset_engine()
    with db.get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    ours = [d for d in diff if any(t in repr(d) for t in ("staff_user", "'phone'", "'email'"))]
    assert ours == []


def test_the_canvas_header_shows_the_approval_status_and_the_latest_decision(session: Session, ws, admin,
                                                                             marketer) -> None:
    reviewer = f.user(session, ws, Role.REVIEWER, name="rita")
    activity = f.activity(session, marketer, status="draft")
    view = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert (view.approval_required, view.approval_hint) == (False, "")  # the setting is off: no badge
    ws.approval_required = True
    session.add(ws)
    session.flush()
    view = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert (view.approval_required, view.approval, view.approval_label) == (True, "", "N/A")
    assert view.approval_hint.startswith("Not requested yet")

    svc.add_staff_tester(session=session, actor=marketer, activity_id=activity.id,
                         user_id=staff(session, ws, admin).id)
    svc.run_test(session=session, actor=marketer, activity_id=activity.id)
    svc.request_live(session=session, actor=marketer, activity_id=activity.id)
    view = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert (view.approval, view.approval_label) == ("under_review", "Under Review")
    assert view.approval_hint == f"Under review, asked by {marketer.display_name}."
    svc.reject(session=session, actor=reviewer, activity_id=activity.id, comment="Name the stores")
    view = canvas_view(session=session, actor=marketer, activity_id=activity.id)
    assert (view.approval_label, view.approval_hint) == ("Rejected", "Rejected by Rita: Name the stores")
