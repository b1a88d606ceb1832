"""The Automated Marketing list: status counts, filters (status, group, name search, sub-activities, process,
audience), sorting,
paging, Show Columns, multi-select, and the row and batch actions with their confirmation and Move dialogs.

Only the current page of rows lives in state (plain string dicts, see rows.py), so every event sends a small
delta. Every action is a service call (service.run): the service decides, a refusal becomes a toast and the
transaction is rolled back, so nothing changes.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import ClassVar

import reflex as rx

from engine.models import Role, User
from engine.permissions import role_refusal
from engine.services import activities as activity_service
from engine.services import approval as approval_service
from engine.services import preferences
from engine.services.audiences import list_audiences
from engine.services.campaigns import list_catalogue
from engine.services.listing import SORTABLE, ListQuery, list_activities, status_counts
from engine.services.processes import process_choices
from engine.status import APPROVAL_STATUS_LABELS, Action, ActivityStatus
from marketing_app.routes import canvas_route
from marketing_app.states.campaigns import CampaignChoice, to_options
from marketing_app.states.groups import ALL, UNGROUPED, GroupTreeState
from marketing_app.states.paged_list import PagedList
from marketing_app.states.rows import row_to_dict
from marketing_app.states.service import events, run

COLUMNS_PREFERENCE = "activities.columns"
#: (key, label) of the columns Show Columns can hide; Name, Status and Actions always show.
OPTIONAL_COLUMNS: list[tuple[str, str]] = [
    ("owner", "Creator"), ("group", "Group"), ("campaigns", "Sub-activities"), ("version", "Version"),
    ("visibility", "Visibility"), ("start_time", "Start time"), ("end_time", "End time"),
    ("created_at", "Created"), ("updated_at", "Updated"),
]
DEFAULT_COLUMNS = ["owner", "group", "updated_at"]
#: column widths in px (fixed table layout); Name takes the rest, at least NAME_MIN_WIDTH
COLUMN_WIDTHS: dict[str, int] = {
    "select": 40, "status": 104, "approval_status": 132, "owner": 112, "group": 120, "campaigns": 168,
    "version": 76, "visibility": 100,
    "start_time": 152, "end_time": 152, "created_at": 152, "updated_at": 152, "actions": 178,
}
NAME_MIN_WIDTH = 200
#: the Approval filter's choices (value, label): seed 004's approval statuses and N/A (never asked)
APPROVAL_CHOICES: list[tuple[str, str]] = [("all", "All approval statuses"), ("none", "N/A"),
                                           *[(a.value, label) for a, label in APPROVAL_STATUS_LABELS.items()]]
ANY = "any"  # the Process / Audience filters' "no filter" (a select item cannot have the value "")
#: sorts that start descending (newest / latest first); the others start ascending
_DESCENDING_FIRST = {"created_at", "updated_at", "start_time", "end_time"}


@dataclass
class _Page:
    rows: list[dict[str, str]]
    counts: dict[str, int]
    total: int
    page: int
    pages: int
    write_refusal: str
    approval_required: bool = False
    is_admin: bool = False


@dataclass
class _First:
    catalogue: list
    columns: list[str]
    processes: list[list[str]]
    audiences: list[list[str]]


def _page(session, actor: User, query: ListQuery) -> _Page:
    found = list_activities(session=session, actor=actor, query=query)
    counts = status_counts(session=session, actor=actor, group_id=query.group_id, ungrouped=query.ungrouped)
    required = approval_service.approval_required(session=session, workspace_id=actor.workspace_id)
    return _Page([row_to_dict(r, actor, required) for r in found.rows], counts, found.total, found.page, found.pages,
                 role_refusal(actor, None, Action.EDIT) or "", required, actor.role == Role.ADMIN)


def _first(session, actor: User) -> _First:
    columns = preferences.get_preference(session=session, actor=actor, key=COLUMNS_PREFERENCE,
                                         default=DEFAULT_COLUMNS)
    known = {k for k, _ in OPTIONAL_COLUMNS}
    return _First(to_options(list_catalogue(session=session, actor=actor)), [c for c in columns if c in known],
                  [[str(i), name] for i, name in process_choices(session=session, actor=actor)],
                  [[str(a.id), a.name] for a in list_audiences(session=session, actor=actor) if a.id is not None])




class ActivitiesState(CampaignChoice, PagedList, rx.State):
    SORTABLE: ClassVar[Collection[str]] = SORTABLE
    DESCENDING_FIRST: ClassVar[frozenset[str]] = frozenset(_DESCENDING_FIRST)
    rows: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    status: str = ""  # "" = all; else a status value or "finished"
    approval: str = ""  # seed 004's second filter: "" = all; an approval status value, or "none" (N/A)
    approval_required: bool = False  # the workspace's setting (an admin switches it above the list)
    is_admin: bool = False
    group_key: str = ALL
    group_label: str = ""
    search: str = ""
    process_filter: str = ANY  # a process id, or ANY
    audience_filter: str = ANY  # an audience id, or ANY
    process_options: list[list[str]] = []  # [id, name] of the processes the user may see
    audience_options: list[list[str]] = []  # [id, name] of the workspace's audiences
    sort: str = "updated_at"
    total: int = 0
    loaded: bool = False
    columns: list[str] = DEFAULT_COLUMNS
    selected: list[str] = []
    write_refusal: str = ""  # the role's refusal of every change ("" for admins and marketers)

    confirm_open: bool = False
    confirm_kind: str = ""  # pause | stop | delete | batch_stop | batch_delete
    confirm_title: str = ""
    confirm_body: str = ""
    move_open: bool = False
    move_target: str = UNGROUPED
    move_title: str = ""

    _confirm_ids: list[int] = []
    _move_ids: list[int] = []

    # ------------------------------------------------------------------------------------------- derived

    @rx.var
    def finished_hint(self) -> str:
        """Finished counts both ends; the tooltip splits them."""
        return (
            f"{ActivityStatus.COMPLETED.label} {self.counts.get('finished_normal', 0)} · "
            f"{ActivityStatus.ABNORMAL_END.label} {self.counts.get('abnormal_end', 0)}"
        )

    @rx.var
    def table_class(self) -> str:
        """Hidden columns are hidden by CSS classes: toggling one re-renders no row. Approval shows only while the
        workspace requires it (otherwise every row reads N/A, and the default columns then fit a 1440-pixel
        window beside the group tree without scrolling)."""
        return " ".join(["activity-table", *(f"hide-{k}" for k, _ in OPTIONAL_COLUMNS if k not in self.columns),
                         *([] if self.approval_required else ["hide-approval"])])

    @rx.var
    def table_min_width(self) -> str:
        """Below this the table scrolls sideways (Actions stays pinned) instead of squeezing Name."""
        fixed = ["select", "status", *(["approval_status"] if self.approval_required else []),
                 *[k for k, _ in OPTIONAL_COLUMNS if k in self.columns], "actions"]
        return f"{NAME_MIN_WIDTH + sum(COLUMN_WIDTHS[k] for k in fixed)}px"

    @rx.var
    def page_selected(self) -> bool:
        return bool(self.rows) and all(r["id"] in self.selected for r in self.rows)

    @rx.var
    def filtered(self) -> bool:
        return bool(self.status or self.approval or self.group_key or self.search or self.campaign_ids
                    or self.process_filter != ANY or self.audience_filter != ANY)

    # ------------------------------------------------------------------------------------------- loading

    def _query(self) -> ListQuery:
        return ListQuery(
            status=self.status or None,
            approval=self.approval or None,
            group_id=int(self.group_key) if self.group_key not in (ALL, UNGROUPED) else None,
            ungrouped=self.group_key == UNGROUPED,
            search=self.search, campaign_ids=list(self.campaign_ids), sort=self.sort, descending=self.descending,
            process_id=int(self.process_filter) if self.process_filter.isdigit() else None,
            audience_id=int(self.audience_filter) if self.audience_filter.isdigit() else None,
            page=self.page, page_size=self.page_size,
        )

    async def _refresh(self, *, tree: bool = False):
        """Re-read the page and the counts (and the group tree after moves and deletes)."""
        query = self._query()
        out = await run(self, lambda s, u: _page(s, u, query))
        if not out.ok or out.value is None:
            return out.problem()
        found = out.value
        self.rows, self.counts, self.total = found.rows, found.counts, found.total
        self.page, self.pages, self.write_refusal = found.page, found.pages, found.write_refusal
        self.approval_required, self.is_admin = found.approval_required, found.is_admin
        visible = {r["id"] for r in found.rows}
        self.selected = [i for i in self.selected if i in visible]
        self.loaded = True
        if tree:
            return await (await self.get_state(GroupTreeState)).reload()
        return None

    async def _campaigns_changed(self):
        self.page = 1
        return await self._refresh()

    @rx.event
    async def load(self):
        out = await run(self, _first)
        if not out.ok or out.value is None:
            return out.problem()
        self.catalogue, self.columns = out.value.catalogue, out.value.columns
        self.process_options, self.audience_options = out.value.processes, out.value.audiences
        known = {i for i, _ in self.process_options}
        if self.process_filter != ANY and self.process_filter not in known:
            self.process_filter = ANY  # deleted (or no longer visible) since the filter was chosen
        return await self._refresh(tree=True)

    async def group_selected(self, key: str, label: str):
        """The tree's selection changed (called by GroupTreeState)."""
        self.group_key, self.group_label = key, label
        self.page = 1
        self.selected = []
        return await self._refresh()

    # ------------------------------------------------------------------------------------------- filters

    @rx.event
    async def filter_status(self, status: str):
        self.status = "" if status == self.status else status
        self.page = 1
        return await self._refresh()

    @rx.event
    async def filter_approval(self, approval: str):
        self.approval = "" if approval == "all" else approval
        self.page = 1
        return await self._refresh()

    @rx.event
    async def set_approval_required(self, required: bool):
        """The admin's switch (seed 004): activities go live only through an approved request."""
        out = await run(self, lambda s, u: approval_service.set_approval_required(
            session=s, actor=u, required=required), write=True)
        if not out.ok:
            return out.problem()
        done = ("Approval is now required: activities go live through Request to go live." if required
                else "Approval is no longer required: Publish goes live.")
        return events(rx.toast.success(done), await self._refresh())

    @rx.event
    async def submit_search(self, form: dict[str, str]):
        self.search = (form.get("search") or "").strip()
        self.page = 1
        return await self._refresh()

    @rx.event
    async def filter_process(self, value: str):
        self.process_filter = value or ANY
        self.page = 1
        return await self._refresh()

    @rx.event
    async def filter_audience(self, value: str):
        self.audience_filter = value or ANY
        self.page = 1
        return await self._refresh()

    @rx.event
    async def clear_search(self):
        self.search = ""
        self.page = 1
        return await self._refresh()

    @rx.event
    async def toggle_column(self, key: str):
        wanted = [k for k, _ in OPTIONAL_COLUMNS if (k in self.columns) != (k == key)]
        self.columns = wanted
        out = await run(self, lambda s, u: preferences.set_preference(
            session=s, actor=u, key=COLUMNS_PREFERENCE, value=wanted), write=True)
        return out.problem()

    # ------------------------------------------------------------------------------------------- selection

    @rx.event
    def toggle_row(self, activity_id: str):
        if activity_id in self.selected:
            self.selected = [i for i in self.selected if i != activity_id]
        else:
            self.selected = [*self.selected, activity_id]

    @rx.event
    def toggle_page(self, _checked: bool = True):
        ids = [r["id"] for r in self.rows]
        self.selected = [] if all(i in self.selected for i in ids) else ids

    @rx.event
    def clear_selection(self):
        self.selected = []

    # ------------------------------------------------------------------------------------------- row actions

    def _name(self, activity_id: int | str) -> str:
        return next((r["name"] for r in self.rows if r["id"] == str(activity_id)), "this activity")

    @rx.event
    def edit(self, activity_id: str):
        return rx.redirect(canvas_route(activity_id, mode="edit"))

    @rx.event
    def details(self, activity_id: str):
        return rx.redirect(canvas_route(activity_id, mode="details"))

    @rx.event
    async def copy(self, activity_id: str):
        aid = int(activity_id)
        out = await run(self, lambda s, u: activity_service.copy_activity(session=s, actor=u, activity_id=aid).id,
                        write=True)
        if not out.ok:
            return out.problem()
        return [rx.toast.success(f"Copied “{self._name(aid)}”: the copy opens on the canvas."),
                rx.redirect(canvas_route(out.value, mode="edit"))]

    @rx.event
    async def start(self, activity_id: str):
        aid = int(activity_id)
        out = await run(self, lambda s, u: ActivityStatus(
            activity_service.start(session=s, actor=u, activity_id=aid).status).label, write=True)
        if not out.ok:
            return out.problem()
        return events(rx.toast.success(f"Started “{self._name(aid)}”: now {out.value}."), await self._refresh())

    @rx.event
    async def toggle_public(self, activity_id: str):
        aid = int(activity_id)
        row = next((r for r in self.rows if r["id"] == activity_id), None)
        public = row is None or row["visibility"] != "Public"
        out = await run(self, lambda s, u: activity_service.set_public(
            session=s, actor=u, activity_id=aid, public=public), write=True)
        if not out.ok:
            return out.problem()
        word = "public: everyone in the workspace sees it" if public else "private: only its creator and admins"
        return events(rx.toast.success(f"“{self._name(aid)}” is now {word}."), await self._refresh())

    # ------------------------------------------------------------------------------------------- confirmation

    def _ask(self, kind: str, ids: list[int], title: str, body: str) -> None:
        self.confirm_kind, self._confirm_ids = kind, ids
        self.confirm_title, self.confirm_body = title, body
        self.confirm_open = True

    @rx.event
    def ask_stop(self, activity_id: str):
        self._ask("stop", [int(activity_id)], "Stop activity?",
                  f"“{self._name(activity_id)}” stops now: no new customer enters its flow. You can start it "
                  "again later; it then restarts from its first component.")

    @rx.event
    def ask_pause(self, activity_id: str):
        self._ask("pause", [int(activity_id)], "Pause activity?",
                  f"“{self._name(activity_id)}” pauses now: no later cycle or trigger starts it and nobody new "
                  "enters; customers already inside finish their flow. To restart it, Resume asks for a new start "
                  "time.")

    @rx.event
    def ask_delete(self, activity_id: str):
        self._ask("delete", [int(activity_id)], "Delete activity?",
                  f"“{self._name(activity_id)}” is deleted with its versions and execution records. "
                  "This cannot be undone.")

    @rx.event
    def ask_batch_stop(self):
        n = len(self.selected)
        self._ask("batch_stop", [int(i) for i in self.selected], f"Stop {n} activities?",
                  "The selected activities stop now. If any of them cannot be stopped, none is stopped.")

    @rx.event
    def ask_batch_delete(self):
        n = len(self.selected)
        self._ask("batch_delete", [int(i) for i in self.selected], f"Delete {n} activities?",
                  "The selected activities are deleted with their versions and execution records. If any of "
                  "them cannot be deleted, none is deleted. This cannot be undone.")

    @rx.event
    def set_confirm_open(self, is_open: bool):
        self.confirm_open = is_open

    @rx.event
    async def confirm(self):
        kind, ids = self.confirm_kind, list(self._confirm_ids)
        self.confirm_open = False
        if kind == "pause":
            out = await run(self, lambda s, u: activity_service.pause(session=s, actor=u, activity_id=ids[0]),
                            write=True)
            if not out.ok:
                return out.problem()
            return events(rx.toast.success(f"Paused “{self._name(ids[0])}”."), await self._refresh())
        stopping = kind in ("stop", "batch_stop")
        if stopping:
            out = await run(self, lambda s, u: len(activity_service.batch_stop(session=s, actor=u, activity_ids=ids)),
                            write=True)
        else:
            out = await run(self, lambda s, u: activity_service.batch_delete(session=s, actor=u, activity_ids=ids),
                            write=True)
        if not out.ok:
            return out.problem()
        what = f"“{self._name(ids[0])}”" if len(ids) == 1 else f"{out.value} activities"
        message = f"Stopped {what}." if stopping else f"Deleted {what}."
        if kind.startswith("batch"):
            self.selected = []
        return events(rx.toast.success(message), await self._refresh(tree=not stopping))

    # ------------------------------------------------------------------------------------------- move

    async def _open_move(self, ids: list[int], title: str) -> None:
        tree = await self.get_state(GroupTreeState)
        tree.fill_options()
        self._move_ids, self.move_title = ids, title
        self.move_target = self.group_key if self.group_key not in (ALL,) else UNGROUPED
        self.move_open = True

    @rx.event
    async def open_move(self, activity_id: str):
        await self._open_move([int(activity_id)], f"Move “{self._name(activity_id)}” to group")

    @rx.event
    async def open_batch_move(self):
        await self._open_move([int(i) for i in self.selected], f"Move {len(self.selected)} activities to group")

    @rx.event
    def set_move_target(self, value: str):
        self.move_target = value

    @rx.event
    def set_move_open(self, is_open: bool):
        self.move_open = is_open

    @rx.event
    async def submit_move(self):
        ids = list(self._move_ids)
        target = None if self.move_target == UNGROUPED else int(self.move_target)
        out = await run(self, lambda s, u: len(activity_service.batch_move(
            session=s, actor=u, activity_ids=ids, group_id=target)), write=True)
        if not out.ok:
            return out.problem()
        self.move_open = False
        if len(ids) > 1:
            self.selected = []
        what = f"“{self._name(ids[0])}”" if len(ids) == 1 else f"{out.value} activities"
        return events(rx.toast.success(f"Moved {what}."), await self._refresh(tree=True))
