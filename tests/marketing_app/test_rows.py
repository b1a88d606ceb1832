"""The list keeps one page of rows as plain string dicts: check the conversion from the service's rows."""

from datetime import UTC, datetime

from engine.services.listing import ActivityRow
from marketing_app.states.rows import EMPTY, format_time, row_to_dict


def _row(**over: object) -> ActivityRow:
    data: dict[str, object] = dict(
        id=7, name="Welcome SMS", description="", status="in_progress", status_label="In Progress", owner_id=1,
        owner_name="Mia Marketer", is_public=True, group_id=None, group_name="Ungrouped", start_time=None,
        end_time=None, created_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        updated_at=datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC), version_number=2, template_key=None,
        campaigns=["D11 Warm-up", "Onboarding"],
    )
    data.update(over)
    return ActivityRow.model_validate(data)


def test_row_becomes_display_strings() -> None:
    assert row_to_dict(_row()) == {
        "id": "7", "name": "Welcome SMS", "description": "", "status": "in_progress",
        "status_label": "In Progress", "owner_name": "Mia Marketer", "group_name": "Ungrouped",
        "visibility": "Public", "updated_at": "2026-05-06 07:08",
    }


def test_private_row_in_a_group() -> None:
    d = row_to_dict(_row(is_public=False, group_name="Loyalty"))
    assert (d["visibility"], d["group_name"]) == ("Private", "Loyalty")


def test_missing_time_shows_a_dash() -> None:
    assert format_time(None) == EMPTY
