"""The Settings → Channels page state without a browser (a real state tree, database and sign-in): the form's
data arrives keyed by the inputs' ids, switches as booleans; a typed secret goes to the service and never into a
state var; a marketer's tab holds only the refusal."""

import json

from sqlmodel import Session

from engine.channels import config as channel_config
from engine.db import write_session
from engine.models import Role
from engine.services import auth as auth_service
from marketing_app.states.settings_channels import ChannelSettingsState
from tests import factories as f
from tests.marketing_app.test_canvas_states import _tab_as, run

SECRET = "typed-pw-3e9a41"


def _login(username: str) -> str:
    with write_session() as s:
        return auth_service.login(session=s, username=username, password="pw")


def test_the_form_saves_by_input_ids_and_keeps_no_secret(session: Session, redis_url: str) -> None:
    ws = f.workspace(session)
    admin, marketer = f.user(session, ws, Role.ADMIN), f.user(session, ws, Role.MARKETER)
    session.commit()
    page = _tab_as(_login(admin.username))[ChannelSettingsState]
    run(page.load())
    assert page.refused == "" and page.secret_states["smtp_password"] == "not set"
    assert page.values["smtp_starttls"] == "false" and page.sources["smtp_host"] == "environment"
    run(page.save({"group": "email", "field_smtp_username": "mailer", "field_smtp_password": SECRET,
                   "field_smtp_starttls": True, "field_smtp_ssl": False, "field_email_from": "Shop <s@shop.example>"}))
    assert page.errors["email"] == ""
    assert page.secret_states["smtp_password"] == "set" and page.values["smtp_starttls"] == "true"
    assert (page.values["smtp_username"], page.sources["smtp_username"]) == ("mailer", "workspace")
    settings = channel_config.channel_settings(ws.id)
    assert (settings.smtp_password, settings.smtp_starttls, settings.smtp_ssl) == (SECRET, True, False)
    assert SECRET not in json.dumps(page.dict(), default=str)
    run(page.save({"group": "email", "field_smtp_port": "0"}))
    assert page.errors["email"] == "SMTP port: between 1 and 65535."

    refused = _tab_as(_login(marketer.username))[ChannelSettingsState]
    run(refused.load())
    assert refused.refused.startswith("Only an admin") and refused.values == {} and refused.allow_rows == []
