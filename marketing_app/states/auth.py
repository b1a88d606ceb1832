"""Who is logged in: a random session token in a cookie, resolved to a User on the server for every event.

The browser only holds the token; display name and role are copies for the shell and never used to decide
anything. Other states read `session_token` (await self.get_state(AuthState)) and call `current_user` in the
same worker thread as their service call, so the actor is always a fresh User from the database.
"""

import asyncio

import reflex as rx

from engine.db import read_session, write_session
from engine.errors import ServiceError
from engine.models import User
from engine.services import auth as auth_service
from engine.settings import get_settings

LOGIN_ROUTE = "/login"
HOME_ROUTE = "/"
COOKIE_NAME = "am_session"


def current_user(token: str) -> User | None:
    """The User behind a session token, or None (unknown, expired or logged-out token)."""
    if not token:
        return None
    with read_session() as session:
        return auth_service.user_for_token(session=session, token=token)


def _login(username: str, password: str) -> str:
    with write_session() as session:
        return auth_service.login(session=session, username=username, password=password)


def _logout(token: str) -> None:
    with write_session() as session:
        auth_service.logout(session=session, token=token)


class AuthState(rx.State):
    session_token: str = rx.Cookie(
        "", name=COOKIE_NAME, max_age=get_settings().session_days * 86400, same_site="strict"
    )
    display_name: str = ""
    role: str = ""
    login_error: str = ""
    logging_in: bool = False

    def _show(self, user: User | None) -> None:
        self.display_name = user.display_name if user else ""
        self.role = str(user.role) if user else ""

    async def _actor(self) -> User | None:
        """The logged-in User, loaded from the database now (one indexed lookup, off the event loop)."""
        return await asyncio.to_thread(current_user, self.session_token)

    @rx.var
    def role_label(self) -> str:
        return self.role.replace("_", " ").title()

    @rx.event
    async def require_login(self):
        """on_load guard of every page behind the login."""
        user = await self._actor()
        self._show(user)
        if user is None:
            return rx.redirect(LOGIN_ROUTE, replace=True)
        return None

    @rx.event
    async def skip_login_if_signed_in(self):
        """on_load of /login: a valid session goes straight to the console."""
        self.login_error = ""
        user = await self._actor()
        self._show(user)
        if user is not None:
            return rx.redirect(HOME_ROUTE, replace=True)
        return None

    @rx.event
    async def login(self, form_data: dict[str, str]):
        username = (form_data.get("username") or "").strip()
        password = form_data.get("password") or ""
        if not username or not password:
            self.login_error = "Enter your username and password."
            return
        self.logging_in = True
        yield
        try:
            token = await asyncio.to_thread(_login, username, password)  # bcrypt: keep the event loop free
        except ServiceError as err:
            self.login_error = err.message
            return
        finally:
            self.logging_in = False
        self.login_error = ""
        self.session_token = token
        self._show(await self._actor())
        yield rx.redirect(HOME_ROUTE, replace=True)

    @rx.event
    async def logout(self):
        if self.session_token:
            await asyncio.to_thread(_logout, self.session_token)
        self.session_token = ""
        self._show(None)
        # Forget what the last user saw, so the next login in this tab never glimpses it.
        from marketing_app.states.activities import ActivitiesState  # imported here: they import this module
        from marketing_app.states.canvas import CanvasState
        from marketing_app.states.create import NewActivityState
        from marketing_app.states.drawers import RecordsState, VersionsState
        from marketing_app.states.groups import GroupTreeState

        for page_state in (ActivitiesState, GroupTreeState, NewActivityState, VersionsState, RecordsState,
                           CanvasState):
            (await self.get_state(page_state)).reset()
        return rx.redirect(LOGIN_ROUTE, replace=True)
