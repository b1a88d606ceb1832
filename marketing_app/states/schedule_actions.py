"""The list's seed-002 actions that ask for something: Modify (basic information, schedule and effective period
of a Not Started or Paused activity) and Resume (a Paused activity restarts at a new start time, later than now).
Pause itself is a confirmation in ActivitiesState. The services decide; their refusal shows in the dialog."""

from datetime import timedelta

import reflex as rx

from engine import clock
from engine.errors import Invalid
from engine.services import activities as activity_service
from engine.services import local_time
from engine.services.campaigns import list_catalogue
from marketing_app.states.activities import ActivitiesState
from marketing_app.states.activity_form import ActivityForm
from marketing_app.states.auth import AuthState
from marketing_app.states.campaigns import to_options
from marketing_app.states.groups import GroupTreeState
from marketing_app.states.service import events, run


def suggested_start(time_zone: str) -> str:
    """A start a marketer can accept as is: the next full quarter hour at least 5 minutes ahead."""
    at = clock.now() + timedelta(minutes=5)
    at = at.replace(second=0, microsecond=0) + timedelta(minutes=(15 - at.minute % 15) % 15)
    return local_time.format_local(at, time_zone)


class ModifyState(ActivityForm, rx.State):
    activity_id: int = 0
    title: str = ""

    @rx.event
    async def open_for(self, activity_id: str):
        self.reset()
        await self._use_time_zone()
        aid = int(activity_id)
        out = await run(self, lambda s, u: (
            activity_service.activity_input(session=s, actor=u, activity_id=aid),
            to_options(list_catalogue(session=s, actor=u))))
        if not out.ok or out.value is None:
            return out.problem()
        data, self.catalogue = out.value
        self.fill(data)
        (await self.get_state(GroupTreeState)).fill_options()
        self.activity_id, self.title = aid, f"Modify “{data.name}”"
        self.open = True
        return None

    @rx.event
    async def submit(self):
        data = self.form_input()
        if data is None:
            return None
        aid = self.activity_id
        self.saving = True
        out = await run(self, lambda s, u: activity_service.modify(session=s, actor=u, activity_id=aid, data=data).id,
                        write=True)
        self.saving = False
        if out.signed_out:
            return out.problem()
        if out.error:
            self.error = out.error
            return None
        self.open = False
        activities = await self.get_state(ActivitiesState)
        return events(rx.toast.success(f"Modified “{data.name.strip()}”."), await activities._refresh(tree=True))


class ResumeState(rx.State):
    open: bool = False
    activity_id: int = 0
    name: str = ""
    start: str = ""
    end: str = ""  # shown, not edited here: Modify changes the effective period
    error: str = ""
    time_zone: str = "UTC"

    @rx.var
    def start_utc(self) -> str:
        return local_time.utc_hint(self.start, self.time_zone)

    @rx.event
    def set_open(self, is_open: bool):
        self.open = is_open

    @rx.event
    def set_start(self, value: str):
        self.start, self.error = value, ""

    @rx.event
    async def open_for(self, activity_id: str):
        self.time_zone = (await self.get_state(AuthState)).time_zone
        aid = int(activity_id)
        out = await run(self, lambda s, u: activity_service.activity_input(session=s, actor=u, activity_id=aid))
        if not out.ok or out.value is None:
            return out.problem()
        self.activity_id, self.name, self.error = aid, out.value.name, ""
        self.start = suggested_start(self.time_zone)
        self.end = local_time.format_local(out.value.end_time, self.time_zone)
        self.open = True
        return None

    @rx.event
    async def submit(self):
        try:
            start = local_time.parse_local(self.start, self.time_zone, label="Start time")
        except Invalid as err:
            self.error = err.message
            return None
        if start is None:
            self.error = "Enter the new start time."
            return None
        aid = self.activity_id
        out = await run(self, lambda s, u: activity_service.resume(session=s, actor=u, activity_id=aid,
                                                                   start_time=start).id, write=True)
        if out.signed_out:
            return out.problem()
        if out.error:
            self.error = out.error
            return None
        self.open = False
        activities = await self.get_state(ActivitiesState)
        return events(rx.toast.success(f"Resumed “{self.name}”: it starts again at {self.start} ({self.time_zone})."),
                      await activities._refresh())
