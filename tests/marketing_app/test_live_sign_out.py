"""A live page's follower keeps reading for a moment after its page is left. When its read is refused (the session
was signed out meanwhile) it sends the tab to the login only while the tab still holds that session: a follower
of the page left by a logout must not bounce the session signed in since back to the login."""

import reflex as rx
from sqlmodel import Session

from engine.db import write_session
from engine.models import Role
from engine.services import auth as auth_service
from marketing_app.states.dashboard import DashboardState
from marketing_app.states.reach import ReachState
from marketing_app.states.service import back_to_login
from tests import factories as f
from tests.marketing_app.tabs import Tab
from tests.sync_run import run_sync


def _login(username: str) -> str:
    with write_session() as s:
        return auth_service.login(session=s, username=username, password="pw")


def _logout(token: str) -> None:
    with write_session() as s:
        auth_service.logout(session=s, token=token)


def _goes_to_login(event: object) -> bool:
    return isinstance(event, rx.event.EventSpec) and "/login" in str(event)


def test_a_refused_read_redirects_only_the_session_it_was_refused_for(session: Session, redis_url: str) -> None:
    ws = f.workspace(session)
    first, second = f.user(session, ws, Role.MARKETER), f.user(session, ws, Role.MARKETER)
    session.commit()
    tab = Tab()
    old = _login(first.username)
    tab.sign_in(old)
    reach, dashboard = tab[ReachState], tab[DashboardState]
    reach.channel = "sms"
    assert run_sync(reach._reread()) is None and reach.loaded  # signed in: read and shown
    assert run_sync(dashboard._read()) is None and dashboard.loaded

    _logout(old)  # signed out elsewhere (another tab, an admin): the tab still holds the token
    assert run_sync(reach._reread()) == old and run_sync(dashboard._read()) == old
    assert _goes_to_login(run_sync(back_to_login(reach, old)))  # still this tab's session: to the login

    tab.sign_in("")  # this tab's own logout (which already went to the login): not again
    assert run_sync(back_to_login(reach, old)) is None
    assert run_sync(back_to_login(reach, "")) is None

    tab.sign_in(_login(second.username))  # signed in again since: a refusal of the old session bounces nobody
    assert run_sync(back_to_login(reach, old)) is None and run_sync(back_to_login(dashboard, old)) is None
    assert run_sync(reach._reread()) is None and run_sync(dashboard._read()) is None
