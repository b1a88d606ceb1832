"""The canvas's states and their event handlers without a browser: the graph edits as pure functions
(canvas_edits), then the real Reflex states in one in-memory state tree (as Reflex builds it under pytest), their
handlers called directly, with a real database and sign-in behind the service calls."""

from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
import reflex as rx
from sqlmodel import Session, select

from engine.db import read_session, write_session
from engine.flow import ops
from engine.models import ActivityVersion, Role, User
from engine.services import auth as auth_service
from engine.services.activities import activity_input
from engine.status import ActivityStatus
from marketing_app.states import canvas_edits as edits
from marketing_app.states.canvas import CanvasState
from marketing_app.states.canvas_config import CanvasConfigState
from marketing_app.states.canvas_header import CanvasHeaderState
from marketing_app.states.canvas_panel import CanvasPanelState
from marketing_app.states.canvas_versions import CanvasVersionsState
from tests import factories as f
from tests.marketing_app.tabs import Tab as BaseTab
from tests.sync_run import run_sync

T = TypeVar("T")


def run(awaitable: Awaitable[T]) -> T:
    return run_sync(awaitable)


def drain(events: AsyncIterator[Any]) -> list[Any]:
    async def collect() -> list[Any]:
        return [e async for e in events]

    return run_sync(collect())


class Tab(BaseTab):
    """A tab whose canvas is being edited."""

    def editing(self, flow: dict[str, Any] | None = None) -> CanvasState:
        doc = self[CanvasState]
        doc.read_only = False
        doc._history = ops.History(present=flow or ops.empty(), limit=100)
        return doc

    def act(self, **action: Any) -> list[Any]:
        return drain(self[CanvasState].act(action))


# ------------------------------------------------------------------------------------------ pure edits


def test_an_added_component_is_selected_but_an_end_is_not() -> None:
    first = edits.edit(ops.empty(), {"kind": "add_first", "type": "target_audience"}, None)
    assert first is not None and first.flow is not None and first.select == "n1" and first.step
    end = edits.edit(first.flow, {"kind": "add", "type": "end", "source": "n1", "branch": "out"}, None)
    assert end is not None and end.flow is not None and end.select == ""
    assert [n["type"] for n in end.flow["nodes"]] == ["target_audience", "end"]
    assert edits.edit(first.flow, {"kind": "nonsense"}, None) is None


def test_delete_and_cut_ask_first_and_apply_on_ok() -> None:
    flow = f.valid_flow()
    asked = edits.edit(flow, {"kind": "delete", "id": "n2"}, None)
    assert asked is not None and asked.flow is None and asked.question is not None
    assert asked.question.title == "Delete Text SMS (n2)?"
    assert asked.question.body == "It is removed with the component on its subsequent link. You can undo this."
    after = edits.confirmed(flow, asked.question.pending)
    assert after is not None and [n["id"] for n in after["nodes"]] == ["n1"]
    cut = edits.edit(flow, {"kind": "cut", "source": "n1", "branch": "out", "target": "n2"}, None)
    assert cut is not None and cut.question is not None and cut.question.kind == "cut"
    assert "with the 2 components after it" in cut.question.body
    assert edits.confirmed(flow, {"kind": "leave"}) is None


def test_refusals_and_nothing_to_do_come_back_as_notes() -> None:
    flow = f.valid_flow()
    loop = edits.edit(flow, {"kind": "connect", "source": "n2", "branch": "out", "target": "n1"}, None)
    assert loop is not None and loop.flow is None and loop.note is not None and loop.note.level == "error"
    paste = edits.edit(flow, {"kind": "paste", "source": "n3", "branch": "out"}, None)
    assert paste is not None and paste.note == edits.Note("info", "Copy a component first (the copy icon above "
                                                                  "it, or Ctrl+C).")
    ends = edits.edit(flow, {"kind": "add_ends"}, None)
    assert ends is not None and ends.note == edits.Note("info", "Every link already ends in a component.")
    laid = edits.edit(flow, {"kind": "layout", "positions": {"n1": {"x": 5, "y": 7}}}, None)
    assert laid is not None and not laid.step and not laid.panel


# ------------------------------------------------------------------------------------------ the states


def test_building_a_flow_drives_the_canvas_and_the_panel() -> None:
    tab = Tab()
    doc = tab.editing()
    panel = tab[CanvasPanelState]
    tab.act(kind="add_first", type="target_audience")
    assert (doc.selected, doc.node_count, doc.dirty, doc.can_undo) == ("n1", 1, True, True)
    assert (panel.node_id, panel.title, panel.read_only) == ("n1", "Target Audience", False)
    tab.act(kind="add", type="text_sms", source="n1", branch="out")
    assert doc.selected == "n2" and panel.title == "Text SMS" and panel.issues > 0

    run(tab[CanvasConfigState].set_field("content", "Hi {name}"))
    assert doc.flow["nodes"][1]["config"]["content"] == "Hi {name}"
    assert any(r.path == "content" for r in panel.rows)
    tab.act(kind="undo")
    assert "content" not in doc.flow["nodes"][1]["config"] or doc.flow["nodes"][1]["config"]["content"] != "Hi {name}"
    assert doc.can_redo
    tab.act(kind="redo")
    assert doc.flow["nodes"][1]["config"]["content"] == "Hi {name}"

    tab.act(kind="escape")
    assert doc.selected == "" and panel.node_id == ""
    tab.act(kind="delete", id="n2")
    assert doc.confirm_open and doc.confirm_kind == "delete" and doc.node_count == 2
    run(doc.confirm())
    assert not doc.confirm_open and [n["id"] for n in doc.flow["nodes"]] == ["n1"] and doc.node_count == 1


def test_a_read_only_canvas_takes_no_edit() -> None:
    tab = Tab()
    doc = tab[CanvasState]
    doc._history = ops.History(present=f.valid_flow(), limit=100)
    doc.read_only = True
    tab.act(kind="add", type="end", source="n3", branch="out")
    tab.act(kind="delete", id="n2")
    assert doc.flow == f.valid_flow() and not doc.dirty and not doc.confirm_open
    tab.act(kind="select", id="n2")
    assert doc.selected == "n2" and tab[CanvasPanelState].read_only and tab[CanvasPanelState].title == "Text SMS"
    run(tab[CanvasConfigState].set_field("content", "changed"))
    assert doc.flow == f.valid_flow()


def test_leaving_asks_when_the_flow_or_the_basic_information_changed() -> None:
    tab = Tab()
    doc = tab.editing(f.valid_flow())
    assert isinstance(run(doc.back()), rx.event.EventSpec)  # nothing changed: straight back to the list
    tab[CanvasHeaderState].changed = True
    assert run(doc.back()) is None and doc.confirm_kind == "leave" and doc.confirm_open


# ------------------------------------------------------------------------------------------ with the services


@pytest.fixture
def signed_in(session: Session, redis_url: str) -> tuple[User, str]:
    """A marketer of a workspace in Asia/Shanghai, signed in (the token the states' service calls use)."""
    ws = f.workspace(session)
    ws.time_zone = "Asia/Shanghai"
    session.add(ws)
    user = f.user(session, ws, Role.MARKETER)
    session.commit()
    with write_session() as s:
        token = auth_service.login(session=s, username=user.username, password="pw")
    return user, token


def _tab_as(token: str) -> Tab:
    tab = Tab()
    tab.sign_in(token)
    return tab


def test_opening_an_executed_activity_copies_the_view(session: Session, signed_in: tuple[User, str]) -> None:
    user, token = signed_in
    activity = f.activity(session, user, status=ActivityStatus.STOPPED, name="Autumn",
                          start_time=datetime(2031, 5, 1, 1, 30, tzinfo=UTC))
    session.commit()
    tab = _tab_as(token)
    doc = tab[CanvasState]
    run(doc.open(activity.id))
    header, versions = tab[CanvasHeaderState], tab[CanvasVersionsState]
    assert doc.loaded and not doc.read_only and doc.node_count == 3 and doc.error == ""
    assert (header.name, header.status_label, header.start_label, header.time_zone) == (
        "Autumn", "Stopped", "2031-05-01 09:30", "Asia/Shanghai")
    assert (versions.version, versions.editing_note) == ("V1", "Saving creates V2; V1 stays as it was.")

    run(doc.save_draft())
    with read_session() as s:
        numbers = s.exec(select(ActivityVersion.number).where(ActivityVersion.activity_id == activity.id)).all()
    assert sorted(numbers) == [1, 2] and not doc.dirty

    run(doc.open(activity.id, mode="details"))
    assert doc.read_only and doc.read_only_reason == "Details: the flow of the latest version, read-only."
    run(doc.open(None))
    assert doc.error == "Activity not found."


def test_basic_information_reads_24_hour_times_in_the_workspace_zone(session: Session,
                                                                     signed_in: tuple[User, str]) -> None:
    user, token = signed_in
    activity = f.activity(session, user, status=ActivityStatus.DRAFT, name="Times")
    session.commit()
    tab = _tab_as(token)
    run(tab[CanvasState].open(activity.id))
    header = tab[CanvasHeaderState]
    run(header.open_info())
    assert header.info_open and (header.info_start, header.info_end) == ("", "")
    header.set_info_start("2031-05-01 9:30")
    run(header.submit_info())
    assert header.info_error == ("Start time: enter the date and 24-hour time as YYYY-MM-DD HH:MM, e.g. "
                                 "2026-12-01 09:30.")
    header.set_info_start("2031-05-01 09:30")
    assert header.info_start_utc == "= 2031-05-01 01:30 UTC"
    run(header.submit_info())
    assert not header.info_open and header.changed and header.start_label == "2031-05-01 09:30"
    run(tab[CanvasState].save_draft())
    with read_session() as s:
        start = activity_input(session=s, actor=s.get(User, user.id), activity_id=activity.id).start_time
    assert start is not None and start.replace(tzinfo=UTC) == datetime(2031, 5, 1, 1, 30, tzinfo=UTC)


def test_publish_lists_the_problems_instead_of_publishing(session: Session, signed_in: tuple[User, str]) -> None:
    user, token = signed_in
    activity = f.activity(session, user, status=ActivityStatus.DRAFT,
                          flow={"nodes": [{"id": "n1", "type": "target_audience", "config": {}}], "edges": []})
    session.commit()
    tab = _tab_as(token)
    doc = tab[CanvasState]
    run(doc.open(activity.id))
    run(doc.publish())
    assert doc.problems_open and doc.problems and all(p.node_id == "n1" for p in doc.problems)
    with read_session() as s:
        assert s.get(type(activity), activity.id).status == ActivityStatus.DRAFT
    run(doc.close_problems())
    assert not doc.problems_open and doc.problems == []
