"""Who is logged in: a random session token in a cookie, resolved to a User on the server for every event.

The browser only holds the token; display name and role are copies for the shell and never used to decide
anything. Other states read `session_token` (await self.get_state(AuthState)) and call `current_user` in the
same worker thread as their service call, so the actor is always a fresh User from the database.

The cookie is `Secure` when the page is served over HTTPS. Reflex (0.10) sets cookies from the browser with
options fixed when the app is compiled, so there are two: `__Secure-am_session` (Secure; browsers refuse it on
plain HTTP) is the one written when the sign-in event arrived over HTTPS, `am_session` otherwise; the other is
emptied. Sign-in failures are throttled per username and per client address by the auth service.
"""

import asyncio
from collections.abc import Mapping

import redis
import reflex as rx

from engine.db import read_session, write_session
from engine.errors import ServiceError
from engine.models import User
from engine.services import auth as auth_service
from engine.services.local_time import workspace_time_zone
from engine.settings import get_settings
from marketing_app.routes import HOME_ROUTE, LOGIN_ROUTE

COOKIE_NAME = "am_session"
SECURE_COOKIE_NAME = "__Secure-am_session"
UNAVAILABLE = "Sign-in is unavailable right now (the engine's Redis cannot be reached). Try again shortly."


def served_over_https(headers: Mapping[str, str], page_url: str = "") -> bool:
    """Whether the browser reached us over HTTPS: a TLS-terminating proxy's X-Forwarded-Proto (first hop), or the
    scheme of the page's Origin (sent by the browser with the websocket handshake) or URL. A client claiming
    HTTPS falsely only gets a Secure cookie its browser will not keep on plain HTTP."""
    lowered = {k.lower(): v for k, v in headers.items()}
    proto = lowered.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    origin = lowered.get("origin", "").lower()
    return proto == "https" or origin.startswith("https://") or page_url.lower().startswith("https://")


def current_user(token: str) -> User | None:
    """The User behind a session token, or None (unknown, expired or logged-out token)."""
    if not token:
        return None
    with read_session() as session:
        return auth_service.user_for_token(session=session, token=token)


def _time_zone(user: User) -> str:
    with read_session() as session:
        return workspace_time_zone(session=session, actor=user)


def _login(username: str, password: str, address: str) -> str:
    with write_session() as session:
        return auth_service.login(session=session, username=username, password=password, address=address)


def _logout(token: str) -> None:
    with write_session() as session:
        auth_service.logout(session=session, token=token)


def _cookie(name: str, *, secure: bool) -> rx.Cookie:
    return rx.Cookie("", name=name, max_age=get_settings().session_days * 86400, same_site="strict",
                     secure=secure)


class AuthState(rx.State):
    plain_token: str = _cookie(COOKIE_NAME, secure=False)
    secure_token: str = _cookie(SECURE_COOKIE_NAME, secure=True)
    display_name: str = ""
    role: str = ""
    login_error: str = ""
    logging_in: bool = False
    #: the workspace's IANA time zone: date-time inputs are typed in it (engine/services/local_time.py)
    time_zone: str = "UTC"

    @property
    def session_token(self) -> str:
        """The signed-in token, from whichever cookie holds it."""
        return self.secure_token or self.plain_token

    def _set_token(self, token: str, *, https: bool) -> None:
        self.secure_token, self.plain_token = (token, "") if https else ("", token)

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
        self.time_zone = await asyncio.to_thread(_time_zone, user)
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
        address = self.router.session.client_ip  # X-Forwarded-For only through rxconfig's trusted_proxy_hops
        try:  # bcrypt: keep the event loop free
            token = await asyncio.to_thread(_login, username, password, address)
        except ServiceError as err:
            self.login_error = err.message
            return
        except redis.RedisError:
            self.login_error = UNAVAILABLE
            return
        finally:
            self.logging_in = False
        self.login_error = ""
        self._set_token(token, https=served_over_https(self.router.headers.raw_headers, str(self.router.url)))
        self._show(await self._actor())
        yield rx.redirect(HOME_ROUTE, replace=True)

    async def sign_out(self) -> None:
        """End the session (SignOutState.logout also forgets what the pages showed)."""
        if self.session_token:
            await asyncio.to_thread(_logout, self.session_token)
        self._set_token("", https=False)
        self._show(None)
