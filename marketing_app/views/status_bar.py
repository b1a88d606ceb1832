"""The status bar above the list: total and per-status counts; clicking one filters the list."""

import reflex as rx

from engine.status import ActivityStatus
from marketing_app.components.status_badge import STATUS_COLORS
from marketing_app.components.status_count import status_count
from marketing_app.states.activities import ActivitiesState

S = ActivityStatus
#: (filter key, label); "" is All, "finished" counts normal and abnormal ends together.
FILTERS: list[tuple[str, str]] = [
    ("", "All activities"),
    (S.IN_PROGRESS.value, S.IN_PROGRESS.label),
    (S.NOT_STARTED.value, S.NOT_STARTED.label),
    (S.PAUSED.value, S.PAUSED.label),
    (S.STOPPED.value, S.STOPPED.label),
    ("finished", "Finished"),
    (S.DRAFT.value, S.DRAFT.label),
    (S.TESTING.value, S.TESTING.label),  # seed 004
]


def _count(key: str) -> rx.Var[int]:
    return ActivitiesState.counts.get(key or "total", 0).to(int)


def status_bar() -> rx.Component:
    return rx.flex(
        *[
            status_count(
                label, _count(key), key=key or "all", color=STATUS_COLORS.get(key, "gray"),
                active=ActivitiesState.status == key,
                on_click=ActivitiesState.filter_status(key),
                hint=ActivitiesState.finished_hint if key == "finished" else None,
            )
            for key, label in FILTERS
        ],
        gap="12px",
        wrap="wrap",
        width="100%",
    )
