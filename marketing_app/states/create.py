"""The New activity dialog: name, description, sub-activities, start and end time, group.

The browser enforces the limits first (maxLength from the engine's NAME_MAX / DESCRIPTION_MAX, live counters);
engine.services.activities.create_activity enforces them again, and when the browser check is bypassed the
service's message is shown in the dialog. A created activity opens on the canvas.
"""

from datetime import UTC, datetime

import reflex as rx

from engine.services.activities import ActivityInput, create_activity
from engine.services.campaigns import list_catalogue
from marketing_app.states.activities import ActivitiesState, canvas_route
from marketing_app.states.campaigns import CampaignChoice, to_options
from marketing_app.states.groups import ALL, UNGROUPED, GroupTreeState
from marketing_app.states.service import run


def parse_local(value: str) -> datetime | None:
    """A datetime-local value ("2026-12-01T09:30"), read as UTC like every time on the page."""
    value = (value or "").strip()
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


class NewActivityState(CampaignChoice, rx.State):
    open: bool = False
    name: str = ""
    description: str = ""
    start: str = ""
    end: str = ""
    group: str = UNGROUPED
    error: str = ""
    saving: bool = False

    @rx.var
    def name_length(self) -> int:
        return len(self.name)

    @rx.var
    def description_length(self) -> int:
        return len(self.description)

    @rx.event
    async def open_dialog(self):
        self.reset()
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
    def set_open(self, is_open: bool):
        self.open = is_open

    @rx.event
    def set_name(self, value: str):
        self.name, self.error = value, ""

    @rx.event
    def set_description(self, value: str):
        self.description, self.error = value, ""

    @rx.event
    def set_start(self, value: str):
        self.start, self.error = value, ""

    @rx.event
    def set_end(self, value: str):
        self.end, self.error = value, ""

    @rx.event
    def set_group(self, value: str):
        self.group, self.error = value, ""

    @rx.event
    async def submit(self):
        try:
            data = ActivityInput(
                name=self.name, description=self.description,
                group_id=None if self.group in (UNGROUPED, ALL) else int(self.group),
                campaign_ids=list(self.campaign_ids), start_time=parse_local(self.start),
                end_time=parse_local(self.end),
            )
        except ValueError:
            self.error = "Enter the times as date and time (YYYY-MM-DD HH:MM)."
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
