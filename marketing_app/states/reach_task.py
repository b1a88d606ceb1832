"""A reach task's details page (`/reach/<channel>/<task id>`): counts with Refresh, the numbers sent (last four
digits only), Preview, and Generate Audience (engine.services.reach_details; the audience is built by Generate
Crowd's worker). While an audience is being generated the page re-reads every second: a crowd's progress is
kept in Redis and not announced, as the analysis panel does."""

import asyncio

import reflex as rx

from engine import crowd_actor
from engine.clock import now
from engine.services import reach_details
from engine.services.crowds import OperationRow
from engine.services.reach_details import AUDIENCE_RESULTS, TaskDetails
from engine.services.reach_tasks import CHANNELS
from marketing_app.routes import segment
from marketing_app.states.activities import canvas_route
from marketing_app.states.service import run

ALL = "all"
PROGRESS_S = 1.0  # re-read period while an audience is generated
RESULT_CHOICES: list[tuple[str, str]] = [(ALL, "All results"), *AUDIENCE_RESULTS.items()]
#: a row's result → badge colour
RESULT_COLORS = {"success": "green", "failed": "red", "pending": "amber"}


def _enqueue(operation_id: int) -> str:
    """Hand the operation to Generate Crowd's actor; "" or why it could not be queued (then recorded failed)."""
    try:
        crowd_actor.enqueue(operation_id)
    except Exception as err:  # noqa: BLE001 — the operation was marked failed with the reason
        return f"The audience could not be queued: {err}"
    return ""


def _when(d) -> str:  # noqa: ANN001 — a datetime
    return d.strftime("%Y-%m-%d %H:%M:%S UTC") if d else ""


def _operation(o: OperationRow) -> dict[str, str]:
    return {"id": str(o.id), "name": o.name, "result": o.result_label, "status": o.status, "who": o.who,
            "when": _when(o.created_at), "count": f"{o.count:,}" if o.status == "done" else f"{o.requested:,}",
            "reason": o.reason, "progress": str(round(o.progress * 100))}


class ReachTaskState(rx.State):
    channel: str = "sms"
    channel_label: str = "SMS"
    task_id: str = ""
    name: str = ""
    activity_href: str = ""
    status: str = ""
    status_label: str = ""
    status_reason: str = ""
    content: str = ""
    preview: str = ""
    segments: str = ""
    sent_at: str = ""
    expires_at: str = ""
    expired: bool = False
    note: str = ""
    counts: dict[str, str] = {}
    rows: list[dict[str, str]] = []
    result: str = ALL
    total: int = 0
    page: int = 1
    pages: int = 1
    refusal: str = ""
    operations: list[dict[str, str]] = []
    error: str = ""
    loaded: bool = False
    refreshed_at: str = ""
    preview_open: bool = False
    audience_open: bool = False
    audience_result: str = "success"
    audience_name: str = ""
    audience_error: str = ""
    busy: bool = False
    _polling: bool = False

    @rx.var
    def generating(self) -> bool:
        return any(o["status"] == "running" for o in self.operations)

    def _show(self, d: TaskDetails) -> None:
        t = d.task
        self.name, self.status, self.status_label, self.status_reason = t.name, t.status, t.status_label, \
            t.status_reason
        self.activity_href = canvas_route(t.activity_id, mode="details", record=t.record_id)
        self.content, self.preview = t.content, d.preview
        self.segments = f"{d.segments} SMS segment{'s' if d.segments != 1 else ''}" if d.segments else ""
        self.sent_at, self.expires_at, self.expired, self.note = _when(d.sent_at), _when(d.expires_at), d.expired, \
            d.note
        self.counts = {"included": f"{d.included:,}", "success": f"{d.success:,}", "failed": f"{d.failed:,}",
                       "pending": f"{d.no_feedback:,}", "not_sent": f"{d.not_sent:,}" if d.not_sent else ""}
        self.rows = [{"number": r.number, "at": _when(r.at), "result": r.result, "result_label": r.result_label,
                      "reason": r.reason} for r in d.rows]
        self.total, self.page, self.pages = d.total, d.page, d.pages
        self.refusal = d.audience_refusal
        self.operations = [_operation(o) for o in d.operations]
        self.error, self.loaded = "", True
        self.refreshed_at = now().strftime("%H:%M:%S UTC")

    async def _reload(self):
        channel, task_id, page = self.channel, self.task_id, self.page
        result = "" if self.result == ALL else self.result
        out = await run(self, lambda s, u: reach_details.task_details(session=s, actor=u, channel=channel,
                                                                      task_id=task_id, result=result, page=page))
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.error, self.loaded = out.error or "Task not found.", True
            return None
        self._show(out.value)
        if self.generating and not self._polling:
            return ReachTaskState.poll
        return None

    @rx.event
    async def load(self):
        path = self.router.url.path  # /reach/<channel>/<task id>
        channel, task_id = segment(path, 1) or "sms", segment(path, 2)
        self.reset()
        self.channel, self.task_id = channel, task_id
        self.channel_label = CHANNELS[channel].label if channel in CHANNELS else channel
        return await self._reload()

    @rx.event
    async def refresh(self):
        return await self._reload()

    @rx.event
    async def set_result(self, value: str):
        self.result, self.page = value if value in AUDIENCE_RESULTS else ALL, 1
        return await self._reload()

    @rx.event
    async def next_page(self):
        if self.page < self.pages:
            self.page += 1
            return await self._reload()
        return None

    @rx.event
    async def prev_page(self):
        if self.page > 1:
            self.page -= 1
            return await self._reload()
        return None

    @rx.event
    def set_preview_open(self, value: bool):
        self.preview_open = value

    @rx.event
    def open_audience(self):
        self.audience_result = "success"
        self.audience_name = f"{self.name} · {AUDIENCE_RESULTS['success']}"[:60]
        self.audience_error, self.audience_open = "", True

    @rx.event
    def set_audience_open(self, value: bool):
        self.audience_open = value

    @rx.event
    def set_audience_result(self, value: str):
        if value not in AUDIENCE_RESULTS:
            return
        was_default = self.audience_name == f"{self.name} · {AUDIENCE_RESULTS[self.audience_result]}"[:60]
        self.audience_result = value
        if was_default:
            self.audience_name = f"{self.name} · {AUDIENCE_RESULTS[value]}"[:60]
        self.audience_error = ""

    @rx.event
    def set_audience_name(self, value: str):
        self.audience_name, self.audience_error = value, ""

    @rx.event
    async def generate(self):
        """Accept the request (the service checks it in its transaction), hand it to the workers, show it."""
        if self.busy:
            return None
        self.busy = True
        channel, task_id, result, name = self.channel, self.task_id, self.audience_result, self.audience_name
        out = await run(self, lambda s, u: reach_details.generate_audience(
            session=s, actor=u, channel=channel, task_id=task_id, result=result, name=name), write=True)
        self.busy = False
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.audience_error = out.error or "The audience could not be generated."
            return None
        queued = await asyncio.to_thread(_enqueue, int(out.value.id))  # type: ignore[arg-type]
        self.audience_open = False
        follow = await self._reload()
        toast = rx.toast.error(queued) if queued else rx.toast.success(
            f"Generating the audience “{out.value.name}”: its progress is shown below.")
        return [toast, follow] if follow is not None else toast

    @rx.event(background=True)
    async def poll(self):
        """Re-read while an audience is being generated (its progress is not pushed)."""
        async with self:
            if self._polling:
                return
            self._polling = True
        try:
            while True:
                await asyncio.sleep(PROGRESS_S)
                async with self:
                    if not self.loaded or self.error:
                        return
                    await self._reload()
                    if not self.generating:
                        return
        finally:
            async with self:
                self._polling = False
