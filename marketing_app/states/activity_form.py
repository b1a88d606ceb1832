"""The activity basics form shared by New activity and New from Template: name, description, sub-activities,
start / end, group — the fields, their setters (each clears the error) and the ActivityInput they make.

The limits live in engine.services.activities (validate_input); the browser shows counters only.
"""

from datetime import UTC, datetime

import reflex as rx

from engine.services.activities import ActivityInput
from marketing_app.states.campaigns import CampaignChoice
from marketing_app.states.groups import ALL, UNGROUPED

TIME_FORMAT_ERROR = "Enter the times as date and time (YYYY-MM-DD HH:MM)."


def parse_local(value: str) -> datetime | None:
    """A datetime-local value ("2026-12-01T09:30"), read as UTC like every time on the page."""
    value = (value or "").strip()
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


class ActivityForm(CampaignChoice, mixin=True):
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

    def form_input(self) -> ActivityInput | None:
        """The form as the services take it, or None with `error` set when a time cannot be read."""
        try:
            return ActivityInput(
                name=self.name, description=self.description,
                group_id=None if self.group in (UNGROUPED, ALL) else int(self.group),
                campaign_ids=list(self.campaign_ids), start_time=parse_local(self.start),
                end_time=parse_local(self.end),
            )
        except ValueError:
            self.error = TIME_FORMAT_ERROR
            return None
