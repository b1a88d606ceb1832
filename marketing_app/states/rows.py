"""Turn service results into the plain, small dicts the list page keeps in state (one page, strings only).

Only what the table shows (plus the id for row actions later): every key costs bytes in each delta."""

from datetime import datetime

from engine.services.listing import ActivityRow

EMPTY = "—"


def format_time(value: datetime | None) -> str:
    """UTC, minute precision: what a marketer scans for in a list."""
    return value.strftime("%Y-%m-%d %H:%M") if value else EMPTY


def row_to_dict(row: ActivityRow) -> dict[str, str]:
    return {
        "id": str(row.id),
        "name": row.name,
        "description": row.description or "",
        "status": str(row.status),
        "status_label": row.status_label,
        "owner_name": row.owner_name,
        "group_name": row.group_name or "Ungrouped",
        "visibility": "Public" if row.is_public else "Private",
        "updated_at": format_time(row.updated_at),
    }
