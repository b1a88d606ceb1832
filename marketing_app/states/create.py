"""The New activity dialog: name, description, sub-activities, start and end time, group.

The browser enforces the limits first (maxLength from the engine's NAME_MAX / DESCRIPTION_MAX, live counters);
engine.services.activities.create_activity enforces them again, and when the browser check is bypassed the
service's message is shown in the dialog. A created activity opens on the canvas.
"""


import reflex as rx

from engine.services.activities import create_activity
from engine.services.campaigns import list_catalogue
from marketing_app.routes import canvas_route
from marketing_app.states.activities import ActivitiesState
from marketing_app.states.activity_form import ActivityForm
from marketing_app.states.campaigns import to_options
from marketing_app.states.groups import ALL, UNGROUPED, GroupTreeState
from marketing_app.states.service import run


class NewActivityState(ActivityForm, rx.State):
    @rx.event
    async def open_dialog(self):
        self.reset()
        await self._use_time_zone()
        out = await run(self, lambda s, u: to_options(list_catalogue(session=s, actor=u)))
        if not out.ok or out.value is None:
            return out.problem()
        self.catalogue = out.value
        tree = await self.get_state(GroupTreeState)
        tree.fill_options()
        self.group = tree.selected if tree.selected != ALL else UNGROUPED
        self.open = True
        return None

    @rx.event
    async def submit(self):
        data = self.form_input()
        if data is None:
            return
        self.saving = True
        yield
        out = await run(self, lambda s, u: create_activity(session=s, actor=u, data=data).id, write=True)
        self.saving = False
        if out.signed_out:
            yield out.problem()
            return
        if out.error:
            self.error = out.error
            return
        self.open = False
        activities = await self.get_state(ActivitiesState)
        activities.loaded = False  # the list reloads when the user comes back
        yield rx.toast.success(f"Created “{data.name.strip()}”: it opens on the canvas as a Draft.")
        yield rx.redirect(canvas_route(out.value, mode="edit"))
