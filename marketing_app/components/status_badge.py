"""Status badge: one colour per activity status, the label always from the engine (status.py)."""

import reflex as rx

#: status value -> Radix colour (labels come from the engine; an unknown status shows gray).
STATUS_COLORS: dict[str, str] = {
    "in_progress": "green",
    "not_started": "blue",
    "paused": "orange",
    "stopped": "amber",
    "completed": "gray",
    "abnormal_end": "red",
    "draft": "violet",
}


def status_badge(status: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    return rx.badge(
        label,
        color_scheme=rx.match(status, *STATUS_COLORS.items(), "gray"),
        variant="soft",
        radius="full",
        size="1",
        class_name="status-badge",
    )
