"""Run an engine service for the signed-in user: off the event loop, in one session, refusals as messages.

Every page state calls services through `run`. The actor is resolved from the session cookie inside the same
session as the call (identity never comes from the client); `write=True` runs it in `write_session()`, so a
refused request rolls back and nothing changes; a refusal comes back as the service's own message, which the
page shows as is (a toast or an inline callout).
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import reflex as rx
from reflex.event import EventSpec
from sqlmodel import Session

from engine.db import read_session, write_session
from engine.errors import ServiceError
from engine.models import User
from engine.services import auth as auth_service
from marketing_app.routes import LOGIN_ROUTE
from marketing_app.states.auth import AuthState

T = TypeVar("T")
Call = Callable[[Session, User], T]


class _SignedOut(Exception):
    """The cookie no longer names a user (logged out elsewhere, expired)."""


@dataclass
class Outcome(Generic[T]):
    value: T | None = None
    error: str = ""  # the service's refusal, shown as is
    signed_out: bool = False

    @property
    def ok(self) -> bool:
        return not self.error and not self.signed_out

    def problem(self) -> EventSpec | None:
        """What the page does when the call did not succeed: back to the login, or a toast with the refusal."""
        if self.signed_out:
            return rx.redirect(LOGIN_ROUTE, replace=True)
        if self.error:
            return rx.toast.error(self.error)
        return None


def call_as(token: str, fn: Call[T], *, write: bool = False) -> T:
    """Synchronous core of `run` (also handy in a worker thread that makes several calls)."""
    with write_session() if write else read_session() as session:
        actor = auth_service.user_for_token(session=session, token=token) if token else None
        if actor is None:
            raise _SignedOut
        return fn(session, actor)


def _outcome(token: str, fn: Call[T], write: bool) -> Outcome[T]:
    try:
        return Outcome(value=call_as(token, fn, write=write))
    except _SignedOut:
        return Outcome(signed_out=True)
    except ServiceError as err:
        return Outcome(error=err.message)


def outcome_as(token: str, fn: Call[T], *, write: bool = False) -> Outcome[T]:
    """`run` without a state, for a background re-read that already holds the session token."""
    return _outcome(token, fn, write)


async def run(state: rx.State, fn: Call[T], *, write: bool = False) -> Outcome[T]:
    """Call `fn(session, actor)` for the user of `state`'s session cookie, in a worker thread."""
    auth = await state.get_state(AuthState)
    return await asyncio.to_thread(_outcome, auth.session_token, fn, write)


async def back_to_login(state: rx.State, refused: str) -> EventSpec | None:
    """The way to the login for a background read (a live page's follower) refused as signed out with the token
    `refused`, or None when the tab no longer holds that session. A follower keeps reading for a moment after
    its page is left: its refusal after a logout must not bounce the tab's next session (signed in since, a new
    token) back to the login, nor send a signed-out tab there again (the logout already did)."""
    async with state:
        current = (await state.get_state(AuthState)).session_token
    return rx.redirect(LOGIN_ROUTE, replace=True) if refused and current == refused else None


def events(*items: EventSpec | list[EventSpec] | None) -> list[EventSpec]:
    """The events a handler returns, without the Nones of steps that had nothing to say."""
    out: list[EventSpec] = []
    for item in items:
        if isinstance(item, list):
            out.extend(item)
        elif item is not None:
            out.append(item)
    return out
