"""The Dashboard page: what runs now and how its sends go, pushed while it is open.

`load` (on load) reads the dashboard once; the page mounts a `LiveFollow` (components/live_follow.py) that
starts `follow`, a background event sleeping on the process's Redis subscription (states/live.py) for a change
of ANY round, then re-reading (at most every 100 ms, never two reads at once). Leaving the page (or closing the
tab) ends it — nothing keeps running on the server for a page nobody looks at. A read runs
`engine.services.dashboard` for the signed-in user in a worker thread without holding the page's state, then
swaps in a snapshot of display strings (KPIs, one Plotly figure per channel, one row per In Progress activity),
so a click is never held up by a refresh.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import reflex as rx

from engine.clock import now
from engine.db import read_session
from engine.services import auth as auth_service
from engine.services.dashboard import ActivityPulse, Dashboard, dashboard
from marketing_app.routes import canvas_route
from marketing_app.states import live as live_pages
from marketing_app.states.auth import AuthState
from marketing_app.states.dashboard_charts import channel_figure
from marketing_app.states.service import back_to_login

ROUTE = "/dashboard"
EMPTY = "—"


@dataclass
class ChannelChart:
    """One channel's card: its figure and headline numbers (display strings)."""

    type: str = ""
    label: str = ""
    category: str = ""
    figure: dict[str, Any] = field(default_factory=dict)
    sends: str = "0"
    success_rate: str = EMPTY
    failed: str = "0"
    pending: str = "0"
    raw_sends: str = "0"  # unformatted, for data attributes (tests)


def snapshot(token: str) -> Dashboard | None:
    """The dashboard of the session's user; None when the token names nobody (signed out, expired)."""
    with read_session() as session:
        actor = auth_service.user_for_token(session=session, token=token) if token else None
        return dashboard(session=session, actor=actor) if actor is not None else None


def number(n: int) -> str:
    return f"{n:,}"


def rate(value: float | None) -> str:
    """92.4 %; a dash without sends; never rounds a partial success up to 100 %."""
    if value is None:
        return EMPTY
    shown = f"{value * 100:.1f}"
    return f"{'99.9' if shown == '100.0' and value < 1 else shown} %"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else EMPTY


def row(pulse: ActivityPulse) -> dict[str, str]:
    t = pulse.totals
    return {
        "id": str(pulse.id), "name": pulse.name, "owner": pulse.owner_name,
        "visibility": "Public" if pulse.is_public else "Private", "channels": ",".join(pulse.channels),
        "sends": number(t.sends), "success_rate": rate(t.success_rate), "failed": number(t.failed),
        "pending": number(t.pending), "not_sent": number(t.not_sent), "started": when(pulse.started_at),
        "raw_sends": str(t.sends), "raw_failed": str(t.failed), "href": canvas_route(pulse.id, mode="details"),
    }


class DashboardState(rx.State):
    loaded: bool = False
    in_progress: str = "0"
    sends: str = "0"
    success_rate: str = EMPTY
    failures: str = "0"
    pending: str = "0"
    not_sent: str = "0"
    raw_sends: str = "0"
    rows: list[dict[str, str]] = []
    charts: list[ChannelChart] = []
    updated_at: str = ""
    _busy: bool = False

    def _show(self, data: Dashboard) -> None:
        t = data.totals
        self.in_progress = number(data.in_progress)
        self.sends, self.raw_sends = number(t.sends), str(t.sends)
        self.success_rate, self.failures = rate(t.success_rate), number(t.failed)
        self.pending, self.not_sent = number(t.pending), number(t.not_sent)
        rows = [row(p) for p in data.activities]
        charts = [ChannelChart(type=c.type, label=c.label, category=c.category,
                               figure=channel_figure(c, data.hours), sends=number(c.totals.sends),
                               success_rate=rate(c.totals.success_rate), failed=number(c.totals.failed),
                               pending=number(c.totals.pending), raw_sends=str(c.totals.sends))
                  for c in data.channels]
        # only what changed goes to the page: an unchanged chart is not redrawn (a hover stays open)
        if rows != self.rows:
            self.rows = rows
        if charts != self.charts:
            self.charts = charts
        self.updated_at = now().strftime("%H:%M:%S UTC")
        self.loaded = True

    async def _read(self) -> str | None:
        """Read the dashboard now and show it; the session token the read was refused for when it names nobody
        (signed out meanwhile), else None."""
        async with self:
            if self._busy:
                return None
            self._busy = True
            token = (await self.get_state(AuthState)).session_token
        data: Dashboard | None = None
        try:
            data = await asyncio.to_thread(snapshot, token)
        finally:
            async with self:
                self._busy = False
                if data is not None:
                    self._show(data)
        return token if data is None else None

    @rx.event(background=True)
    async def load(self):
        """The page's first read (on load); then `follow` pushes the changes."""
        refused = await self._read()
        if refused is not None and (login := await back_to_login(self, refused)) is not None:
            yield login

    @rx.event(background=True)
    async def follow(self, follow_id: str):
        """Re-read after every change the engine announces, of any round (LiveFollow mounted)."""
        refused: str | None = None

        async def refresh(_changed: set[int] | None) -> float:
            nonlocal refused
            refused = await self._read()
            return 0 if refused is not None else live_pages.SAFETY_S

        await live_pages.follow(self, key="dashboard", follow_id=follow_id, records=None, refresh=refresh)
        if refused is not None and (login := await back_to_login(self, refused)) is not None:
            yield login

    @rx.event
    def unfollow(self, follow_id: str):
        live_pages.unfollow(self, "dashboard", follow_id)
