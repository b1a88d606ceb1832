"""The right-hand drawers of an activity: Manage Versions and Execution Records.

Both hold one activity's short lists (versions, records) while open. Their buttons call engine.services.versions
and engine.services.records; enabled/disabled and the tooltips come from the engine (version_refusal, the record
rules and the role rules), and a refusal is a toast with nothing changed.

While a round in the Execution Records list runs (or a re-run waits), the drawer follows it by push
(states/live.py): it wakes on every record announced on `live:records` and reloads when the record is one of its
rows or a newer round of its activity (a re-run that started); other activities' records are looked up once.
"""

import asyncio
from dataclasses import dataclass

import reflex as rx
from sqlmodel import Session, col, select

from engine.db import read_session
from engine.errors import ServiceError
from engine.models import Activity, ExecutionRecord, User
from engine.permissions import role_refusal
from engine.services import records as record_service
from engine.services import versions as version_service
from engine.services.activities import get_activity
from engine.status import RECORD_RULES, Action, ActivityStatus, RecordAction, RecordStatus
from marketing_app.routes import canvas_route
from marketing_app.states import live as live_pages
from marketing_app.states.activities import ActivitiesState
from marketing_app.states.auth import AuthState
from marketing_app.states.rows import format_time
from marketing_app.states.service import _SignedOut, call_as, events, run

#: (filter key, label) of the Execution Records status filter; "" is all
RECORD_FILTERS: list[tuple[str, str]] = [("", "All")] + [(s.value, s.label) for s in RecordStatus]


@dataclass
class _Head:
    name: str
    status: str
    status_label: str
    rows: list[dict[str, str]]


def _head(activity: Activity, rows: list[dict[str, str]]) -> _Head:
    return _Head(activity.name, str(activity.status), ActivityStatus(activity.status).label, rows)


def _versions(session, actor: User, activity_id: int) -> _Head:
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    rows = []
    for v in version_service.list_versions(session=session, actor=actor, activity_id=activity_id):
        rows.append({
            "id": str(v.id), "number": f"V{v.number}", "status_label": v.status_label,
            "state": str(v.state), "author": v.author_name, "created_at": format_time(v.created_at),
            "published_at": format_time(v.published_at), "live": "1" if v.is_live else "",
            "current": "1" if v.is_current else "",
            "deny_stop": version_service.version_refusal(actor=actor, activity=activity, row=v,
                                                          action=Action.STOP) or "",
            "deny_start": version_service.version_refusal(actor=actor, activity=activity, row=v,
                                                           action=Action.START) or "",
            "deny_copy": role_refusal(actor, activity, Action.COPY) or "",
        })
    return _head(activity, rows)


def _record_refusal(actor: User, activity: Activity, r: record_service.RecordRow, action: RecordAction) -> str:
    role = role_refusal(actor, activity, Action.STOP if action == RecordAction.STOP else Action.RERUN)
    if role:
        return role
    if action == RecordAction.STOP:
        return "" if r.can_stop else f"{RECORD_RULES[action][2]} (status: {r.status_label})"
    return r.rerun_refusal


def _records(session, actor: User, activity_id: int, status: str) -> _Head:
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    rows = [
        {
            "id": str(r.id), "number": f"#{r.number}", "version": f"V{r.version_number}", "status": r.status,
            "status_label": r.status_label, "role": r.role, "role_label": r.role_label,
            "trigger": r.trigger.replace("_", " ").capitalize(),
            "started_at": format_time(r.started_at), "ended_at": format_time(r.ended_at),
            "failure": r.failure_reason or "", "pending": "1" if r.rerun_pending else "",
            "deny_stop": _record_refusal(actor, activity, r, RecordAction.STOP),
            "deny_rerun": _record_refusal(actor, activity, r, RecordAction.RERUN),
        }
        for r in record_service.list_records(session=session, actor=actor, activity_id=activity_id,
                                             status=status or None)
    ]
    return _head(activity, rows)


def _activities_of(record_ids: set[int]) -> dict[int, int]:
    """record id → activity id (the drawer tells its own rounds from other activities' notices)."""
    with read_session() as session:
        return _owners(session, record_ids)


def _owners(session: Session, record_ids: set[int]) -> dict[int, int]:
    rows = session.exec(select(ExecutionRecord.id, ExecutionRecord.activity_id).where(
        col(ExecutionRecord.id).in_(sorted(record_ids)))).all()
    return {int(r): int(a) for r, a in rows}


async def _list_changed(state: rx.State, *, tree: bool = False):
    """The list under the drawer shows the new status (when the page has loaded a list)."""
    listing = await state.get_state(ActivitiesState)
    return await listing._refresh(tree=tree) if listing.loaded else None


class VersionsState(rx.State):
    open: bool = False
    activity_id: int = 0
    activity_name: str = ""
    status: str = ""
    status_label: str = ""
    rows: list[dict[str, str]] = []

    async def _load(self):
        aid = self.activity_id
        out = await run(self, lambda s, u: _versions(s, u, aid))
        if not out.ok or out.value is None:
            return out.problem()
        head = out.value
        self.activity_name, self.status, self.status_label, self.rows = (
            head.name, head.status, head.status_label, head.rows)
        return None

    @rx.event
    async def open_for(self, activity_id: str):
        self.activity_id, self.rows, self.activity_name = int(activity_id), [], ""
        problem = await self._load()
        if problem is None:
            self.open = True
        return problem

    @rx.event
    def set_open(self, is_open: bool):
        self.open = is_open

    @rx.event
    def view(self, version_id: str):
        self.open = False
        return rx.redirect(canvas_route(self.activity_id, version=version_id))

    @rx.event
    async def copy(self, version_id: str):
        vid = int(version_id)
        out = await run(self, lambda s, u: version_service.copy_version(session=s, actor=u, version_id=vid).id,
                        write=True)
        if not out.ok:
            return out.problem()
        self.open = False
        return [rx.toast.success(f"Copied “{self.activity_name}”: the copy opens on the canvas."),
                rx.redirect(canvas_route(out.value, mode="edit"))]

    async def _act(self, version_id: str, fn, verb: str):
        vid = int(version_id)
        out = await run(self, lambda s, u: ActivityStatus(fn(session=s, actor=u, version_id=vid).status).label,
                        write=True)
        if not out.ok:
            return out.problem()
        number = next((r["number"] for r in self.rows if r["id"] == version_id), "")
        return events(rx.toast.success(f"{verb} “{self.activity_name}” on {number}: now {out.value}."),
                      await self._load(), await _list_changed(self))

    @rx.event
    async def stop(self, version_id: str):
        return await self._act(version_id, version_service.stop_version, "Stopped")

    @rx.event
    async def start(self, version_id: str):
        return await self._act(version_id, version_service.start_version, "Started")


class RecordsState(rx.State):
    open: bool = False
    activity_id: int = 0
    activity_name: str = ""
    activity_status: str = ""
    status_label: str = ""
    status: str = ""  # record status filter, "" = all
    rows: list[dict[str, str]] = []
    confirm_id: str = ""  # the record whose Stop waits for confirmation

    @rx.var
    def running(self) -> bool:
        """A round in the list is In Progress (or a re-run is queued): the drawer follows it."""
        return any(r["status"] == RecordStatus.IN_PROGRESS or r["pending"] for r in self.rows)

    @rx.var
    def follow_key(self) -> str:
        """LiveFollow's `watch` while the open drawer lists a running round ("" = no follower)."""
        return str(self.activity_id) if self.open and self.running else ""

    @rx.event(background=True)
    async def follow(self, follow_id: str):
        """Reload the rows when one of them changes or a new round of the activity starts (LiveFollow)."""
        foreign: set[int] = set()  # records of other activities, looked up once

        async def refresh(changed: set[int] | None) -> float:
            async with self:
                if not self.follow_key:
                    return 0
                aid, status, token = self.activity_id, self.status, (await self.get_state(AuthState)).session_token
                mine = {int(r["id"]) for r in self.rows}
                confirming = bool(self.confirm_id)
            if changed is not None and not changed & mine:
                unknown = changed - foreign
                if not unknown:
                    return live_pages.SAFETY_S
                owners = await asyncio.to_thread(_activities_of, unknown)
                foreign.update(r for r, a in owners.items() if a != aid)
                if all(owners.get(r) != aid for r in unknown):
                    return live_pages.SAFETY_S
            if confirming:  # a Stop awaits confirmation: the rows stay put; the stop reloads them
                return live_pages.SAFETY_S
            try:
                head = await asyncio.to_thread(call_as, token, lambda s, u: _records(s, u, aid, status))
            except (_SignedOut, ServiceError):
                return 0
            async with self:
                if self.activity_id != aid or self.status != status:
                    return 0 if not self.follow_key else live_pages.SAFETY_S
                self._show(head)
                return live_pages.SAFETY_S if self.follow_key else 0

        async with self:
            active = bool(self.follow_key)
        if active:
            await live_pages.follow(self, key="records", follow_id=follow_id, records=None, refresh=refresh)

    @rx.event
    def unfollow(self, follow_id: str):
        live_pages.unfollow(self, "records", follow_id)

    def _show(self, head: _Head) -> None:
        self.activity_name, self.activity_status, self.status_label = head.name, head.status, head.status_label
        if head.rows != self.rows:
            self.rows = head.rows

    async def _load(self):
        aid, status = self.activity_id, self.status
        out = await run(self, lambda s, u: _records(s, u, aid, status))
        if not out.ok or out.value is None:
            return out.problem()
        self._show(out.value)
        return None

    @rx.event
    async def open_for(self, activity_id: str):
        self.activity_id, self.status, self.rows, self.confirm_id = int(activity_id), "", [], ""
        problem = await self._load()
        if problem is None:
            self.open = True
        return problem

    @rx.event
    def set_open(self, is_open: bool):
        self.open = is_open

    @rx.event
    async def filter(self, status: str | list[str]):
        value = status if isinstance(status, str) else (status[0] if status else "")
        self.status = "" if value == "all" else value
        return await self._load()

    @rx.event
    def view(self, record_id: str):
        self.open = False
        return rx.redirect(canvas_route(self.activity_id, record=record_id))

    @rx.event
    def ask_stop(self, record_id: str):
        self.confirm_id = record_id

    @rx.event
    def cancel_stop(self, _open: bool = False):
        self.confirm_id = ""

    @rx.event
    async def stop(self):
        rid, self.confirm_id = int(self.confirm_id or 0), ""
        out = await run(self, lambda s, u: record_service.stop_record(session=s, actor=u, record_id=rid).number,
                        write=True)
        if not out.ok:
            return out.problem()
        return events(rx.toast.success(f"Stopped round #{out.value} of “{self.activity_name}”."),
                      await self._load(), await _list_changed(self))

    @rx.event
    async def rerun(self, record_id: str):
        rid = int(record_id)
        out = await run(self, lambda s, u: record_service.rerun_record(session=s, actor=u, record_id=rid),
                        write=True)
        if not out.ok or out.value is None:
            return out.problem()
        record = out.value
        message = (f"Round #{record.number} re-runs when the round in progress ends." if record.rerun_pending
                   else f"Re-run started as round #{record.number}.")
        return events(rx.toast.success(message), await self._load(), await _list_changed(self))

