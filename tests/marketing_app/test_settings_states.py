"""The Settings tabs' states without a browser (a real state tree, database and sign-in): a non-admin's load
shows the service's refusal; a new key and a generated password live in the state only until their dialog
closes; a refused creation stays in the dialog with the service's words."""

from sqlmodel import Session

from engine.db import write_session
from engine.models import Role
from engine.services import auth as auth_service
from marketing_app.states.settings import KeysSettingsState, UsersSettingsState, WorkspaceSettingsState
from tests import factories as f
from tests.marketing_app.test_canvas_states import _tab_as, run


def _login(username: str) -> str:
    with write_session() as s:
        return auth_service.login(session=s, username=username, password="pw")


def test_settings_states(session: Session, redis_url: str) -> None:
    ws = f.workspace(session)
    admin, marketer = f.user(session, ws, Role.ADMIN), f.user(session, ws, Role.MARKETER)
    session.commit()

    theirs = _tab_as(_login(marketer.username))
    for state in (UsersSettingsState, KeysSettingsState, WorkspaceSettingsState):
        tab = theirs[state]
        run(tab.load())
        assert tab.loaded and tab.refused.startswith("Only an admin")
    assert theirs[UsersSettingsState].rows == [] and theirs[KeysSettingsState].rows == []

    mine = _tab_as(_login(admin.username))
    keys = mine[KeysSettingsState]
    run(keys.load())
    assert keys.refused == "" and keys.rows == [] and keys.docs_url.endswith("/docs")
    run(keys.create({"name": ""}))
    assert keys.dialog_error.startswith("Name the key") and keys.new_key == ""
    run(keys.create({"name": "Shop"}))
    key = keys.new_key
    assert key.startswith("amk_") and keys.dialog_error == ""
    assert [(r["name"], r["prefix"]) for r in keys.rows] == [("Shop", key[:12] + "…")]
    assert key not in repr(keys.rows)
    keys.set_key_open(False)
    assert keys.new_key == "" and keys.new_key_name == ""

    users = mine[UsersSettingsState]
    run(users.load())
    assert [r["username"] for r in users.rows] == [admin.username, marketer.username]
    run(users.create({"username": marketer.username.upper(), "display_name": "", "role": "manager",
                      "password": ""}))
    assert "is taken" in users.dialog_error and users.shown_password == ""
    run(users.create({"username": "nora", "display_name": "Nora", "role": "reviewer", "password": ""}))
    assert len(users.shown_password) >= 12 and users.shown_for == "nora"
    assert {r["username"]: r["role"] for r in users.rows}["nora"] == "reviewer"
    users.set_password_open(False)
    assert users.shown_password == ""

    workspace = mine[WorkspaceSettingsState]
    run(workspace.load())
    before = workspace.version
    run(workspace.save({"name": "Renamed", "time_zone": "Nowhere/City", "cap": "5"}))
    assert "IANA" in workspace.error and workspace.name == ws.name
    run(workspace.save({"name": "Renamed", "time_zone": "Asia/Tokyo", "cap": "5"}))
    assert (workspace.error, workspace.name, workspace.time_zone, workspace.cap) == ("", "Renamed", "Asia/Tokyo",
                                                                                     "5")
    assert workspace.version > before
