"""The activity list: status counts, one page of rows, the status filter and paging.

Only the current page (as plain string dicts) lives in state, so each event sends a small delta. The actor is
re-read from the session cookie in the same worker thread as the query: identity never comes from the client.
"""

import asyncio
from dataclasses import dataclass

import reflex as rx

from engine.db import read_session
from engine.services.listing import ListQuery, list_activities, status_counts
from engine.status import ActivityStatus
from marketing_app.states.auth import LOGIN_ROUTE, AuthState, current_user
from marketing_app.states.rows import row_to_dict

PAGE_SIZE = 20


@dataclass
class _Loaded:
    rows: list[dict[str, str]]
    counts: dict[str, int]
    total: int
    page: int
    pages: int


def _load(token: str, query: ListQuery) -> _Loaded | None:
    """None when the token no longer names a user (logged out elsewhere, expired)."""
    user = current_user(token)
    if user is None:
        return None
    with read_session() as session:
        found = list_activities(session=session, actor=user, query=query)
        counts = status_counts(session=session, actor=user)
    pages = max(1, -(-found.total // found.page_size))
    return _Loaded([row_to_dict(r) for r in found.rows], counts, found.total, found.page, pages)


class ActivitiesState(rx.State):
    rows: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    status: str = ""  # "" = all; else a status value or "finished"
    page: int = 1
    pages: int = 1
    total: int = 0
    loaded: bool = False

    @rx.var
    def finished_hint(self) -> str:
        """Finished counts both ends; the tooltip splits them."""
        return (
            f"{ActivityStatus.COMPLETED.label} {self.counts.get('finished_normal', 0)} · "
            f"{ActivityStatus.ABNORMAL_END.label} {self.counts.get('abnormal_end', 0)}"
        )

    async def _refresh(self):
        auth = await self.get_state(AuthState)
        query = ListQuery(status=self.status or None, page=self.page, page_size=PAGE_SIZE)
        loaded = await asyncio.to_thread(_load, auth.session_token, query)
        if loaded is None:
            return rx.redirect(LOGIN_ROUTE, replace=True)
        self.rows, self.counts, self.total = loaded.rows, loaded.counts, loaded.total
        self.page, self.pages = loaded.page, loaded.pages
        self.loaded = True
        return None

    @rx.event
    async def load(self):
        return await self._refresh()

    @rx.event
    async def filter_status(self, status: str):
        self.status = "" if status == self.status else status
        self.page = 1
        return await self._refresh()

    @rx.event
    async def next_page(self):
        if self.page < self.pages:
            self.page += 1
            return await self._refresh()
        return None

    @rx.event
    async def prev_page(self):
        if self.page > 1:
            self.page -= 1
            return await self._refresh()
        return None
