"""The Incoming Users panel of a round (opened from a trigger's execution data): who entered, when, and what
became of them; Last 5 Minutes / To Date; pages. Clicking a row draws that customer's route green on the
canvas (`route`, which the canvas page passes to the React Flow component). Everything comes from
engine.services.incoming, which enforces visibility."""

from typing import Any

import reflex as rx

from engine.services import incoming as incoming_service
from marketing_app.states.incoming_refused import RefusedState
from marketing_app.states.service import run

PAGE_SIZE = 20
#: (filter key, label) of the time filter, as the engine names the windows
WINDOWS: list[tuple[str, str]] = [("5m", "Last 5 Minutes"), ("all", "To Date")]
STATUS_LABELS = {incoming_service.SUCCESS: "Success", incoming_service.FAILURE: "Failure",
                 incoming_service.IN_FLOW: "In the flow"}


def _row(r: incoming_service.IncomingRow) -> dict[str, str]:
    return {"id": str(r.customer_id), "qaid": r.qaid, "name": r.name or "—",
            "entered_at": r.entered_at.strftime("%Y-%m-%d %H:%M:%S"), "entered_day": r.entered_at.strftime("%Y-%m-%d"),
            "entered_time": r.entered_at.strftime("%H:%M:%S"), "status": r.status,
            "status_label": STATUS_LABELS.get(r.status, r.status), "reason": r.reason, "node": r.node_id}


class IncomingState(rx.State):
    open: bool = False
    record_id: int = 0
    record_number: int = 0
    trigger: str = ""  # the trigger component, as "Target Audience (t)"
    window: str = "all"
    page: int = 1
    pages: int = 1
    total: int = 0
    rows: list[dict[str, str]] = []
    expired: bool = False
    retention_days: int = 7
    selected: str = ""  # the customer whose route is drawn
    loading: bool = False
    route: dict[str, Any] = {"nodes": [], "edges": [], "qaid": ""}  # the selected customer's route, drawn green

    async def _load(self) -> Any:
        rid, window, page = self.record_id, self.window, self.page
        out = await run(self, lambda s, u: incoming_service.incoming_users(
            session=s, actor=u, record_id=rid, window=window, page=page, page_size=PAGE_SIZE))
        if not out.ok or out.value is None:
            return out.problem()
        got = out.value
        self.rows = [_row(r) for r in got.rows]
        self.total, self.page, self.pages, self.expired = got.total, got.page, got.pages, got.expired
        self.retention_days, self.record_number = got.retention_days, got.record_number
        return await (await self.get_state(RefusedState)).load(rid, window)  # issue 16: who was not let in

    async def open_for(self, record_id: int, trigger: str) -> Any:
        """Open on a round (ExecutionState.open_data); returns a toast when the service refused."""
        self.record_id, self.trigger, self.window, self.page, self.selected = record_id, trigger, "all", 1, ""
        problem = await self._load()
        if problem is None:
            self.open = True
        self.clear_route_quietly()
        return problem

    def close_quietly(self) -> None:
        """Closed by the canvas (another component's data, another canvas): the route goes too."""
        self.open, self.selected = False, ""
        self.clear_route_quietly()

    def clear_route_quietly(self) -> None:
        if self.route.get("nodes"):
            self.route = {"nodes": [], "edges": [], "qaid": ""}

    @rx.event
    def close(self):
        self.close_quietly()

    @rx.event
    async def set_window(self, value: str | list[str]):
        window = value if isinstance(value, str) else (value[0] if value else "all")
        if window == self.window:
            return None
        self.window, self.page = window, 1
        return await self._load()

    @rx.event
    async def go(self, page: int):
        if page < 1 or page > self.pages or page == self.page:
            return None
        self.page = page
        return await self._load()

    @rx.event
    async def refresh(self):
        return await self._load()

    @rx.event
    async def pick(self, customer_id: str):
        """Draw this customer's route (a second click on the same row clears it)."""
        if customer_id == self.selected:
            self.selected = ""
            self.clear_route_quietly()
            return None
        rid, cid = self.record_id, int(customer_id)
        out = await run(self, lambda s, u: incoming_service.customer_route(session=s, actor=u, record_id=rid,
                                                                           customer_id=cid))
        if not out.ok or out.value is None:
            return out.problem()
        self.selected = customer_id
        self.route = {"nodes": out.value.nodes, "edges": out.value.edges, "qaid": out.value.qaid}
        return None

