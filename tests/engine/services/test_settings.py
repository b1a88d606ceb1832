"""Settings (issue 15, admins): users (roles, the last active admin, deactivation ends sign-in), named API keys
(shown once, hashed, revoked, last use recorded at most once a minute) and the workspace's name, time zone and
in-progress cap."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from engine import clock, db
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import ApiKey, AuthSession, Role, User, Workspace
from engine.services import api_keys, auth, users, workspace_settings
from engine.status import ActivityStatus
from tests import factories as f

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def now() -> Iterator[list[datetime]]:
    """A test clock: `now[0] += ...` moves it."""
    moment = [T0]
    clock.set_clock(lambda: moment[0])
    yield moment
    clock.set_clock(None)


@pytest.fixture
def admin(session: Session) -> User:
    return f.user(session, f.workspace(session), Role.ADMIN, name="boss")


# ---------------------------------------------------------------- users


@pytest.mark.parametrize("role", [Role.MARKETER, Role.MANAGER, Role.REVIEWER])
def test_only_admins_manage_users_keys_and_the_workspace(session: Session, admin: User, role: Role) -> None:
    other = f.user(session, session.get(Workspace, admin.workspace_id), role)
    calls = [
        lambda: users.list_users(session=session, actor=other),
        lambda: users.create_user(session=session, actor=other, username="x", display_name="", role="admin"),
        lambda: users.change_role(session=session, actor=other, user_id=other.id, role="admin"),
        lambda: users.set_active(session=session, actor=other, user_id=admin.id, active=False),
        lambda: users.reset_password(session=session, actor=other, user_id=admin.id),
        lambda: api_keys.list_api_keys(session=session, actor=other),
        lambda: api_keys.create_api_key(session=session, actor=other, name="k"),
        lambda: workspace_settings.workspace_settings(session=session, actor=other),
        lambda: workspace_settings.save_workspace(session=session, actor=other, name="n", time_zone="UTC",
                                                  in_progress_cap=5),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    assert session.get(User, other.id).role == role  # nothing changed


def test_create_a_user_with_each_role_and_a_typed_or_generated_password(session: Session, admin: User) -> None:
    made = users.create_user(session=session, actor=admin, username="rita", display_name="Rita Reviewer",
                             role="reviewer", password="a good long secret")
    assert made.password == "" and made.user.role == Role.REVIEWER and made.user.active
    stored = session.get(User, made.user.id)
    assert auth.verify_password("a good long secret", stored.password_hash)
    shown = users.create_user(session=session, actor=admin, username="mark", display_name="", role=Role.MARKETER)
    assert len(shown.password) >= users.PASSWORD_MIN and shown.user.display_name == "mark"
    assert auth.verify_password(shown.password, session.get(User, shown.user.id).password_hash)
    assert shown.password not in session.get(User, shown.user.id).password_hash
    listed = users.list_users(session=session, actor=admin)
    assert [(u.username, u.role, u.is_self) for u in listed] == [
        ("boss", Role.ADMIN, True), ("mark", Role.MARKETER, False), ("rita", Role.REVIEWER, False)]


@pytest.mark.parametrize("username, display_name, role, password, error", [
    ("", "", "marketer", "", Invalid),
    ("a" * 41, "", "marketer", "", Invalid),
    ("two words", "", "marketer", "", Invalid),
    ("ok", "n" * 61, "marketer", "", Invalid),
    ("ok", "", "owner", "", Invalid),
    ("ok", "", "marketer", "short", Invalid),
    ("BOSS", "", "marketer", "", Conflict),  # logins are unique whatever their case
])
def test_create_user_limits(session: Session, admin: User, username: str, display_name: str, role: str,
                            password: str, error: type[Exception]) -> None:
    with pytest.raises(error) as err:
        users.create_user(session=session, actor=admin, username=username, display_name=display_name, role=role,
                          password=password)
    assert str(err.value)
    assert len(users.list_users(session=session, actor=admin)) == 1


def test_the_last_active_admin_is_never_demoted_or_deactivated(session: Session, admin: User) -> None:
    with pytest.raises(Conflict, match="last active admin"):
        users.change_role(session=session, actor=admin, user_id=admin.id, role="marketer")
    second = users.create_user(session=session, actor=admin, username="ada", display_name="Ada", role="admin").user
    users.change_role(session=session, actor=admin, user_id=admin.id, role="marketer")  # another admin remains
    ada = session.get(User, second.id)
    with pytest.raises(Conflict, match="last active admin"):
        users.change_role(session=session, actor=ada, user_id=ada.id, role="manager")
    with pytest.raises(Conflict, match="your own account"):
        users.set_active(session=session, actor=ada, user_id=ada.id, active=False)
    users.change_role(session=session, actor=ada, user_id=admin.id, role="admin")
    users.set_active(session=session, actor=admin, user_id=ada.id, active=False)
    with pytest.raises(Conflict, match="last active admin"):  # the deactivated admin does not count
        users.change_role(session=session, actor=admin, user_id=admin.id, role="marketer")
    users.set_active(session=session, actor=admin, user_id=ada.id, active=True)
    assert session.get(User, ada.id).active


def test_a_user_of_another_workspace_is_not_found(session: Session, admin: User) -> None:
    stranger = f.user(session, f.workspace(session), Role.MARKETER)
    with pytest.raises(NotFound):
        users.change_role(session=session, actor=admin, user_id=stranger.id, role="manager")
    assert [u.username for u in users.list_users(session=session, actor=admin)] == ["boss"]


def test_deactivation_ends_sessions_and_refuses_sign_in_until_reactivated(
        session: Session, admin: User, redis_url: str) -> None:
    made = users.create_user(session=session, actor=admin, username="max", display_name="Max", role="marketer")
    token = auth.login(session=session, username="max", password=made.password)
    assert session.get(User, made.user.id).last_login_at is not None  # recorded for the list
    assert auth.user_for_token(session=session, token=token).id == made.user.id
    users.set_active(session=session, actor=admin, user_id=made.user.id, active=False)
    assert auth.user_for_token(session=session, token=token) is None
    assert session.exec(select(AuthSession).where(AuthSession.user_id == made.user.id)).all() == []
    with pytest.raises(Invalid, match="deactivated"):
        auth.login(session=session, username="max", password=made.password)
    with pytest.raises(Invalid, match="Wrong username or password"):  # a wrong password learns nothing more
        auth.login(session=session, username="max", password="not the password")
    users.set_active(session=session, actor=admin, user_id=made.user.id, active=True)
    assert auth.user_for_token(session=session, token=auth.login(session=session, username="max",
                                                                 password=made.password)) is not None


def test_reset_password_ends_the_users_sessions(session: Session, admin: User, redis_url: str) -> None:
    made = users.create_user(session=session, actor=admin, username="mia", display_name="", role="manager")
    token = auth.login(session=session, username="mia", password=made.password)
    with pytest.raises(Invalid):
        users.reset_password(session=session, actor=admin, user_id=made.user.id, password="mia-is-my-password")
    new = users.reset_password(session=session, actor=admin, user_id=made.user.id)
    assert new.password and new.password != made.password
    assert auth.user_for_token(session=session, token=token) is None
    with pytest.raises(Invalid):
        auth.login(session=session, username="mia", password=made.password)
    auth.login(session=session, username="mia", password=new.password)


# ---------------------------------------------------------------- API keys


def test_a_key_is_shown_once_hashed_named_and_revocable(session: Session, admin: User) -> None:
    created = api_keys.create_api_key(session=session, actor=admin, name=" CRM sync ")
    assert created.key.startswith("amk_") and len(created.key) > 40 and created.name == "CRM sync"
    row = session.get(ApiKey, created.id)
    assert row.key_hash == api_keys.hash_key(created.key) and created.key not in row.key_hash
    assert created.key.startswith(row.prefix) and len(row.prefix) == api_keys.PREFIX_SHOWN
    [listed] = api_keys.list_api_keys(session=session, actor=admin)
    assert (listed.name, listed.prefix, listed.created_by, listed.revoked_at) == ("CRM sync", row.prefix, "Boss",
                                                                                  None)
    assert created.key not in repr(listed)  # the list never carries the key
    other = api_keys.create_api_key(session=session, actor=admin, name="Shop")
    assert api_keys.workspace_for_key(session=session, key=created.key) == admin.workspace_id
    assert api_keys.workspace_for_key(session=session, key=other.key) == admin.workspace_id
    revoked = api_keys.revoke_api_key(session=session, actor=admin, key_id=created.id)
    assert revoked.revoked_at is not None
    assert api_keys.workspace_for_key(session=session, key=created.key) is None
    assert api_keys.workspace_for_key(session=session, key=other.key) == admin.workspace_id  # the others work
    with pytest.raises(Conflict):
        api_keys.revoke_api_key(session=session, actor=admin, key_id=created.id)
    assert [k.name for k in api_keys.list_api_keys(session=session, actor=admin)] == ["Shop", "CRM sync"]
    again = api_keys.create_api_key(session=session, actor=admin, name="crm SYNC")  # a revoked key's name is free
    assert again.key != created.key


@pytest.mark.parametrize("name", ["", "   ", "n" * 61, "Shop", "SHOP"])
def test_key_names_are_checked(session: Session, admin: User, name: str) -> None:
    api_keys.create_api_key(session=session, actor=admin, name="Shop")
    with pytest.raises((Invalid, Conflict)):
        api_keys.create_api_key(session=session, actor=admin, name=name)
    assert len(api_keys.list_api_keys(session=session, actor=admin)) == 1


def test_another_workspaces_key_cannot_be_revoked(session: Session, admin: User) -> None:
    foreign = f.user(session, f.workspace(session), Role.ADMIN)
    key = api_keys.create_api_key(session=session, actor=foreign, name="Theirs")
    with pytest.raises(NotFound):
        api_keys.revoke_api_key(session=session, actor=admin, key_id=key.id)
    assert api_keys.workspace_for_key(session=session, key=key.key) == foreign.workspace_id


def test_last_use_is_recorded_at_most_once_a_minute(database: str, now: list[datetime]) -> None:
    with db.write_session() as s:
        owner = f.user(s, f.workspace(s), Role.ADMIN)
        key = api_keys.create_api_key(session=s, actor=owner, name="Events")

    def last_used() -> datetime | None:
        with db.read_session() as s:
            return s.get(ApiKey, key.id).last_used_at

    def use() -> int | None:  # as the API looks keys up: in a read session
        with db.read_session() as s:
            return api_keys.workspace_for_key(session=s, key=key.key)

    assert last_used() is None
    assert use() == owner.workspace_id
    assert last_used() == T0
    now[0] = T0 + timedelta(seconds=30)
    use()
    assert last_used() == T0  # within the minute: not written again
    now[0] = T0 + timedelta(seconds=61)
    use()
    assert last_used() == T0 + timedelta(seconds=61)


def test_set_api_key_installs_a_chosen_key_once(session: Session, admin: User) -> None:
    assert not api_keys.has_api_key(session=session, workspace_id=admin.workspace_id)
    with pytest.raises(Invalid):
        api_keys.set_api_key(session=session, workspace_id=admin.workspace_id, key="too-short")
    for _ in range(2):
        api_keys.set_api_key(session=session, workspace_id=admin.workspace_id, key="amk_chosen_0123456789abcdef")
    [row] = api_keys.list_api_keys(session=session, actor=admin)
    assert row.prefix == "amk_chosen_0" and api_keys.has_api_key(session=session, workspace_id=admin.workspace_id)


# ---------------------------------------------------------------- workspace


def test_workspace_settings_are_validated_and_saved_together(session: Session, admin: User) -> None:
    view = workspace_settings.workspace_settings(session=session, actor=admin)
    assert (view.time_zone, view.in_progress_cap, view.in_progress_now) == ("UTC", 100, 0)
    assert view.api_docs_url == "http://127.0.0.1:8100/docs"
    f.activity(session, admin, status=ActivityStatus.IN_PROGRESS)
    saved = workspace_settings.save_workspace(session=session, actor=admin, name=" Retail EU ",
                                              time_zone="Europe/Paris", in_progress_cap="7")
    assert (saved.name, saved.time_zone, saved.in_progress_cap, saved.in_progress_now) == (
        "Retail EU", "Europe/Paris", 7, 1)
    f.workspace(session)  # another workspace, whose name is taken below
    taken = session.exec(select(Workspace).where(Workspace.id != admin.workspace_id)).first().name
    for name, zone, cap in [("", "UTC", 5), ("n" * 61, "UTC", 5), (taken.upper(), "UTC", 5),
                            ("Retail", "Mars/Olympus", 5), ("Retail", "", 5), ("Retail", "UTC", "0"),
                            ("Retail", "UTC", "1001"), ("Retail", "UTC", "ten"), ("Retail", "UTC", "-3")]:
        with pytest.raises((Invalid, Conflict)) as err:
            workspace_settings.save_workspace(session=session, actor=admin, name=name, time_zone=zone,
                                              in_progress_cap=cap)
        assert str(err.value)
    ws = session.get(Workspace, admin.workspace_id)
    assert (ws.name, ws.time_zone, ws.in_progress_cap) == ("Retail EU", "Europe/Paris", 7)  # nothing half-saved
