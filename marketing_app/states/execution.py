"""Execution data on the canvas: the numbers of the round shown on top of each component, kept live.

CanvasState.load decides which version and round the canvas shows (engine.services.execution.execution_view)
and hands the view to `ExecutionState.show`. While the round is In Progress (or its sends await receipts) the
page mounts a `LiveFollow` (components/live_follow.py) that starts `follow`, a background event sleeping on the
process's Redis subscription (states/live.py): when the engine announces a change of the round, it reads the
view in a worker thread without holding the page's state, then swaps the numbers in, so clicks stay responsive.
It ends when the round no longer moves (the follower unmounts with it) or the user leaves the page.

Clicking a component's data: a trigger opens the Incoming Users panel (IncomingState); any other component the
action analysis panel (AnalysisState.open_panel).
"""

import asyncio
from datetime import datetime
from typing import Any

import reflex as rx

from engine.errors import ServiceError
from engine.services import pacing
from engine.services.execution import ExecutionView, NodeExecution, execution_view
from marketing_app.states import live as live_pages
from marketing_app.states.analysis import AnalysisState
from marketing_app.states.auth import AuthState
from marketing_app.states.execution_incoming import IncomingState
from marketing_app.states.service import _SignedOut, call_as

#: label and colour of each value the engine returns (keys of NodeExecution.values)
LABELS: dict[str, tuple[str, str]] = {
    "met": ("Met", "teal"), "entered": ("Entered", "gray"), "failed": ("Failed", "red"),
    "success": ("Succeeded", "green"), "pending": ("No receipt", "amber"), "sent": ("Sent", "blue"),
    "winner": ("Winner", "violet"),
    "targets": ("Targets", "green"), "inflows": ("Inflows", "gray"), "reached": ("Reached", "gray"),
    "opted_out": ("Opted out", "gray"),
    "capped": ("Capped", "orange"),
    "exited": ("Exited", "purple"), "held_out": ("Held out", "gray"),
}
#: what the tooltip says each value is (the seed's words)
MEANINGS: dict[str, str] = {
    "met": "met the condition and flowed out", "entered": "entered the component", "failed": "failed sends",
    "success": "successful sends", "pending": "sent, no receipt yet (failed after 72 hours without one)",
    "sent": "actually sent", "winner": "winning group",
    "targets": "targets achieved, all groups", "inflows": "inflows, all groups", "reached": "reached the end",
    "opted_out": "opted out of the channel (not sent)",
    "capped": "capped by a frequency cap (not sent, went on)",
    "exited": "left the flow here by an exit criterion (goal or exit event, or attribute condition)",
    "held_out": "held out of every touch (the holdout group, tracked for the goal)",
}


def _number(n: int) -> str:
    return f"{n:,}"


def _title(node: NodeExecution) -> str:
    parts = []
    for key, value in node.values:
        shown = (node.winner or "none yet") if key == "winner" else _number(value)
        parts.append(f"{shown} {MEANINGS[key]}")
    extra = node.extra
    if extra.get("not_sent"):
        parts.append(f"{_number(extra['not_sent'])} not sent (no address)")
    if extra.get("waiting"):
        parts.append(f"{_number(extra['waiting'])} waiting")
    parts += pacing.card_notes(extra)  # send windows, rate limits
    if extra.get("stopped"):
        parts.append(f"{_number(extra['stopped'])} stopped (the round was stopped before they went on)")
    hint = "Click for the Incoming Users." if node.trigger else "Click for the action analysis."
    return " · ".join(parts) + ". " + hint


def display(node: NodeExecution) -> dict[str, Any]:
    """One component's execution data as the canvas JSX draws it: items in the seed's order, raw numbers as
    data attributes (data-entered, data-failed, ...) for tests and benchmarks."""
    items = []
    for key, value in node.values:
        label, tone = LABELS[key]
        shown = (node.winner or "—") if key == "winner" else _number(value)
        zero = value == 0 and key != "winner"
        items.append({"key": key, "label": label, "value": shown, "tone": "zero" if zero else tone})
    attrs = {key: value for key, value in node.values} | dict(node.extra)
    return {"kind": node.kind, "trigger": node.trigger, "items": items, "attrs": attrs, "title": _title(node)}


def record_label(view: ExecutionView) -> str:
    if view.record_id is None:
        return ""
    ran = view.record_version_number
    on = f" · ran V{ran}" if ran is not None and ran != view.version_number else ""
    return f"Round #{view.record_number} · {view.record_status_label}{on}"


class ExecutionState(rx.State):
    activity_id: int = 0
    record_id: int = 0  # the round shown (0: none)
    shown: bool = False  # the canvas shows execution data (read-only, with a round)
    never_ran: bool = False  # read-only without a round: the configuration only
    live: bool = False  # the round is In Progress
    follow_key: str = ""  # the record followed while its numbers can move ("": none); LiveFollow's `watch`
    record_label: str = ""
    record_status: str = ""
    updated_at: str = ""
    data: dict[str, dict[str, Any]] = {}  # node id → display(...)
    triggers: list[str] = []
    labels: dict[str, str] = {}  # node id → "Behaviour Event (t)", for the panels' titles

    _record_query: int | None = None
    _version_query: int | None = None
    def show(self, view: ExecutionView | None, *, record_query: int | None, version_query: int | None,
             labels: dict[str, str] | None = None) -> None:
        """Set by CanvasState.load: `view` is None on an editable canvas (no execution data while editing)."""
        self.reset()
        self._record_query, self._version_query = record_query, version_query
        if view is None:
            return
        self.activity_id = view.activity_id
        self.labels = dict(labels or {})
        self.never_ran = view.record_id is None
        self._apply(view)

    def _apply(self, view: ExecutionView) -> None:
        self.record_id = view.record_id or 0
        self.shown = view.record_id is not None
        self.live = view.live
        self.follow_key = str(view.record_id) if view.record_id and (view.live or view.awaiting_receipts) else ""
        self.record_label = record_label(view)
        self.record_status = view.record_status
        self.updated_at = datetime.now().strftime("%H:%M:%S")
        data = {nid: display(node) for nid, node in view.nodes.items()}
        if data != self.data:  # unchanged numbers are not sent (nor re-rendered) again
            self.data = data
        self.triggers = [nid for nid, node in view.nodes.items() if node.trigger]

    @rx.event(background=True)
    async def follow(self, follow_id: str):
        """Push the round's numbers while the page shows it live (LiveFollow mounted)."""
        async with self:
            record = int(self.follow_key or 0)
        if record:
            await live_pages.follow(self, key="execution", follow_id=follow_id, records={record},
                                    refresh=self._refresh)

    @rx.event
    def unfollow(self, follow_id: str):
        live_pages.unfollow(self, "execution", follow_id)

    async def _refresh(self, _changed: set[int] | None = None) -> float:
        """Re-read the view outside the state lock; the next safety re-read, or 0 once nothing is live."""
        async with self:
            if not self.follow_key or not self.activity_id:
                return 0
            token = (await self.get_state(AuthState)).session_token
            aid, record, version, key = self.activity_id, self._record_query, self._version_query, self.follow_key
        try:
            view = await asyncio.to_thread(call_as, token, lambda s, u: execution_view(
                session=s, actor=u, activity_id=aid, record_id=record, version_id=version))
        except (_SignedOut, ServiceError):
            view = None  # signed out or no longer visible: stop following
        async with self:
            if self.activity_id != aid or self.follow_key != key:
                return 0  # another activity or round was opened meanwhile: its own follower runs
            if view is None:
                self.follow_key = ""
                return 0
            self._apply(view)
            return live_pages.SAFETY_S if self.follow_key == key else 0

    @rx.event
    async def open_data(self, node_id: str):
        """A component's execution data was clicked."""
        if not self.record_id or node_id not in self.data:
            return None
        incoming = await self.get_state(IncomingState)
        if node_id in self.triggers:
            problem = await incoming.open_for(self.record_id, self.labels.get(node_id, node_id))
            return [AnalysisState.close_panel, problem] if problem is not None else AnalysisState.close_panel
        incoming.close_quietly()
        return AnalysisState.open_panel(self.record_id, node_id)

