"""The action analysis panel of a component in an execution round, opened from the component's execution data
on the canvas (ExecutionState.open_data → `open_panel(record_id, node_id)`).

Everything comes from engine services, which enforce visibility: engine.services.analysis (numbers, charts'
data, customer details) and engine.services.crowds (Generate Crowd and its operation records). One snapshot
(the analysis, one page of details, the operations) is read per refresh in a worker thread.

Live: while the round is In Progress (or its sends await receipts), or a Generate Crowd operation runs, the
panel mounts a `LiveFollow` (components/live_follow.py) that starts `follow`, a background event sleeping on the
process's Redis subscription (states/live.py): after each change the engine announces for the round it reads
the snapshot without holding the state, then swaps in what changed (unchanged charts are not sent again). A
crowd's progress is not announced on `live:records`, so while one runs the panel also re-reads every
CROWD_REFRESH_S. Closing the panel or the round ending unmounts the follower: it ends with it.
"""

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import reflex as rx

from engine import crowd_actor
from engine.errors import ServiceError
from engine.services import analysis as svc
from engine.services import crowds, pacing
from marketing_app.states import analysis_charts as charts
from marketing_app.states import live as live_pages
from marketing_app.states.analysis_ab import AbAutoView, ab_auto_view
from marketing_app.states.auth import AuthState
from marketing_app.states.service import _SignedOut, call_as, run

CROWD_REFRESH_S = 1.0  # re-read while a crowd is generated (its progress is not announced by the engine)
NAME_MAX = 60
#: Radix colour of a chip per tone; branches take the palette in order
TONE_SCHEMES = {svc.SUCCESS: "green", svc.FAILED: "red", svc.PENDING: "amber", svc.NEUTRAL: "gray"}
BRANCH_SCHEMES = ["indigo", "teal", "violet", "cyan", "orange", "pink", "grass", "plum", "blue", "crimson"]
PERIODS: list[tuple[str, str]] = [(svc.LAST_5_MINUTES, "Last 5 Minutes"), (svc.TO_DATE, "To Date")]
SNAPSHOT_EVERY_S = 5.0  # a live panel re-reads charts and details at most this often; its numbers on every notice
NUMBERS = {"entered": "entered", "sent": "sent", "success": "success", "failed": "failed", "pending": "pending",
           "targets": "targets_achieved"}
KIND_NAMES = {svc.SEND: "Send results", svc.BRANCHES: "Branches", svc.AB: "AB test", svc.WAIT: "Wait",
              svc.TRIGGER: "Entries", svc.OTHER: "Results"}


@dataclass
class Chip:
    key: str = ""
    name: str = ""
    count: str = "0"
    raw: int = 0
    color: str = "gray"


@dataclass
class ChartView:
    id: str = ""
    title: str = ""
    figure: dict[str, Any] | None = None
    empty: str = ""
    total: int = 0
    wide: bool = False


@dataclass
class _Snapshot:
    analysis: svc.NodeAnalysis
    details: svc.DetailsPage
    operations: list[crowds.OperationRow]
    crowd_refusal: str
    pace: str = ""  # send window / rate limit: waiting, skipped, backlog and its expected finish


def _read(session: Any, actor: Any, record_id: int, node_id: str, label: str, period: str,
          page: int) -> _Snapshot:
    got = svc.node_analysis(session=session, actor=actor, record_id=record_id, node_id=node_id)
    if label and label not in {chip.key for chip in got.labels}:
        label = ""
    details = svc.customer_details(session=session, actor=actor, record_id=record_id, node_id=node_id,
                                   label=label, period=period, page=page)
    operations = crowds.list_operations(session=session, actor=actor, record_id=record_id, node_id=node_id) \
        if got.can_generate_crowd else []
    pace = pacing.analysis_line(session=session, workspace_id=actor.workspace_id, is_send=got.kind == svc.SEND,
                                metrics=got.metrics, record_id=record_id, node_id=node_id)
    return _Snapshot(analysis=got, details=details, operations=operations, crowd_refusal=crowds.crowd_refusal(actor),
                     pace=pace)


def _chips(labels: list[svc.Label]) -> list[Chip]:
    out, branch = [], 0
    for label in labels:
        if label.tone == svc.BRANCH:
            color = BRANCH_SCHEMES[branch % len(BRANCH_SCHEMES)]
            branch += 1
        else:
            color = TONE_SCHEMES.get(label.tone, "gray")
        out.append(Chip(key=label.key, name=label.name, count=f"{label.count:,}", raw=label.count, color=color))
    return out


def _row(r: svc.DetailRow, names: dict[tuple[str, str], str], colors: dict[tuple[str, str], str],
         kind: str) -> dict[str, str]:
    by_branch = kind in (svc.BRANCHES, svc.AB) and r.result != "failed"
    key = ("branch", r.branch) if by_branch else ("result", r.result)
    return {"customer": str(r.customer_id), "qaid": r.qaid, "name": r.name or "—",
            "result": r.result, "label": names.get(key, r.result.title()), "color": colors.get(key, "gray"),
            "reason": r.reason, "at": r.at.strftime("%Y-%m-%d %H:%M:%S")}


def _operation(o: crowds.OperationRow) -> dict[str, str]:
    return {"id": str(o.id), "when": o.created_at.strftime("%Y-%m-%d %H:%M"), "who": o.who, "result": o.result_label,
            "name": o.name, "status": o.status, "count": f"{o.count:,}" if o.status == "done" else f"{o.requested:,}",
            "reason": o.reason, "progress": str(round(100 * o.progress))}


class AnalysisState(rx.State):
    open: bool = False
    record_id: int = 0
    node_id: str = ""
    loaded: bool = False
    error: str = ""

    # ---- header
    title: str = ""
    node_type: str = ""
    category: str = ""
    kind: str = ""
    kind_name: str = ""
    activity_name: str = ""
    round_label: str = ""
    record_status: str = ""
    live: bool = False  # the round is In Progress, or its sends here still await receipts: numbers move
    live_label: str = ""
    updated_at: str = ""
    failure: str = ""
    pace: str = ""  # the touch's pacing line (views/analysis_pacing.py)
    metrics: dict[str, int] = {}
    #: headline numbers as text, every key always present (entered, sent, success, failed, pending, targets)
    numbers: dict[str, str] = {}

    # ---- result labels (filter the details), period, charts
    chips: list[Chip] = []
    selected: str = ""  # a chip's key, "" = every customer
    period: str = svc.TO_DATE
    chart_list: list[ChartView] = []
    ab_winner: str = ""
    ab_auto: AbAutoView = AbAutoView()  # the automatic winner's section (states/analysis_ab.py)

    # ---- customer details
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    details_state: str = ""
    details_note: str = ""

    # ---- Generate Crowd
    can_crowd: bool = False
    crowd_refusal: str = ""  # why this user may not generate crowds ("" = may)
    crowd_open: bool = False
    crowd_result: str = "success"
    crowd_name: str = ""
    crowd_error: str = ""
    crowd_busy: bool = False
    history_open: bool = False
    operations: list[dict[str, str]] = []
    running: bool = False  # an operation of this component is being generated
    progress: int = 0  # its progress in percent

    _gen: int = 0  # bumped by every open / filter change: a refresh computed for an older view is dropped
    _snapshot_at: float = 0.0  # when a live refresh last read the whole snapshot (time.monotonic)

    # ------------------------------------------------------------------------------------------- derived

    @rx.var
    def follow_key(self) -> str:
        """What LiveFollow watches: the panel's round and component while it shows a live round or a running
        operation ("" = nothing moves: no follower)."""
        live = self.open and self.loaded and (self.live or self.running)
        return f"{self.record_id}:{self.node_id}:{'crowd' if self.running else 'round'}" if live else ""

    @rx.var
    def crowd_choices(self) -> list[Chip]:
        """The results a crowd can be made of (a send's chips), with their counts."""
        return [c for c in self.chips if c.key.startswith("result:")] if self.can_crowd else []

    @rx.var
    def crowd_name_count(self) -> str:
        return f"{len(self.crowd_name)}/{NAME_MAX}"

    # ------------------------------------------------------------------------------------------- applying

    def _apply(self, snap: _Snapshot) -> None:
        a, d = snap.analysis, snap.details
        self.title, self.node_type, self.category, self.kind = a.component_label, str(a.node.get("type")), \
            a.category, a.kind
        self.kind_name = KIND_NAMES.get(a.kind, "Results")
        self.activity_name = a.activity_name
        self.round_label = f"Round #{a.record_number} · V{a.version_number} · {a.record_status_label}"
        self.record_status, self.live = a.record_status, a.live or a.awaiting_receipts
        self.live_label = "Live" if a.live else "Awaiting receipts"
        self.failure = a.failure
        self.pace = snap.pace
        self.updated_at = datetime.now().strftime("%H:%M:%S")
        metrics = {k: int(v) for k, v in a.metrics.items()}
        if metrics != self.metrics or not self.numbers:
            self._show_numbers(metrics)
        chips = _chips(a.labels)
        if chips != self.chips:
            self.chips = chips
        views = [ChartView(id=c.id, title=c.title, figure=c.figure or None, empty=c.empty, total=c.total,
                           wide=c.wide) for c in charts.charts(a)]
        if views != self.chart_list:  # an unchanged chart is not sent (nor redrawn) again
            self.chart_list = views
        self.ab_winner = next((g.name for g in a.ab.groups if g.branch == a.ab.winner), "") if a.ab else ""
        self.ab_auto = ab_auto_view(a.ab)
        names = {(label.column, label.value): label.name for label in a.labels}
        colors = {(label.column, label.value): chip.color for label, chip in zip(a.labels, chips, strict=True)}
        rows = [_row(r, names, colors, a.kind) for r in d.rows]
        if rows != self.rows:
            self.rows = rows
        self.total, self.page, self.pages = d.total, d.page, d.pages
        self.selected = d.label
        self.details_state = d.state if d.state != svc.DETAILS_OK else a.details_state
        self.details_note = d.note or a.details_note
        self.can_crowd, self.crowd_refusal = a.can_generate_crowd, snap.crowd_refusal
        operations = [_operation(o) for o in snap.operations]
        if operations != self.operations:
            self.operations = operations
        running = [o for o in snap.operations if o.status == "running"]
        self.running = bool(running)
        self.progress = round(100 * running[0].progress) if running else 0
        self.loaded, self.error = True, ""

    def _show_numbers(self, metrics: dict[str, int]) -> None:
        self.metrics = metrics
        self.numbers = {k: str(metrics.get(m, 0)) for k, m in NUMBERS.items()}

    async def _reload(self) -> Any:
        """Read the snapshot now (user actions: open, a chip, the period, a page, after Generate Crowd)."""
        self._gen += 1
        rid, nid, label, period, page = self.record_id, self.node_id, self.selected, self.period, self.page
        out = await run(self, lambda s, u: _read(s, u, rid, nid, label, period, page))
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.error = out.error or "This component's analysis is not available."
            self.loaded = True
            return None
        self._apply(out.value)
        return None

    # ------------------------------------------------------------------------------------------- events

    @rx.event
    async def open_panel(self, record_id: int, node_id: str):
        """Open the panel on component `node_id` of round `record_id` (the canvas's execution data)."""
        gen = self._gen
        self.reset()
        self._gen = gen + 1  # a refresh of the previous component still in flight is dropped
        self.record_id, self.node_id, self.open = int(record_id), str(node_id), True
        yield
        problem = await self._reload()
        if problem is not None:
            yield problem

    @rx.event
    def close_panel(self):
        self.open, self.crowd_open, self.history_open = False, False, False
        self._gen += 1

    @rx.event(background=True)
    async def follow(self, follow_id: str):
        """Push the panel's numbers while it shows a live round (LiveFollow mounted)."""
        async with self:
            record = self.record_id if self.follow_key else 0
            safety = CROWD_REFRESH_S if self.running else live_pages.SAFETY_S
        if record:
            await live_pages.follow(self, key="analysis", follow_id=follow_id, records={record},
                                    refresh=self._refresh, safety_s=safety)

    @rx.event
    def unfollow(self, follow_id: str):
        live_pages.unfollow(self, "analysis", follow_id)

    async def _refresh(self, _changed: set[int] | None = None) -> float:
        """Re-read outside the state lock: the headline numbers at once on every notice (one atomic counter
        read, a small delta the browser applies at once), the whole snapshot — charts, details, operations,
        whose drawing is what a browser pays most for — at most every SNAPSHOT_EVERY_S (and always after the
        notices stop: the follower's settling re-read). Returns the next re-read without a notice, or 0 to stop."""
        async with self:
            if not self.follow_key:
                return 0
            token = (await self.get_state(AuthState)).session_token
            gen, rid, nid, key = self._gen, self.record_id, self.node_id, self.follow_key
            label, period, page = self.selected, self.period, self.page
            numbers_only = _changed is not None and time.monotonic() - self._snapshot_at < SNAPSHOT_EVERY_S
            if not numbers_only:
                self._snapshot_at = time.monotonic()
        if numbers_only:
            try:
                metrics = await asyncio.to_thread(call_as, token, lambda s, u: svc.node_counters(
                    session=s, actor=u, record_id=rid, node_id=nid))
            except (_SignedOut, ServiceError):
                return 0
            async with self:
                if self.follow_key == key and gen == self._gen and metrics != self.metrics:
                    self._show_numbers(metrics)
            return live_pages.SETTLE_S  # the full snapshot follows once the notices pause
        snap: _Snapshot | None = None
        try:
            snap = await asyncio.to_thread(call_as, token, lambda s, u: _read(s, u, rid, nid, label, period, page))
        except (_SignedOut, ServiceError):
            pass  # signed out, or no longer visible: stop following
        async with self:
            if self.follow_key != key:
                return 0  # closed, or another component: its own follower runs
            if snap is None:
                self.live = self.running = False
                return 0
            if gen == self._gen:  # else the view changed meanwhile: its own reload shows it
                self._apply(snap)
            if self.follow_key != key:
                return 0  # nothing live any more, or the crowd finished: LiveFollow restarts what is needed
            return CROWD_REFRESH_S if self.running else live_pages.SAFETY_S

    @rx.event
    async def select_label(self, key: str):
        """A result chip: filter the details by it; clicking the chosen one again shows everyone."""
        self.selected = "" if key == self.selected else key
        self.page = 1
        return await self._reload()

    @rx.event
    async def set_period(self, value: str | list[str]):
        self.period = value if isinstance(value, str) else (value[0] if value else svc.TO_DATE)
        self.page = 1
        return await self._reload()

    @rx.event
    async def go(self, page: int):
        self.page = max(1, int(page))
        return await self._reload()

    @rx.event
    def toggle_history(self):
        self.history_open = not self.history_open

    @rx.event
    def set_history_open(self, value: bool):
        self.history_open = value

    # ------------------------------------------------------------------------------------------- Generate Crowd

    @rx.event
    def open_crowd(self):
        choice = next((c for c in self.crowd_choices if c.raw > 0), None)
        self.crowd_result = (choice.key if choice else "result:success").partition(":")[2]
        self.crowd_name = self._default_name()
        self.crowd_error, self.crowd_open = "", True

    def _default_name(self) -> str:
        chosen = next((c.name for c in self.chips if c.key == f"result:{self.crowd_result}"), "")
        base = f"{self.activity_name} · {self.title} · {chosen}".strip(" ·")
        return base if len(base) <= NAME_MAX else base[: NAME_MAX - 1].rstrip() + "…"

    @rx.event
    def set_crowd_open(self, value: bool):
        self.crowd_open = value

    @rx.event
    def set_crowd_result(self, value: str):
        was_default = self.crowd_name == self._default_name()
        self.crowd_result = value
        if was_default:
            self.crowd_name = self._default_name()

    @rx.event
    def set_crowd_name(self, value: str):
        self.crowd_name = value
        self.crowd_error = ""

    @rx.event
    async def generate_crowd(self):
        """Accept the request (checked by the service, in its transaction), hand it to the workers, show it."""
        if self.crowd_busy:
            return None
        self.crowd_busy = True
        rid, nid, result, name = self.record_id, self.node_id, self.crowd_result, self.crowd_name
        out = await run(self, lambda s, u: crowds.request_crowd(session=s, actor=u, record_id=rid, node_id=nid,
                                                                result=result, name=name), write=True)
        self.crowd_busy = False
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.crowd_error = out.error or "The crowd could not be generated."
            return None
        operation_id = int(out.value.id)  # type: ignore[arg-type]
        queued = await asyncio.to_thread(_enqueue, operation_id)
        self.crowd_open, self.history_open = False, True
        await self._reload()
        if queued:
            return rx.toast.error(queued)
        return rx.toast.success(f"Generating the crowd “{out.value.name}”: see its progress in the operation "
                                "records.")


def _enqueue(operation_id: int) -> str:
    """Hand the operation to the Generate Crowd actor; "" or why it could not be queued (then recorded failed)."""
    try:
        crowd_actor.enqueue(operation_id)
    except Exception as err:  # noqa: BLE001 — the operation was marked failed with the reason
        return f"The crowd could not be queued: {err}"
    return ""
