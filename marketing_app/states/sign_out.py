"""Logout: ends the session and forgets what the last user saw, so the next login in this tab never glimpses it.

Its own module above the page states (AuthState sits below them: they all read its token), so resetting them
imports nothing in a circle.
"""

import reflex as rx

from marketing_app.routes import LOGIN_ROUTE
from marketing_app.states.activities import ActivitiesState
from marketing_app.states.auth import AuthState
from marketing_app.states.canvas import CanvasState
from marketing_app.states.canvas_header import CanvasHeaderState
from marketing_app.states.canvas_panel import CanvasPanelState
from marketing_app.states.canvas_template import CanvasTemplateState
from marketing_app.states.canvas_versions import CanvasVersionsState
from marketing_app.states.create import NewActivityState
from marketing_app.states.drawers import RecordsState, VersionsState
from marketing_app.states.groups import GroupTreeState

#: the states holding what a page showed its user
PAGE_STATES: tuple[type[rx.State], ...] = (
    ActivitiesState, GroupTreeState, NewActivityState, VersionsState, RecordsState, CanvasState, CanvasHeaderState,
    CanvasVersionsState, CanvasTemplateState, CanvasPanelState)


class SignOutState(rx.State):
    @rx.event
    async def logout(self):
        await (await self.get_state(AuthState)).sign_out()
        for page_state in PAGE_STATES:
            (await self.get_state(page_state)).reset()
        return rx.redirect(LOGIN_ROUTE, replace=True)
