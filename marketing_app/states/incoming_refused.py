"""The Incoming Users panel's "Not let in" part (issue 16): the customers the round's re-entry rule refused, the
reason for each one and the count per reason. Loaded with the panel (IncomingState._load); everything comes from
engine.services.incoming_refused, which enforces visibility."""

from typing import Any

import reflex as rx

from engine.services import incoming_refused as refused_service
from marketing_app.states.service import run

PAGE_SIZE = 20


def _row(r: refused_service.RefusedRow) -> dict[str, str]:
    return {"id": str(r.customer_id), "qaid": r.qaid, "name": r.name or "—", "code": r.code, "reason": r.reason,
            "day": r.refused_at.strftime("%Y-%m-%d"), "time": r.refused_at.strftime("%H:%M:%S"),
            "at": r.refused_at.strftime("%Y-%m-%d %H:%M:%S")}


class RefusedState(rx.State):
    record_id: int = 0
    window: str = "all"
    page: int = 1
    pages: int = 1
    total: int = 0
    counts: list[dict[str, str]] = []  # {code, label, count} per reason refused in the round
    rows: list[dict[str, str]] = []

    async def load(self, record_id: int, window: str, page: int | None = None) -> Any:
        """The page asked for (else the one shown, or the first for another round or window); returns a toast when
        the service refused (the panel's own load shows it)."""
        if page is None:
            page = self.page if (record_id, window) == (self.record_id, self.window) else 1
        self.record_id, self.window = record_id, window
        out = await run(self, lambda s, u: refused_service.refused_users(
            session=s, actor=u, record_id=record_id, window=window, page=page, page_size=PAGE_SIZE))
        if not out.ok or out.value is None:
            return out.problem()
        got = out.value
        self.rows = [_row(r) for r in got.rows]
        self.total, self.page, self.pages = got.total, got.page, got.pages
        self.counts = [{"code": code, "label": refused_service.LABELS[code], "count": str(n)}
                       for code, n in got.counts.items()]
        return None

    @rx.event
    async def go(self, page: int):
        if page < 1 or page > self.pages or page == self.page:
            return None
        return await self.load(self.record_id, self.window, page)
