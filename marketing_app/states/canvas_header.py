"""The canvas header's activity and its Basic information dialog (the pencil): name, status, start / end, and
the dialog's name, description, sub-activities, times and group.

Filled by CanvasState.load from the canvas view (engine.services.canvas); the dialog edits a copy of the
activity's input (`_data`) that Save Draft and Publish send with the flow. Times are typed "YYYY-MM-DD HH:MM"
(24-hour) in the workspace's zone (components/time_field.py), read by engine.services.local_time.
"""

from typing import Any

import reflex as rx

from engine.errors import Invalid
from engine.models import Schedule
from engine.services import activities as activity_service
from engine.services import local_time
from engine.services.campaigns import list_catalogue
from engine.services.canvas import NO_END, NO_START, CanvasView, time_label
from engine.services.groups import list_tree
from engine.services.listing import schedule_label
from engine.services.processes import save_process
from marketing_app.states.activity_pacing import PacingFields
from marketing_app.states.campaigns import CampaignChoice, to_options
from marketing_app.states.goal_form import GoalFormState
from marketing_app.states.groups import UNGROUPED, GroupOption, options
from marketing_app.states.reentry_form import ReentryFields
from marketing_app.states.service import run


def _info_options(session, actor) -> tuple[list[Any], list[GroupOption]]:  # noqa: ANN001 — run's call
    return (to_options(list_catalogue(session=session, actor=actor)),
            options(list_tree(session=session, actor=actor)))


class CanvasHeaderState(CampaignChoice, PacingFields, ReentryFields, rx.State):
    name: str = ""
    status: str = ""
    status_label: str = ""
    start_label: str = ""
    end_label: str = ""
    time_zone: str = "UTC"
    schedule_label: str = "Once"
    next_run_label: str = ""  # "" = no round planned
    schedule_why_not: str = ""  # the status machine's refusal of a schedule change ("" = the dialog may change it)
    changed: bool = False  # the dialog changed the basic information: not saved yet
    #: issue 14: the approval status beside the task status (when the workspace requires approval)
    approval_required: bool = False
    approval: str = ""
    approval_label: str = "N/A"
    approval_hint: str = ""
    activity_id: int = 0

    # ---- the pencil's dialog
    info_open: bool = False
    info_name: str = ""
    info_description: str = ""
    info_start: str = ""
    info_end: str = ""
    info_group: str = UNGROUPED
    info_schedule: str = Schedule.ONCE.value
    info_every: str = "1"
    info_cap_exempt: bool = False  # issue 16: transactional, exempt from the frequency caps
    info_error: str = ""
    group_options: list[GroupOption] = []

    # ---- Save as process (engine.services.processes)
    process_why_not: str = ""  # "" = the button is enabled
    process_version_label: str = ""  # the published version it saves ("V3")
    origin_process: str = ""  # the process this activity was created from
    proc_open: bool = False
    proc_name: str = ""
    proc_description: str = ""
    proc_error: str = ""
    proc_saving: bool = False

    _process_version_id: int | None = None
    _activity_id: int = 0
    _data: dict[str, Any] = {}  # the activity's input (ActivityInput) as Save Draft / Publish send it

    def show(self, view: CanvasView) -> None:
        self.name, self.status, self.status_label = view.name, view.status, view.status_label
        self.start_label, self.end_label, self.time_zone = view.start_label, view.end_label, view.time_zone
        self.schedule_label, self.next_run_label = view.schedule_label, view.next_run_label
        self.schedule_why_not = view.schedule_why_not
        self.approval_required, self.approval = view.approval_required, view.approval
        self.approval_label, self.approval_hint = view.approval_label, view.approval_hint
        self.activity_id = view.activity_id
        self._activity_id = view.activity_id
        self.process_why_not, self.process_version_label = view.process_why_not, view.process_version_label
        self._process_version_id, self.origin_process = view.process_version_id, view.origin_process
        self._data = view.data.model_dump()
        self.show_pacing(view.data.pacing)
        self.changed = False

    def activity_input(self) -> activity_service.ActivityInput:
        return activity_service.ActivityInput(**self._data)

    @rx.var
    def info_start_utc(self) -> str:
        return local_time.utc_hint(self.info_start, self.time_zone)

    @rx.var
    def info_end_utc(self) -> str:
        return local_time.utc_hint(self.info_end, self.time_zone)

    @rx.event
    async def open_info(self):
        out = await run(self, _info_options)
        if not out.ok or out.value is None:
            return out.problem()
        self.catalogue, self.group_options = out.value
        d = self._data
        self.info_name, self.info_description = str(d.get("name") or ""), str(d.get("description") or "")
        self.info_start = local_time.format_local(d.get("start_time"), self.time_zone)
        self.info_end = local_time.format_local(d.get("end_time"), self.time_zone)
        self.info_group = str(d["group_id"]) if d.get("group_id") else UNGROUPED
        self.campaign_ids = list(d.get("campaign_ids") or [])
        self.info_schedule = Schedule(d.get("schedule") or Schedule.ONCE).value
        self.info_every = str(d.get("schedule_every") or 1)
        self.info_cap_exempt = bool(d.get("cap_exempt"))
        self.fill_pacing(d.get("pacing"))
        self.fill_reentry(str(d.get("reentry") or ""), d.get("reentry_days"), bool(d.get("one_live_run")))
        self.info_error = ""
        (await self.get_state(GoalFormState)).fill(d.get("goal"))  # issue 16: goal, exits, holdout
        self.info_open = True
        return None

    def _pacing_edited(self) -> None:
        self.info_error = ""

    @rx.event
    def set_info_open(self, is_open: bool):
        self.info_open = is_open

    @rx.event
    def clear_info_error(self):
        """An edit of the dialog's goal section (states/goal_form.py) clears the refusal, as its own fields do."""
        self.info_error = ""

    @rx.event
    def set_info_name(self, value: str):
        self.info_name, self.info_error = value, ""

    @rx.event
    def set_info_description(self, value: str):
        self.info_description, self.info_error = value, ""

    @rx.event
    def set_info_start(self, value: str):
        self.info_start, self.info_error = value, ""

    @rx.event
    def set_info_end(self, value: str):
        self.info_end, self.info_error = value, ""

    @rx.event
    def set_info_group(self, value: str):
        self.info_group, self.info_error = value, ""

    @rx.event
    def set_info_schedule(self, value: str):
        self.info_schedule, self.info_error = value, ""

    @rx.event
    def set_info_every(self, value: str):
        self.info_every, self.info_error = value, ""

    @rx.event
    def set_info_cap_exempt(self, value: bool):
        self.info_cap_exempt, self.info_error = bool(value), ""

    def info_input(self) -> activity_service.ActivityInput | None:
        """The dialog as the services take it, or None with `info_error` set when a time cannot be read."""
        every = self.info_every.strip() if self.info_schedule != Schedule.ONCE else "1"
        if not every.isdigit():
            self.info_error = "The schedule interval must be a whole number of minutes, hours, days or months."
            return None
        try:
            return activity_service.ActivityInput(**{
                **self._data, "name": self.info_name, "description": self.info_description,
                "group_id": None if self.info_group == UNGROUPED else int(self.info_group),
                "campaign_ids": list(self.campaign_ids),
                "schedule": Schedule(self.info_schedule), "schedule_every": int(every),
                "cap_exempt": self.info_cap_exempt,
                "start_time": local_time.parse_local(self.info_start, self.time_zone, label="Start time"),
                "end_time": local_time.parse_local(self.info_end, self.time_zone, label="End time"),
                "pacing": self.pacing_input(), **self.reentry_input()})
        except Invalid as err:
            self.info_error = err.message
            return None

    @rx.event
    async def submit_info(self):
        data = self.info_input()
        if data is None:
            return None
        data.goal = (await self.get_state(GoalFormState)).settings()  # issue 16: checked by check_info
        activity_id = self._activity_id
        out = await run(self, lambda s, u: activity_service.check_info(session=s, actor=u, activity_id=activity_id,
                                                                          data=data))
        if out.signed_out:
            return out.problem()
        if out.error:
            self.info_error = out.error
            return None
        self._data = data.model_dump()
        self.show_pacing(data.pacing)
        self.name = data.name.strip()
        self.start_label = time_label(data.start_time, self.time_zone, NO_START)
        self.end_label = time_label(data.end_time, self.time_zone, NO_END)
        self.schedule_label = schedule_label(data.schedule, data.schedule_every)
        self.changed = True
        self.info_open = False
        return rx.toast.success("Basic information updated: Save Draft or Publish to keep it.")

    # ------------------------------------------------------------------------------- Save as process

    @rx.event
    def open_process(self):
        if self.process_why_not:
            return rx.toast.error(self.process_why_not)
        self.proc_name, self.proc_description, self.proc_error = self.name, "", ""
        self.proc_open = True
        return None

    @rx.event
    def set_proc_open(self, is_open: bool):
        self.proc_open = is_open

    @rx.event
    def set_proc_name(self, value: str):
        self.proc_name, self.proc_error = value, ""

    @rx.event
    def set_proc_description(self, value: str):
        self.proc_description, self.proc_error = value, ""

    @rx.event
    async def submit_process(self):
        activity_id, version_id = self._activity_id, self._process_version_id
        name, description = self.proc_name, self.proc_description
        self.proc_saving = True
        yield
        out = await run(self, lambda s, u: save_process(session=s, actor=u, activity_id=activity_id, name=name,
                                                        description=description, version_id=version_id).name,
                        write=True)
        self.proc_saving = False
        if out.signed_out:
            yield out.problem()
            return
        if out.error:
            self.proc_error = out.error
            return
        self.proc_open = False
        yield rx.toast.success(f"Saved “{out.value}” as a process: New from Template lists it.")
