"""engine.services.consent: who reads and who changes a customer's consent per channel, what is refused (and then
nothing is written), the history of every change, the events API's all-or-nothing batches, the right to be
forgotten taking consent along, and migration 0016 matching the models."""

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

from engine import clock, db
from engine.db import read_session, write_session
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import ConsentChange, Customer, CustomerConsent, Role, User
from engine.services import consent as svc
from engine.services import customers
from engine.settings import PROJECT_ROOT
from engine.shared.customers import upsert_customers
from tests import factories as f


def arrange() -> tuple[dict[str, User], int, int]:
    """(users by role, a customer id, another workspace's customer id)."""
    with write_session() as session:
        ws = f.workspace(session)
        who = {role.value: f.user(session, ws, role) for role in (Role.ADMIN, Role.MARKETER, Role.MANAGER)}
        ids = upsert_customers(session=session, workspace_id=int(ws.id), rows=[  # type: ignore[arg-type]
            {"qaid": "C1", "name": "Ann", "phone": "+8613800000001", "email": "ann@shop.example"}]).ids
        other = f.workspace(session)
        foreign = upsert_customers(session=session, workspace_id=int(other.id),  # type: ignore[arg-type]
                                   rows=[{"qaid": "C1"}]).ids
        return who, ids["C1"], foreign["C1"]


def read(user: User, fn: Any, **kw: Any) -> Any:
    with read_session() as session:
        return fn(session=session, actor=session.get(User, user.id), **kw)


def change(user: User, fn: Any, **kw: Any) -> Any:
    with write_session() as session:
        return fn(session=session, actor=session.get(User, user.id), **kw)


def rows() -> tuple[list[tuple[str, str, str]], int]:
    with read_session() as session:
        current = [(r.channel, r.status, r.source) for r in session.exec(select(CustomerConsent))]
        return sorted(current), len(session.exec(select(ConsentChange)).all())


def test_every_touch_channel_is_listed_unknown_until_set(database: str) -> None:
    who, cid, _ = arrange()
    view = read(who["manager"], svc.consent_of, customer_id=cid)
    assert [c.channel for c in view.channels] == ["text_sms", "digital_sms", "email", "wechat_message",
                                                  "template_message", "app_push"]
    assert {c.status for c in view.channels} == {"unknown"} and view.history == []
    sms = view.channels[0]
    assert (sms.label, sms.address_field, sms.reachable, sms.changed_at, sms.source) == (
        "Text SMS", "phone", True, None, "")
    assert [c.reachable for c in view.channels] == [True, True, True, False, False, False]
    assert view.edit_refusal == svc.ADMIN_ONLY
    assert read(who["admin"], svc.consent_of, customer_id=cid).edit_refusal == ""


def test_an_admin_changes_it_with_history_and_the_others_are_refused(database: str) -> None:
    who, cid, _ = arrange()
    admin = who["admin"]
    at = clock.now()
    got = change(admin, svc.set_consent, customer_id=cid, channel="text_sms", status="opted_out")
    assert (got.status, got.source) == ("opted_out", "admin") and got.changed_at is not None
    assert got.changed_at >= at
    change(admin, svc.set_consent, customer_id=cid, channel="text_sms", status="opted_out")  # already so: nothing
    change(admin, svc.set_consent, customer_id=cid, channel="email", status="opted_in")
    change(admin, svc.set_consent, customer_id=cid, channel="text_sms", status="opted_in")
    assert rows() == ([("email", "opted_in", "admin"), ("text_sms", "opted_in", "admin")], 3)
    change(admin, svc.set_consent, customer_id=cid, channel="email", status="unknown")  # back to the default
    assert rows() == ([("text_sms", "opted_in", "admin")], 4)
    history = read(who["marketer"], svc.consent_of, customer_id=cid).history
    assert [(h.channel, h.previous, h.status, h.source, h.changed_by) for h in history] == [
        ("email", "opted_in", "unknown", "admin", admin.display_name),
        ("text_sms", "opted_out", "opted_in", "admin", admin.display_name),
        ("email", "unknown", "opted_in", "admin", admin.display_name),
        ("text_sms", "unknown", "opted_out", "admin", admin.display_name)]
    for role in ("marketer", "manager"):
        with pytest.raises(Forbidden, match="Only an admin"):
            change(who[role], svc.set_consent, customer_id=cid, channel="email", status="opted_out")
    assert rows() == ([("text_sms", "opted_in", "admin")], 4)


def test_bad_input_is_refused_with_its_reason_and_nothing_written(database: str) -> None:
    who, cid, foreign = arrange()
    admin = who["admin"]
    with pytest.raises(Invalid, match="Unknown channel 'sms'.*text_sms"):
        change(admin, svc.set_consent, customer_id=cid, channel="sms", status="opted_out")
    with pytest.raises(Invalid, match="Unknown channel 'webhook'"):  # a data push is not a message to them
        change(admin, svc.set_consent, customer_id=cid, channel="webhook", status="opted_out")
    with pytest.raises(Invalid, match="Unknown consent status 'maybe'"):
        change(admin, svc.set_consent, customer_id=cid, channel="email", status="maybe")
    with pytest.raises(NotFound):
        change(admin, svc.set_consent, customer_id=foreign, channel="email", status="opted_out")
    with pytest.raises(NotFound):
        read(admin, svc.consent_of, customer_id=foreign)
    with pytest.raises(NotFound):
        change(admin, svc.set_consent, customer_id=cid + 999, channel="email", status="opted_out")
    assert rows() == ([], 0)


def test_the_api_batch_is_all_or_nothing_and_creates_unknown_customers(database: str) -> None:
    who, cid, _ = arrange()
    ws = who["admin"].workspace_id
    with pytest.raises(Invalid, match="Item 1: Unknown consent status"), write_session() as session:
        svc.apply_api(session=session, workspace_id=ws, items=[
            {"qaid": "C1", "channel": "email", "status": "opted_out"},
            {"qaid": "C1", "channel": "text_sms", "status": "no"}])
    with pytest.raises(Invalid, match="Item 0: qaid is required"), write_session() as session:
        svc.apply_api(session=session, workspace_id=ws, items=[{"channel": "email", "status": "opted_out"}])
    assert rows() == ([], 0)
    with write_session() as session:
        done = svc.apply_api(session=session, workspace_id=ws, items=[
            {"qaid": "C1", "channel": "email", "status": "opted_out"},
            {"qaid": "NEW", "channel": "app_push", "status": "opted_out"},
            {"qaid": "C1", "channel": "email", "status": "opted_out"}])
    assert (done.changed, done.unchanged, done.customers_created) == (2, 1, 1)
    assert rows() == ([("app_push", "opted_out", "api"), ("email", "opted_out", "api")], 2)


def test_deleting_a_customer_deletes_their_consent(database: str) -> None:
    who, cid, _ = arrange()
    change(who["admin"], svc.set_consent, customer_id=cid, channel="email", status="opted_out")
    change(who["admin"], customers.delete_customer, customer_id=cid, confirm_qaid="C1")
    assert rows() == ([], 0)
    with read_session() as session:
        assert session.get(Customer, cid) is None


def test_the_migrated_schema_matches_the_models(database: str) -> None:
    with db.get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in diff if "consent" in repr(d)] == []
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    command.downgrade(cfg, "0015_testers")
    command.upgrade(cfg, "head")
    db.reset_engine()


def test_a_csv_import_maps_opt_out_columns(database: str) -> None:
    from engine.services import audiences

    who, _cid, _ = arrange()
    admin = who["admin"]
    with pytest.raises(audiences.CsvImportError) as refused, write_session() as session:
        audiences.import_csv(session=session, actor=session.get(User, admin.id), name="bad",
                             csv_text="qaid,optout:email\nC1,yes\nC2,maybe\n")
    assert refused.value.errors == [(3, "the opt-out 'email' must be yes or no (1 / 0, true / false), not 'maybe'")]
    with pytest.raises(audiences.CsvImportError, match="unknown channel"), write_session() as session:
        audiences.import_csv(session=session, actor=session.get(User, admin.id), name="bad",
                             csv_text="qaid,optout:fax\nC1,yes\n")
    assert rows() == ([], 0)
    assert audiences.suggested_column("OptOut:Email") == "optout:Email"
    with write_session() as session:
        done = audiences.import_csv(session=session, actor=session.get(User, admin.id), name="Opt-outs",
                                    csv_text="qaid,name,optout:email,optout:text_sms\nC1,Ann,yes,\nC9,Bo,0,1\n")
    assert (done.rows, done.customers_created) == (2, 1)
    assert rows() == ([("email", "opted_in", "import"), ("email", "opted_out", "import"),
                       ("text_sms", "opted_out", "import")], 3)
