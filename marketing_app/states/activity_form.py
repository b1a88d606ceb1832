"""The activity basics form shared by New activity, New from Template and the list's Modify: name, description,
sub-activities, schedule (once, or every N minutes / hours / days / months), start / end (the effective period),
group — the fields, their setters (each clears the error) and the ActivityInput they make.

The limits live in engine.services.activities (validate_input); the browser shows counters only. Start and end
are typed as "YYYY-MM-DD HH:MM" (24-hour) in the workspace's time zone, read by engine.services.local_time,
whose message names the field; each shows its UTC equivalent as it is typed.
"""

import reflex as rx

from engine.errors import Invalid
from engine.models import Schedule
from engine.services import local_time
from engine.services.activities import ActivityInput
from marketing_app.states.activity_pacing import PacingFields
from marketing_app.states.auth import AuthState
from marketing_app.states.campaigns import CampaignChoice
from marketing_app.states.groups import ALL, UNGROUPED
from marketing_app.states.reentry_form import ReentryFields


class ActivityForm(CampaignChoice, PacingFields, ReentryFields, mixin=True):
    open: bool = False
    name: str = ""
    description: str = ""
    start: str = ""
    end: str = ""
    group: str = UNGROUPED
    schedule: str = Schedule.ONCE.value
    every: str = "1"  # the N of "every N minutes / hours / days / months"
    cap_exempt: bool = False  # issue 16: transactional, exempt from the frequency caps
    error: str = ""
    saving: bool = False
    time_zone: str = "UTC"

    async def _use_time_zone(self) -> None:
        """Take the workspace's zone (read by the page's login guard) for this form's times."""
        self.time_zone = (await self.get_state(AuthState)).time_zone

    @rx.var
    def start_utc(self) -> str:
        return local_time.utc_hint(self.start, self.time_zone)

    @rx.var
    def end_utc(self) -> str:
        return local_time.utc_hint(self.end, self.time_zone)

    @rx.var
    def name_length(self) -> int:
        return len(self.name)

    @rx.var
    def description_length(self) -> int:
        return len(self.description)

    def _pacing_edited(self) -> None:
        self.error = ""

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
    def set_schedule(self, value: str):
        self.schedule, self.error = value, ""

    @rx.event
    def set_every(self, value: str):
        self.every, self.error = value, ""

    @rx.event
    def set_cap_exempt(self, value: bool):
        self.cap_exempt, self.error = bool(value), ""

    def fill(self, data: ActivityInput) -> None:
        """Show what an activity has (the list's Modify), times in the workspace's zone."""
        self.name, self.description = data.name, data.description
        self.group = str(data.group_id) if data.group_id is not None else UNGROUPED
        self.campaign_ids = list(data.campaign_ids)
        self.start = local_time.format_local(data.start_time, self.time_zone)
        self.end = local_time.format_local(data.end_time, self.time_zone)
        self.schedule, self.every = Schedule(data.schedule).value, str(data.schedule_every)
        self.cap_exempt = data.cap_exempt
        self.fill_pacing(data.pacing)
        self.fill_reentry(data.reentry, data.reentry_days, data.one_live_run)
        self.error = ""

    def form_input(self) -> ActivityInput | None:
        """The form as the services take it, or None with `error` set when a time cannot be read."""
        every = self.every.strip() if self.schedule != Schedule.ONCE else "1"
        if not every.isdigit():
            self.error = "The schedule interval must be a whole number of minutes, hours, days or months."
            return None
        try:
            return ActivityInput(
                name=self.name, description=self.description,
                group_id=None if self.group in (UNGROUPED, ALL) else int(self.group),
                campaign_ids=list(self.campaign_ids),
                start_time=local_time.parse_local(self.start, self.time_zone, label="Start time"),
                end_time=local_time.parse_local(self.end, self.time_zone, label="End time"),
                schedule=Schedule(self.schedule), schedule_every=int(every), cap_exempt=self.cap_exempt,
                pacing=self.pacing_input(), **self.reentry_input(),
            )
        except Invalid as err:
            self.error = err.message
            return None
