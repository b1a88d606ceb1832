"""The admin's outbound allow-list: admin-only edits, clear refusals with nothing saved, and the fence (send
time and publish time) honouring a stored entry."""

import pytest
from sqlmodel import func, select

from engine import db, outbound
from engine.components.registry import get_component
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import OutboundAllow, Role
from engine.services import outbound_allow as allow
from tests import factories as f


def _rows() -> int:
    with db.read_session() as s:
        return s.exec(select(func.count()).select_from(OutboundAllow)).one()


@pytest.fixture
def people(database: str) -> dict[str, int]:
    with db.write_session() as s:
        ws = f.workspace(s)
        return {role.value: f.user(s, ws, role).id for role in (Role.ADMIN, Role.MARKETER, Role.MANAGER)}


def _actor(s, people: dict[str, int], role: Role):
    from engine.models import User

    return s.get(User, people[role.value])


def test_an_admin_adds_lists_and_removes_entries_in_canonical_form(people: dict[str, int]) -> None:
    with db.write_session() as s:
        admin = _actor(s, people, Role.ADMIN)
        row = allow.add_entry(session=s, actor=admin, entry=" CRM.Internal.:8443 ", note="our CRM")
        allow.add_entry(session=s, actor=admin, entry="10.20.1.0/16")
        assert [e.entry for e in allow.list_entries(session=s, actor=admin)] == ["10.20.0.0/16", "crm.internal:8443"]
        assert row.created_by_id == admin.id and row.note == "our CRM"
    with db.write_session() as s:
        allow.remove_entry(session=s, actor=_actor(s, people, Role.ADMIN), entry_id=row.id)
    assert _rows() == 1


@pytest.mark.parametrize("role", [Role.MARKETER, Role.MANAGER])
def test_only_an_admin_may_open_the_fence(people: dict[str, int], role: Role) -> None:
    with db.write_session() as s, pytest.raises(Forbidden, match="Only an admin"):
        allow.add_entry(session=s, actor=_actor(s, people, role), entry="10.0.0.5")
    with db.read_session() as s, pytest.raises(Forbidden):
        allow.list_entries(session=s, actor=_actor(s, people, role))
    assert _rows() == 0


@pytest.mark.parametrize(("entry", "note", "error", "words"), [
    ("not a host", "", Invalid, "Allow-list entry: 'not a host' is not a host name, address or network."),
    ("10.0.0.0/40", "", Invalid, "is not a network"),
    ("10.0.0.5", "x" * 201, Invalid, "note is longer than 200"),
])
def test_bad_input_is_refused_with_nothing_saved(people: dict[str, int], entry: str, note: str, error: type,
                                                 words: str) -> None:
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        with db.write_session() as s:
            allow.add_entry(session=s, actor=_actor(s, people, Role.ADMIN), entry=entry, note=note)
    assert _rows() == 0


def test_duplicates_and_missing_entries(people: dict[str, int]) -> None:
    with db.write_session() as s:
        admin = _actor(s, people, Role.ADMIN)
        allow.add_entry(session=s, actor=admin, entry="127.0.0.1:8099")
        with pytest.raises(Conflict, match="127.0.0.1:8099 is already allow-listed"):
            allow.add_entry(session=s, actor=admin, entry=" 127.0.0.1:8099")
        assert allow.ensure_entry(session=s, entry="127.0.0.1:8099") is False
        with pytest.raises(NotFound):
            allow.remove_entry(session=s, actor=admin, entry_id=999)


def test_the_fence_honours_a_stored_entry_at_send_and_publish_time(people: dict[str, int]) -> None:
    fence = outbound.Fence()  # the default: OUTBOUND_ALLOW (empty here) + the table
    webhook = get_component("webhook")
    with pytest.raises(outbound.AddressNotAllowed):
        fence.check("10.0.0.5", 443)
    assert webhook.validate({"url": "https://10.0.0.5/in"}) != []
    with db.write_session() as s:
        assert allow.ensure_entry(session=s, entry="10.0.0.5", note="the CRM in our data centre") is True
    assert fence.check("10.0.0.5", 443) == ["10.0.0.5"]  # this process sees its own edit at once
    assert webhook.validate({"url": "https://10.0.0.5/in"}) == []
    with db.write_session() as s:
        admin = _actor(s, people, Role.ADMIN)
        allow.remove_entry(session=s, actor=admin, entry_id=allow.list_entries(session=s, actor=admin)[0].id)
    with pytest.raises(outbound.AddressNotAllowed):
        fence.check("10.0.0.5", 443)
