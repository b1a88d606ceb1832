"""The list keeps one page of rows as plain string dicts: the conversion from the service's rows, and the
refusal each row carries for every action (the engine's role rule first, then its status machine)."""

from datetime import UTC, datetime

from engine.models import Role, User
from engine.permissions import role_refusal
from engine.services.listing import ActivityRow
from engine.status import Action, ActivityStatus, why_not
from marketing_app.states.rows import EMPTY, ROW_ACTIONS, format_time, row_to_dict

MIA = User(id=1, workspace_id=1, username="mia", display_name="Mia", password_hash="x", role=Role.MARKETER)
LEO = User(id=2, workspace_id=1, username="leo", display_name="Leo", password_hash="x", role=Role.MARKETER)
MAX = User(id=3, workspace_id=1, username="max", display_name="Max", password_hash="x", role=Role.MANAGER)


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
    d = row_to_dict(_row(), MIA)
    assert {k: v for k, v in d.items() if not k.startswith("deny_")} == {
        "id": "7", "name": "Welcome SMS", "description": "", "status": "in_progress",
        "status_label": "In Progress", "owner_name": "Mia Marketer", "group_name": "Ungrouped",
        "visibility": "Public", "campaigns": "D11 Warm-up, Onboarding", "version": "V2", "start_time": EMPTY,
        "end_time": EMPTY, "created_at": "2026-01-02 03:04", "updated_at": "2026-05-06 07:08",
        "public_label": "Cancel Public", "schedule": "Once", "next_run": "", "approval": "",
        "approval_label": "N/A", "process": "",
    }


def test_rows_follow_the_approval_setting_and_status() -> None:
    """Seed 004: with approval required Stop gives way to Complete; under review nothing is edited or deleted."""
    off, on = row_to_dict(_row(), MIA), row_to_dict(_row(), MIA, approval_required=True)
    assert off["deny_stop"] == ""
    assert "complete the activity instead" in on["deny_stop"]
    review = row_to_dict(_row(status="paused", approval_status="under_review", approval_label="Under Review"), MIA)
    assert review["approval_label"] == "Under Review"
    assert "withdraw it first" in review["deny_delete"] and "withdraw it first" in review["deny_modify"]


def test_schedule_and_next_run() -> None:
    d = row_to_dict(_row(schedule="Daily", next_run=datetime(2026, 12, 6, 9, 0, tzinfo=UTC)), MIA)
    assert (d["schedule"], d["next_run"]) == ("Daily", "2026-12-06 09:00")


def test_the_process_an_activity_came_from() -> None:
    assert row_to_dict(_row(process_id=3, process_name="Welcome flow"), MIA)["process"] == "Welcome flow"
    assert row_to_dict(_row(process_id=None, process_name="Welcome flow"), MIA)["process"] == "Welcome flow (deleted)"


def test_private_row_in_a_group() -> None:
    d = row_to_dict(_row(is_public=False, group_name="Loyalty", campaigns=[], version_number=None), MIA)
    assert (d["visibility"], d["group_name"], d["public_label"]) == ("Private", "Loyalty", "Set Public")
    assert (d["campaigns"], d["version"]) == (EMPTY, EMPTY)


def test_missing_time_shows_a_dash() -> None:
    assert format_time(None) == EMPTY


def test_owner_actions_follow_the_status_machine() -> None:
    for status in ActivityStatus:
        d = row_to_dict(_row(status=status.value, status_label=status.label), MIA)
        for key, action in ROW_ACTIONS.items():
            assert d[f"deny_{key}"] == (why_not(status, action) or ""), (status, key)


def test_someone_elses_activity_may_be_read_and_copied_only() -> None:
    d = row_to_dict(_row(status="stopped", status_label="Stopped"), LEO)  # Mia's activity
    assert d["deny_details"] == d["deny_copy"] == d["deny_records"] == ""
    assert d["deny_edit"] == d["deny_start"] == d["deny_delete"] == d["deny_public"] == d["deny_move"]
    assert d["deny_edit"].startswith("Only the activity's creator")


def test_a_manager_reads_only() -> None:
    d = row_to_dict(_row(status="stopped", status_label="Stopped"), MAX)
    read_only = role_refusal(MAX, None, Action.EDIT)
    assert read_only and d["deny_details"] == "" and d["deny_records"] == ""
    assert {d[f"deny_{k}"] for k in ("edit", "copy", "stop", "start", "delete", "move", "public")} == {read_only}
