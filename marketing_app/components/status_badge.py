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
    "testing": "cyan",
}
#: seed 004: approval status value -> colour ("" = never asked: N/A)
APPROVAL_COLORS: dict[str, str] = {
    "under_review": "amber",
    "submission_failed": "red",
    "rejected": "red",
    "withdrawn": "gray",
    "approved": "green",
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


def approval_badge(approval: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    """Seed 004's second status: the latest request to go live ("N/A" when never asked)."""
    return rx.badge(
        label,
        color_scheme=rx.match(approval, *APPROVAL_COLORS.items(), "gray"),
        variant=rx.cond(approval == "", "outline", "soft"),
        radius="full",
        size="1",
        class_name="approval-badge",
    )
