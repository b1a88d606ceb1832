"""The pacing fields of an activity's basic information (issue 16): a send window in each customer's local
time, what happens outside it, and a messages-per-minute limit. A mixin of the New activity / Modify form
(ActivityForm) and of the canvas's Basic information dialog (CanvasHeaderState); the rules are the engine's
(engine/services/pacing.py), which refuses a bad value with the message the dialog shows."""

import reflex as rx

from engine.models.pacing import WAIT
from engine.services import pacing as pacing_service
from engine.services.pacing import PacingInput


class PacingFields(rx.State, mixin=True):
    pace_start: str = ""  # "HH:MM"
    pace_end: str = ""
    pace_outside: str = WAIT
    pace_limit: str = ""  # messages per minute, "" = no limit
    pace_summary: str = ""  # the saved pacing in words, for the touch panels (`show_pacing`)

    def _pacing_edited(self) -> None:
        """A pacing field changed: the form clears its error (each form names its own)."""

    @rx.event
    def set_pace_start(self, value: str):
        self.pace_start = value
        self._pacing_edited()

    @rx.event
    def set_pace_end(self, value: str):
        self.pace_end = value
        self._pacing_edited()

    @rx.event
    def set_pace_outside(self, value: str):
        self.pace_outside = value
        self._pacing_edited()

    @rx.event
    def set_pace_limit(self, value: str):
        self.pace_limit = value
        self._pacing_edited()

    def fill_pacing(self, data: PacingInput | dict | None) -> None:
        """Show an activity's pacing (a PacingInput, or its dump as the canvas keeps the activity's input)."""
        pacing = PacingInput.model_validate(data) if isinstance(data, dict) else data or PacingInput()
        self.pace_start, self.pace_end = pacing.window_start, pacing.window_end
        self.pace_outside = pacing.outside
        self.pace_limit = str(pacing.max_per_minute) if pacing.max_per_minute else ""

    def show_pacing(self, data: PacingInput | dict | None) -> None:
        """The activity's pacing as the touch panels show it (what Save Draft / Publish will keep)."""
        pacing = PacingInput.model_validate(data) if isinstance(data, dict) else data or PacingInput()
        self.pace_summary = pacing_service.describe(pacing) or "No send window or rate limit for this activity"

    def pacing_input(self) -> PacingInput:
        """The fields as the services take them; engine.errors.Invalid for a limit that is not a number."""
        return PacingInput(window_start=self.pace_start.strip(), window_end=self.pace_end.strip(),
                           outside=self.pace_outside, max_per_minute=pacing_service.parse_limit(self.pace_limit))
