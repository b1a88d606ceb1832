"""A browser tab's states without a browser: the state tests drive handlers on them directly."""

from typing import TypeVar

import reflex as rx

from marketing_app.states.auth import AuthState

S = TypeVar("S", bound=rx.State)


class Tab:
    """One browser tab's states: the root state with every substate, as Reflex's in-memory manager makes it."""

    def __init__(self) -> None:
        self.root = rx.State(_reflex_internal_init=True)

    def __getitem__(self, cls: type[S]) -> S:
        return self.root.get_substate(cls._get_substate_path())  # type: ignore[return-value]

    def sign_in(self, token: str) -> None:
        """What a login leaves in the tab: the session token its service calls use."""
        self[AuthState]._set_token(token, https=False)
