"""The canvas page (/activities/<id>/canvas): the flow of one activity, edited or read — its document state.

One service call (engine.services.canvas.canvas_view) says what the page shows and allows; `load` copies it
into the canvas's small states: this one (the flow with its undo history, selection, publish problems,
confirmations), CanvasHeaderState (name, status, times, the pencil's Basic information), CanvasVersionsState
(the version shown and the version menu), CanvasTemplateState (template details and hints), CanvasPanelState
(the configuration panel; its field edits are CanvasConfigState's events) and ExecutionState (a read-only
canvas's round and its numbers).

The React Flow component (components/flow_canvas.py) sends coarse actions to `act` ({kind: "add", ...}); each
graph edit is a pure function of states/canvas_edits.py on the present flow, pushed on an ops.History (undo /
redo), and the page re-draws from the result (canvas_model.view: red dots, dashed lines, "+" stubs). Nothing is
written until Save Draft or Publish, which call the activity services inside write_session() (a refusal rolls
back and comes back as a toast).

Query: `mode=edit|details`; `version=<id>` or `record=<id>` show that version read-only (Manage Versions' View,
Execution Records' View). Read-only also when the role may not edit (managers, another marketer's activity).
"""

import re
from dataclasses import dataclass
from typing import Any

import reflex as rx

from engine.flow import ops
from engine.flow.validate import FlowProblem, validate_flow
from engine.services import activities as activity_service
from engine.services import local_time, preferences
from engine.services.canvas import TEMPLATE_HIDDEN_PREFERENCE, canvas_view
from engine.status import ActivityStatus
from marketing_app.routes import HOME_ROUTE, segment
from marketing_app.states import canvas_edits as edits
from marketing_app.states import canvas_form as form
from marketing_app.states import canvas_model as model
from marketing_app.states.analysis import AnalysisState
from marketing_app.states.canvas_header import CanvasHeaderState
from marketing_app.states.canvas_panel import CanvasPanelState
from marketing_app.states.canvas_template import CanvasTemplateState
from marketing_app.states.canvas_versions import CanvasVersionsState
from marketing_app.states.execution import ExecutionState
from marketing_app.states.execution_incoming import IncomingState
from marketing_app.states.service import run

#: undo depth (each step is a whole flow; a few hundred KB at most)
HISTORY_LIMIT = 100
Flow = dict[str, Any]


def _number(text: str) -> int | None:
    return int(text) if str(text).isdigit() else None


@dataclass
class Problem:
    node_id: str = ""
    label: str = ""
    message: str = ""


def problem_rows(flow: Flow, found: list[FlowProblem]) -> list[Problem]:
    """The publish problems in the marketer's words: a component by its label and id, a field by its label, a
    branch as its card shows it."""
    labels = model.node_labels(flow)
    nodes = {str(n["id"]): n for n in flow.get("nodes") or []}

    def words(p: FlowProblem) -> str:
        head, sep, detail = p.message.partition(" is not configured: ")
        if p.node_id not in nodes:
            return p.message
        if not sep:  # "…: the 'group_1' link does not end…": the branch as its card shows it
            def branch(m: re.Match[str]) -> str:
                label = model.branch_label(nodes[p.node_id], m.group(1))
                return f"“{label}” link" if label else "link"

            return re.sub(r"'(\w+)' link", branch, p.message)
        return f"{head} ({p.node_id}) is not configured: " + form.humanize(str(nodes[p.node_id].get("type")), detail)

    return [Problem(node_id=p.node_id or "", label=labels.get(p.node_id or "", "Flow"), message=words(p))
            for p in found]


def _toast(note: edits.Note | None) -> Any:
    if note is None:
        return None
    return {"info": rx.toast.info, "success": rx.toast.success}.get(note.level, rx.toast.error)(note.text)


class CanvasState(rx.State):
    activity_id: int = 0
    mode: str = "edit"
    read_only: bool = True
    read_only_reason: str = ""
    save_refusal: str = ""  # why Save Draft / Publish are refused (the service's words), "" when allowed
    publish_refusal: str = ""
    error: str = ""
    loaded: bool = False
    dirty: bool = False  # the flow changed since it was opened (the header's `changed`: its basic information)

    # ---- what the canvas draws (canvas_model.view of the present flow)
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    palette: list[dict[str, Any]] = []
    rev: int = 0
    selected: str = ""
    copy_mode: str = ""
    can_undo: bool = False
    can_redo: bool = False
    focus: dict[str, Any] = {"id": "", "n": 0}
    node_count: int = 0
    view_key: str = ""  # activity + version shown: a new one re-fits the canvas

    # ---- publish problems
    problems: list[Problem] = []
    problems_open: bool = False

    # ---- confirmation (delete, cut, leave)
    confirm_open: bool = False
    confirm_kind: str = ""
    confirm_title: str = ""
    confirm_body: str = ""

    # ---- backend only
    _history: ops.History | None = None
    _clip: ops.Clipboard | None = None
    _audiences: list[tuple[int, str]] = []
    _problem_list: list[FlowProblem] = []
    _banned: list[str] = []  # the workspace's banned words (moderation), validated as publish does
    _pending: dict[str, Any] = {}
    _panel_stale: bool = False

    # ------------------------------------------------------------------------------------------- loading

    @rx.event
    async def load(self):
        aid = _number(segment(self.router.url.path, 1))  # /activities/<activity_id>/canvas
        query = self.router.url.query_parameters
        version_id, record_id = _number(query.get("version", "")), _number(query.get("record", ""))
        mode = "details" if query.get("mode") == "details" else "edit"
        return await self.open(aid, mode=mode, version_id=version_id, record_id=record_id)

    async def open(self, aid: int | None, *, mode: str = "edit", version_id: int | None = None,
                   record_id: int | None = None) -> Any:
        """Show activity `aid` (None: not a number) as the canvas view service says; the page's query in
        arguments, so tests open a canvas without a router."""
        self.reset()
        for state in (CanvasPanelState, CanvasHeaderState, CanvasVersionsState, CanvasTemplateState):
            (await self.get_state(state)).reset()
        (await self.get_state(ExecutionState)).show(None, record_query=None, version_query=None)
        self.mode, self.activity_id = mode, aid or 0
        if aid is None:
            self.error, self.loaded = "Activity not found.", True
            return None
        out = await run(self, lambda s, u: canvas_view(session=s, actor=u, activity_id=aid, mode=mode,
                                                       version_id=version_id, record_id=record_id))
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.error, self.loaded = out.error or "Activity not found.", True
            return None
        view = out.value
        self.view_key = f"{aid}:{view.version_label}:{record_id or ''}"
        self.read_only_reason, self.read_only = view.read_only_reason, view.read_only
        self.save_refusal, self.publish_refusal = view.save_why_not, view.publish_why_not
        self.mode = "details" if self.read_only else "edit"
        self._audiences = view.audiences
        self._banned = view.banned_words
        self._history = ops.History(present=view.flow, limit=HISTORY_LIMIT)
        self.palette = [] if self.read_only else model.palette()
        (await self.get_state(CanvasHeaderState)).show(view)
        (await self.get_state(CanvasVersionsState)).show(view)
        (await self.get_state(CanvasTemplateState)).show(view)
        await self._redraw()
        await self.flush_panel()
        (await self.get_state(ExecutionState)).show(view.execution, record_query=record_id, version_query=version_id,
                                                    labels=model.node_labels(self.flow))
        (await self.get_state(IncomingState)).close_quietly()
        self.loaded = True
        return AnalysisState.close_panel

    # ------------------------------------------------------------------------------------------- drawing

    @property
    def flow(self) -> Flow:
        return self._history.present if self._history else ops.empty()

    async def _redraw(self, *, panel: bool = True) -> None:
        flow = self.flow
        if self.problems_open:
            self._problem_list = validate_flow(flow, self._banned)
            self.problems = problem_rows(flow, self._problem_list)
        template = await self.get_state(CanvasTemplateState)
        self.nodes, self.edges = model.view(flow, problems=self._problem_list if self.problems_open else [],
                                            audiences=dict(self._audiences), hints=template.hints(flow))
        self.node_count = len(self.nodes)
        self.rev += 1
        self.can_undo = bool(self._history and self._history.can_undo) and not self.read_only
        self.can_redo = bool(self._history and self._history.can_redo) and not self.read_only
        if self.selected and self.selected not in {n["id"] for n in self.nodes}:
            self.selected = ""
        template.refresh(flow, self.nodes)
        if panel:
            self._panel_stale = True

    async def flush_panel(self) -> None:
        """Bring the panel up to date with the selection and its config (only what changed is sent)."""
        if not self._panel_stale:
            return
        self._panel_stale = False
        panel = await self.get_state(CanvasPanelState)
        panel.refresh(self.flow, self.selected, read_only=self.read_only, audiences=list(self._audiences))

    async def _renew_panel(self) -> None:
        (await self.get_state(CanvasPanelState)).renew()
        self._panel_stale = True

    async def _apply(self, change: edits.Edit) -> Any:
        """An edit on the history: an undo step (or, for the canvas's own layout, the present flow replaced)."""
        if change.question is not None:
            q = change.question
            self._pending = q.pending
            self.confirm_kind, self.confirm_title, self.confirm_body = q.kind, q.title, q.body
            self.confirm_open = True
        if change.flow is not None and self._history is not None and change.flow != self._history.present:
            if change.step:
                self._history.push(change.flow)
                self.dirty = True
            else:
                self._history.present = change.flow
            if change.select is not None:
                self.selected = change.select
                await self._renew_panel()
            await self._redraw(panel=change.panel)
        return _toast(change.note)

    # ------------------------------------------------------------------------------------------- for the panel

    def selected_config(self) -> tuple[str, dict[str, Any]] | None:
        """The selected component's type and config, when the canvas is editable."""
        node = next((n for n in self.flow.get("nodes") or [] if str(n["id"]) == self.selected), None)
        if node is None or self.read_only:
            return None
        return str(node.get("type")), dict(node.get("config") or {})

    async def configure(self, config: dict[str, Any], *, renew: bool = False) -> None:
        """The selected component's new config, as one undo step; the panel follows."""
        new = ops.configure(self.flow, self.selected, config)
        if self._history is not None and new != self._history.present:
            self._history.push(new)
            self.dirty = True
            if renew:
                await self._renew_panel()
            await self._redraw()
        self._panel_stale = True
        await self.flush_panel()

    async def refresh_panel(self, *, renew: bool = False) -> None:
        if renew:
            await self._renew_panel()
        self._panel_stale = True
        await self.flush_panel()

    async def select(self, node_id: str) -> None:
        if node_id == self.selected:
            return
        self.selected = node_id
        await self._renew_panel()

    # ------------------------------------------------------------------------------------------- actions

    @rx.event
    async def act(self, action: dict[str, Any]):
        """One coarse action from the canvas (see assets/canvas/flow_canvas.jsx). The new graph goes out first;
        the configuration panel of a newly selected component follows in a second update."""
        result = await self._dispatch(action)
        if self._panel_stale:
            yield result
            await self.flush_panel()
        elif result is not None:
            yield result

    async def _dispatch(self, action: dict[str, Any]) -> Any:
        kind = str(action.get("kind") or "")
        if kind == "select":
            return await self.select(str(action.get("id") or ""))
        if kind == "escape":
            if self.copy_mode:
                self.copy_mode, self._clip = "", None
            elif self.selected:
                await self.select("")
            return None
        if kind == "hint":
            (await self.get_state(CanvasTemplateState)).open_hint(self.flow, str(action.get("id") or ""))
            return None
        if self.read_only or self._history is None:
            return None
        if kind in ("undo", "redo"):
            return await self._step(kind)
        if kind == "copy":
            subtree = bool(action.get("subtree"))
            try:
                self._clip = ops.copy_node(self.flow, str(action.get("id")), with_subsequent=subtree)
            except ops.FlowError as err:
                return rx.toast.error(str(err))
            self.copy_mode = "subtree" if subtree and len(self._clip.nodes) > 1 else "one"
            return None
        change = edits.edit(self.flow, action, self._clip)
        return None if change is None else await self._apply(change)

    async def _step(self, kind: str) -> None:
        history = self._history
        if history is None or not (history.can_undo if kind == "undo" else history.can_redo):
            return
        history.undo() if kind == "undo" else history.redo()
        self.dirty = True
        await self._renew_panel()
        await self._redraw()

    # ------------------------------------------------------------------------------------------- confirm

    @rx.event
    def set_confirm_open(self, is_open: bool):
        self.confirm_open = is_open
        if not is_open:
            self._pending = {}

    @rx.event
    async def confirm(self):
        pending, self._pending = dict(self._pending), {}
        self.confirm_open = False
        if pending.get("kind") == "leave":
            return rx.redirect(HOME_ROUTE)
        if self.read_only or self._history is None:
            return None
        try:
            new = edits.confirmed(self.flow, pending)
        except ops.FlowError as err:
            return rx.toast.error(str(err))
        if new is not None:
            await self._apply(edits.Edit(flow=new))
        await self.flush_panel()
        return None

    # ------------------------------------------------------------------------------------------- problems

    @rx.event
    async def show_problem(self, node_id: str):
        """A problem or a template's key component was clicked: select it and bring it into view."""
        if not node_id:
            return
        await self.select(node_id)
        self.focus = {"id": node_id, "n": int(self.focus.get("n", 0)) + 1}
        await self.flush_panel()

    @rx.event
    async def close_problems(self):
        self.problems_open = False
        self._problem_list = []
        self.problems = []
        await self._redraw(panel=False)

    @rx.event
    async def hide_template(self):
        """Template details: "Don't show again" (a preference of the user), and the cards' hints go."""
        out = await run(self, lambda s, u: preferences.set_preference(
            session=s, actor=u, key=TEMPLATE_HIDDEN_PREFERENCE, value=True), write=True)
        if not out.ok:
            return out.problem()
        (await self.get_state(CanvasTemplateState)).hide()
        await self._redraw(panel=False)
        return rx.toast.info("Template details hidden. They will not show again.")

    # ------------------------------------------------------------------------------------------- leave, save

    @rx.event
    async def back(self):
        changed = (await self.get_state(CanvasHeaderState)).changed
        if (self.dirty or changed) and not self.read_only:
            self._pending = {"kind": "leave"}
            self.confirm_kind = "leave"
            self.confirm_title = "Leave without saving?"
            self.confirm_body = "Your changes to the flow have not been saved. Save Draft keeps them."
            self.confirm_open = True
            return None
        return rx.redirect(HOME_ROUTE)

    @rx.event
    async def save_draft(self):
        if self.read_only or self.save_refusal:
            return rx.toast.error(self.read_only_reason or self.save_refusal)
        header = await self.get_state(CanvasHeaderState)
        aid, flow, data = self.activity_id, self.flow, header.activity_input()
        out = await run(self, lambda s, u: str(activity_service.save_draft(
            session=s, actor=u, activity_id=aid, data=data, flow=flow).name), write=True)
        if not out.ok:
            return out.problem()
        self.dirty, header.changed = False, False
        return [rx.toast.success(f"Saved “{out.value}” as a draft."), rx.redirect(HOME_ROUTE)]

    @rx.event
    async def publish(self):
        if self.read_only or self.publish_refusal:
            return rx.toast.error(self.read_only_reason or self.publish_refusal)
        problems = validate_flow(self.flow, self._banned)
        if problems:
            self._problem_list = problems
            self.problems_open = True
            await self._redraw(panel=False)
            count = len(problems)
            return rx.toast.error(f"The flow cannot be published yet: {count} problem{'s' if count != 1 else ''}, "
                                  "listed at the top left of the canvas.")
        header = await self.get_state(CanvasHeaderState)
        aid, flow, data = self.activity_id, self.flow, header.activity_input()

        def go(s, u):  # noqa: ANN001, ANN202 — run's call
            activity = activity_service.publish(session=s, actor=u, activity_id=aid, data=data, flow=flow)
            return activity.name, ActivityStatus(activity.status), activity.start_time

        out = await run(self, go, write=True)
        if not out.ok or out.value is None:
            return out.problem()
        name, status, start = out.value
        self.dirty, header.changed = False, False
        self.problems_open = False
        if status == ActivityStatus.NOT_STARTED and start is not None:
            when = f"{local_time.format_local(start, header.time_zone)} {header.time_zone}"
            message = f"Published “{name}”: it starts at {when} (Not Started until then)."
        else:
            message = f"Published “{name}”: {status.label} now."
        return [rx.toast.success(message), rx.redirect(HOME_ROUTE)]
