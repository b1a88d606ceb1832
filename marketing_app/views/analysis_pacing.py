"""The action analysis's pacing line for a touch: "waiting (send window) N · skipped (quiet hours) N · backlog N ·
expected finish HH:MM" (engine/services/pacing.py), shown while anything waits or was skipped."""

import reflex as rx

from marketing_app.states.analysis import AnalysisState as S


def pacing_line() -> rx.Component:
    return rx.cond(
        S.pace != "",
        rx.callout(S.pace, icon="clock", color_scheme="amber", size="1", id="analysis-pacing", width="100%"),
    )
