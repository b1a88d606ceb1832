"""The canvas page (/activities/<id>/canvas): the flow of one activity, edited or read.

Reflex state owns the graph. The React Flow component (components/flow_canvas.py) sends coarse actions to `act`
({kind: "add", ...}); each one is a pure operation of engine.flow.ops on the present flow, pushed on an
ops.History (undo / redo), and the page re-draws from the result (canvas_model.view: red dots, dashed lines,
"+" stubs). The right-hand panel edits the selected component's config through canvas_form, one field at a
time, each edit an ops.configure step. Nothing is written until Save Draft or Publish, which call the activity
services inside write_session() (a refusal rolls back and comes back as a toast).

Query: `mode=edit|details`; `version=<id>` or `record=<id>` show that version read-only (Manage Versions' View,
Execution Records' View). Read-only also when the role may not edit (managers, another marketer's activity).
A read-only canvas shows the execution data of a round (engine.services.execution.execution_view: Details the
latest round, a version its latest round, a record itself) through ExecutionState (states/execution.py).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import reflex as rx

from engine.errors import NotFound
from engine.flow import ops
from engine.flow.registry import get_spec
from engine.flow.templates import get_template
from engine.flow.validate import FlowProblem, validate_flow
from engine.models import User
from engine.permissions import role_refusal
from engine.services import activities as activity_service
from engine.services import execution as execution_service
from engine.services import groups as group_service
from engine.services import preferences
from engine.services import secrets as secret_service
from engine.services import versions as version_service
from engine.services.audiences import list_audiences
from engine.services.campaigns import list_catalogue
from engine.services.execution import ExecutionView
from engine.status import Action, ActivityStatus, VersionState
from marketing_app.states import canvas_form as form
from marketing_app.states import canvas_model as model
from marketing_app.states.activities import canvas_route
from marketing_app.states.activity_form import parse_local
from marketing_app.states.analysis import AnalysisState
from marketing_app.states.campaigns import CampaignChoice, to_options
from marketing_app.states.execution import ExecutionState
from marketing_app.states.execution_incoming import IncomingState
from marketing_app.states.groups import UNGROUPED, GroupOption, options
from marketing_app.states.service import run

HOME = "/"
TEMPLATE_HIDDEN_PREFERENCE = "canvas.template_details.hidden"
#: undo depth (each step is a whole flow; a few hundred KB at most)
HISTORY_LIMIT = 100


def _number(text: str) -> int | None:
    return int(text) if str(text).isdigit() else None


def _local(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M") if value else ""


def _clean(message: str) -> str:
    return message.replace("String should have at least 1 character", "required")


@dataclass
class VersionChoice:
    id: str = ""
    label: str = ""
    note: str = ""
    current: bool = False
    shown: bool = False


@dataclass
class KeyItem:
    node_id: str = ""
    label: str = ""
    hint: str = ""
    action: str = ""
    configured: bool = False


@dataclass
class Problem:
    node_id: str = ""
    label: str = ""
    message: str = ""


@dataclass
class _Loaded:
    name: str
    status: str
    status_label: str
    owner_id: int
    version_label: str
    version_note: str
    execution: ExecutionView | None  # a read-only canvas's round and its numbers (None while editing)
    versions: list[VersionChoice]
    flow: dict[str, Any]
    read_only_reason: str
    editing_note: str
    data: dict[str, Any]
    audiences: list[tuple[int, str]]
    template_key: str
    template_hidden: bool


def _load(session, actor: User, aid: int, mode: str, version_id: int | None, record_id: int | None) -> _Loaded:
    activity = activity_service.get_activity(session=session, actor=actor, activity_id=aid)
    versions = version_service.list_versions(session=session, actor=actor, activity_id=aid)
    refusal = role_refusal(actor, activity, Action.EDIT) or ""
    view = None
    if refusal or mode == "details" or record_id is not None or version_id is not None:
        # which version and round a read-only canvas shows, with the round's execution data
        view = execution_service.execution_view(session=session, actor=actor, activity_id=aid, record_id=record_id,
                                                version_id=version_id)
        shown = next((v for v in versions if v.id == view.version_id), None)
    else:
        shown = next((v for v in versions if v.is_current), versions[0] if versions else None)
    if shown is None:
        raise NotFound("Version not found.")
    flow = version_service.view_version(session=session, actor=actor, version_id=shown.id)
    if not refusal and (record_id is not None or (version_id is not None and not shown.is_current)):
        refusal = f"You are viewing V{shown.number}. Open the current version to edit."
    if not refusal and mode == "details":
        refusal = "Details: the flow of the latest version, read-only."
    status = ActivityStatus(activity.status)
    editing_note = ""
    if shown.is_current and shown.state == VersionState.PUBLISHED and status != ActivityStatus.NOT_STARTED:
        last = max(v.number for v in versions)
        editing_note = f"Saving creates V{last + 1}; V{shown.number} " + (
            "keeps running until you publish." if status == ActivityStatus.IN_PROGRESS else "stays as it was.")
    if shown.is_current:
        note = "current version" + (", a draft" if shown.state == VersionState.DRAFT
                                     and status != ActivityStatus.DRAFT else "")
    else:
        note = shown.status_label.lower()
    live = next((v for v in versions if v.is_live), None)
    if live is not None and live.id != shown.id and status == ActivityStatus.IN_PROGRESS:
        note += f" · V{live.number} is running"
    data = activity_service.activity_input(session=session, actor=actor, activity_id=aid).model_dump()
    template = get_template(activity.template_key or "")
    hidden = bool(preferences.get_preference(session=session, actor=actor, key=TEMPLATE_HIDDEN_PREFERENCE,
                                             default=False))
    return _Loaded(
        name=activity.name, status=str(activity.status), status_label=status.label, owner_id=activity.owner_id,
        version_label=f"V{shown.number}", version_note=note, execution=view if refusal else None,
        versions=[VersionChoice(id=str(v.id), label=f"V{v.number}",
                                note=f"{v.status_label} · {v.author_name} · {v.created_at:%Y-%m-%d %H:%M}",
                                current=v.is_current, shown=v.id == shown.id) for v in versions],
        flow={"nodes": list(flow.get("nodes") or []), "edges": list(flow.get("edges") or [])},
        read_only_reason=refusal, editing_note=editing_note, data=data,
        audiences=[(a.id, a.name) for a in list_audiences(session=session, actor=actor) if a.id is not None],
        template_key=template.key if template else "", template_hidden=hidden,
    )


def _info_options(session, actor: User) -> tuple[list[Any], list[GroupOption]]:
    return (to_options(list_catalogue(session=session, actor=actor)),
            options(group_service.list_tree(session=session, actor=actor)))


class CanvasState(CampaignChoice, rx.State):
    # ---- the activity and the version shown
    activity_id: int = 0
    name: str = ""
    status: str = ""
    status_label: str = ""
    version: str = ""
    version_note: str = ""
    versions: list[VersionChoice] = []
    mode: str = "edit"
    read_only: bool = True
    read_only_reason: str = ""
    editing_note: str = ""
    error: str = ""
    loaded: bool = False
    dirty: bool = False

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

    # ---- the configuration panel lives in CanvasPanelState (its own context: a graph change does not
    #      re-render the panel, a field edit does not re-render the canvas)
    _panel_gen: int = 0
    _panel_stale: bool = False

    # ---- confirmation (delete, cut, leave)
    confirm_open: bool = False
    confirm_kind: str = ""
    confirm_title: str = ""
    confirm_body: str = ""

    # ---- template details and hints
    template_name: str = ""
    key_items: list[KeyItem] = []
    template_open: bool = True
    template_visible: bool = False
    hint_open: bool = False
    hint_title: str = ""
    hint_action: str = ""
    hint_detail: str = ""

    # ---- pencil: name, description, sub-campaigns, start / end, group
    info_open: bool = False
    info_name: str = ""
    info_description: str = ""
    info_start: str = ""
    info_end: str = ""
    info_group: str = UNGROUPED
    info_error: str = ""
    group_options: list[GroupOption] = []
    start_label: str = ""
    end_label: str = ""

    # ---- backend only
    _history: ops.History | None = None
    _clip: ops.Clipboard | None = None
    _data: dict[str, Any] = {}
    _audiences: list[tuple[int, str]] = []
    _template_key: str = ""
    _problem_list: list[FlowProblem] = []
    _pending: dict[str, Any] = {}
    _replacing: set[str] = set()  # "<node>:<secret row key>" of write-only fields whose replace was clicked

    # ------------------------------------------------------------------------------------------- loading

    @rx.event
    async def load(self):
        params = self.router.page.params
        aid = _number(str(params.get("activity_id", "")))
        query = self.router.url.query_parameters
        version_id, record_id = _number(query.get("version", "")), _number(query.get("record", ""))
        mode = "details" if query.get("mode") == "details" else "edit"
        self.reset()
        (await self.get_state(CanvasPanelState)).reset()
        (await self.get_state(ExecutionState)).show(None, record_query=None, version_query=None)
        self.mode, self.activity_id = mode, aid or 0
        if aid is None:
            self.error, self.loaded = "Activity not found.", True
            return None
        out = await run(self, lambda s, u: _load(s, u, aid, mode, version_id, record_id))
        if out.signed_out:
            return out.problem()
        if out.error or out.value is None:
            self.error, self.loaded = out.error or "Activity not found.", True
            return None
        got = out.value
        self.name, self.status, self.status_label = got.name, got.status, got.status_label
        self.version, self.version_note = got.version_label, got.version_note
        self.versions = got.versions
        self.view_key = f"{aid}:{got.version_label}:{record_id or ''}"
        self.read_only_reason = got.read_only_reason
        self.read_only = bool(got.read_only_reason)
        self.mode = "details" if self.read_only else "edit"
        self.editing_note = "" if self.read_only else got.editing_note
        self._data, self._audiences = got.data, got.audiences
        self._set_time_labels()
        self._history = ops.History(present=got.flow, limit=HISTORY_LIMIT)
        self.palette = [] if self.read_only else model.palette()
        self._load_template(got.template_key, got.template_hidden)
        self._render()
        await self._flush_panel()
        (await self.get_state(ExecutionState)).show(got.execution, record_query=record_id, version_query=version_id,
                                                    labels=model.node_labels(self._flow))
        incoming = await self.get_state(IncomingState)
        incoming.close_quietly()
        self.loaded = True
        return AnalysisState.close_panel

    def _set_time_labels(self) -> None:
        def show(value: Any) -> str:
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else ""

        self.start_label = show(self._data.get("start_time")) or "on publish"
        self.end_label = show(self._data.get("end_time")) or "until stopped"

    def _load_template(self, key: str, hidden: bool) -> None:
        template = get_template(key) if key else None
        self._template_key = template.key if template and not hidden else ""
        self.template_name = template.name if template else ""
        self.template_visible = bool(self._template_key) and not self.read_only
        self.template_open = True

    # ------------------------------------------------------------------------------------------- drawing

    @property
    def _flow(self) -> dict[str, Any]:
        return self._history.present if self._history else ops.empty()

    def _key_components(self) -> list[Any]:
        """The template's key components still in the flow (same id, same type as the template placed)."""
        template = get_template(self._template_key) if self._template_key else None
        if template is None:
            return []
        preset = {str(n["id"]): n.get("type") for n in template.flow["nodes"]}
        here = {str(n["id"]): n.get("type") for n in self._flow.get("nodes") or []}
        return [k for k in template.key_components if k.node_id in here and here[k.node_id] == preset.get(k.node_id)]

    def _hints(self) -> dict[str, dict[str, str]]:
        return {k.node_id: {"text": k.hint, "action": k.action} for k in self._key_components()}

    def _render(self, *, panel: bool = True) -> None:
        flow = self._flow
        if self.problems_open:
            self._problem_list = validate_flow(flow)
            self._show_problems()
        highlighted = self._problem_list if self.problems_open else []
        self.nodes, self.edges = model.view(flow, problems=highlighted, audiences=dict(self._audiences),
                                            hints=self._hints())
        self.node_count = len(self.nodes)
        self.rev += 1
        self.can_undo = bool(self._history and self._history.can_undo) and not self.read_only
        self.can_redo = bool(self._history and self._history.can_redo) and not self.read_only
        ids = {n["id"] for n in self.nodes}
        if self.selected and self.selected not in ids:
            self.selected = ""
        if self._template_key:
            done = {n["id"]: n["configured"] for n in self.nodes}
            labels = model.node_labels(flow)
            self.key_items = [KeyItem(node_id=k.node_id, label=labels.get(k.node_id, k.node_id), hint=k.hint,
                                      action=k.action, configured=done.get(k.node_id, False))
                              for k in self._key_components()]
        if panel:
            self._panel_stale = True

    def _show_problems(self) -> None:
        labels = model.node_labels(self._flow)
        types = {str(n["id"]): str(n.get("type")) for n in self._flow.get("nodes") or []}

        nodes = {str(n["id"]): n for n in self._flow.get("nodes") or []}

        def words(p: FlowProblem) -> str:
            head, sep, detail = p.message.partition(" is not configured: ")
            if p.node_id not in types:
                return p.message
            if not sep:  # "…: the 'group_1' link does not end…": the branch as its card shows it
                def branch(m: re.Match[str]) -> str:
                    label = model.branch_label(nodes[p.node_id], m.group(1))
                    return f"“{label}” link" if label else "link"

                return re.sub(r"'(\w+)' link", branch, p.message)
            return f"{head} ({p.node_id}) is not configured: " + form.humanize(types[p.node_id], detail)

        self.problems = [Problem(node_id=p.node_id or "", label=labels.get(p.node_id or "", "Flow"),
                                 message=words(p)) for p in self._problem_list]

    def _panel_view(self) -> dict[str, Any]:
        """What CanvasPanelState shows for the selected component."""
        node = next((n for n in self._flow.get("nodes") or [] if str(n["id"]) == self.selected), None)
        spec = get_spec(str(node.get("type"))) if node else None
        if node is None or spec is None:
            return {"node_id": "", "rows": [], "title": "", "type": "", "category": "", "icon": "", "problems": [],
                    "issues": 0}
        config = node.get("config") or {}
        problems = [_clean(p) for p in spec.validate(config)]
        sources = model.send_sources(self._flow, self.selected)
        ctx = form.Context(spec.type, gen=self._panel_gen, audiences=list(self._audiences), sources=sources,
                           errors={k: _clean(v) for k, v in form.problems_by_path(problems).items()},
                           replacing={k.partition(":")[2] for k in self._replacing
                                      if k.partition(":")[0] == self.selected})
        rows = form.rows(spec.type, config, ctx)
        return {"node_id": self.selected, "rows": rows, "title": spec.label, "type": spec.type,
                "category": spec.category.value, "icon": model.CATEGORY_KEY[spec.category],
                "problems": [form.humanize(spec.type, p) for p in ctx.unshown(problems)], "issues": len(problems)}

    async def _flush_panel(self) -> None:
        """Bring the panel up to date with the selection and its config (only what changed is sent)."""
        if not self._panel_stale:
            return
        self._panel_stale = False
        panel = await self.get_state(CanvasPanelState)
        panel.show(self._panel_view(), read_only=self.read_only)

    def _commit(self, flow: dict[str, Any], *, select: str | None = None, panel_reset: bool = False) -> None:
        if self._history is None or flow == self._history.present:
            return
        self._history.push(flow)
        self.dirty = True
        if select is not None:
            self.selected = select
            panel_reset = True
        if panel_reset:
            self._panel_gen += 1
        self._render()

    # ------------------------------------------------------------------------------------------- actions

    @rx.event
    async def act(self, action: dict[str, Any]):
        """One coarse action from the canvas (see assets/canvas/flow_canvas.jsx). The new graph goes out first;
        the configuration panel of a newly selected component follows in a second update."""
        result = self._dispatch(action)
        if self._panel_stale:
            yield result
            await self._flush_panel()
        elif result is not None:
            yield result

    def _dispatch(self, action: dict[str, Any]):
        kind = str(action.get("kind") or "")
        if kind == "select":
            return self._select(str(action.get("id") or ""))
        if kind == "escape":
            return self._escape()
        if kind == "hint":
            return self._open_hint(str(action.get("id") or ""))
        if self.read_only or self._history is None:
            return None
        handler = getattr(self, f"_do_{kind}", None)
        if handler is None:
            return None
        try:
            return handler(action)
        except ops.FlowError as err:
            return rx.toast.error(str(err))

    def _select(self, node_id: str):
        if node_id == self.selected:
            return None
        self.selected = node_id
        self._panel_gen += 1
        self._panel_stale = True
        return None

    def _escape(self):
        if self.copy_mode:
            self.copy_mode, self._clip = "", None
        elif self.selected:
            self._select("")
        return None

    def _starter(self, component_type: str) -> dict[str, Any]:
        return model.starter_config(component_type)

    def _after_add(self, flow: dict[str, Any], node_id: str, component_type: str) -> None:
        self._commit(flow, select="" if model.terminal(component_type) else node_id)

    def _do_add_first(self, a: dict[str, Any]):
        t = str(a.get("type"))
        flow, nid = ops.add_node(self._flow, t, config=self._starter(t))
        self._after_add(flow, nid, t)

    def _do_add(self, a: dict[str, Any]):
        t, source, branch = str(a.get("type")), str(a.get("source")), str(a.get("branch") or "out")
        position = None
        if isinstance(a.get("x"), int | float) and isinstance(a.get("y"), int | float):
            position = {"x": float(a["x"]), "y": float(a["y"])}
        else:
            position = model.place(self._flow, source, branch)
        flow, nid = ops.add_node(self._flow, t, after=(source, branch), config=self._starter(t), position=position)
        self._after_add(model.unclutter(flow, [nid]), nid, t)

    def _do_insert(self, a: dict[str, Any]):
        t = str(a.get("type"))
        flow, nid = ops.insert_on_link(self._flow, source=str(a.get("source")), branch=str(a.get("branch")),
                                       target=str(a.get("target")), component_type=t, config=self._starter(t))
        self._after_add(flow, nid, t)

    def _do_connect(self, a: dict[str, Any]):
        self._commit(ops.connect(self._flow, source=str(a.get("source")), branch=str(a.get("branch") or "out"),
                                 target=str(a.get("target"))))

    def _do_move(self, a: dict[str, Any]):
        flow = ops.move_node(self._flow, str(a.get("id")), {"x": float(a.get("x", 0)), "y": float(a.get("y", 0))})
        if self._history is not None and flow != self._history.present:
            self._history.push(flow)
            self.dirty = True
            self._render(panel=False)

    def _do_tidy(self, a: dict[str, Any]):
        """Tidy up: the layout the canvas computed (elkjs), as one undoable step."""
        self._commit(model.with_positions(self._flow, a.get("positions")))

    def _do_layout(self, a: dict[str, Any]):
        """A flow opened without saved positions, laid out by the canvas: kept as the present flow (not an undo
        step, not an unsaved change) so moves and saves start from what the marketer sees."""
        if self._history is None:
            return
        flow = model.with_positions(self._flow, a.get("positions"))
        if flow != self._history.present:
            self._history.present = flow
            self._render(panel=False)

    def _do_add_ends(self, _a: dict[str, Any]):
        flow, added = ops.add_end_to_open_links(self._flow)
        flow = model.unclutter(flow, added)
        if not added:
            return rx.toast.info("Every link already ends in a component.")
        self._commit(flow)
        return rx.toast.success(f"Added {len(added)} End component{'s' if len(added) != 1 else ''}.")

    def _do_undo(self, _a: dict[str, Any]):
        if self._history and self._history.can_undo:
            self._history.undo()
            self.dirty = True
            self._panel_gen += 1
            self._render()

    def _do_redo(self, _a: dict[str, Any]):
        if self._history and self._history.can_redo:
            self._history.redo()
            self.dirty = True
            self._panel_gen += 1
            self._render()

    def _do_copy(self, a: dict[str, Any]):
        subtree = bool(a.get("subtree"))
        self._clip = ops.copy_node(self._flow, str(a.get("id")), with_subsequent=subtree)
        self.copy_mode = "subtree" if subtree and len(self._clip.nodes) > 1 else "one"
        return None

    def _do_paste(self, a: dict[str, Any]):
        if self._clip is None:
            return rx.toast.info("Copy a component first (the copy icon above it, or Ctrl+C).")
        flow, mapping = ops.paste(self._flow, self._clip, after=(str(a.get("source")), str(a.get("branch"))))
        if len(mapping) == 1:
            flow = model.unclutter(flow, list(mapping.values()))
        self._commit(flow, select=mapping.get(self._clip.root, ""))
        return None

    def _do_paste_link(self, a: dict[str, Any]):
        if self._clip is None:
            return None
        root = next(n for n in self._clip.nodes if str(n["id"]) == self._clip.root)
        flow, nid = ops.insert_on_link(self._flow, source=str(a.get("source")), branch=str(a.get("branch")),
                                       target=str(a.get("target")), component_type=str(root.get("type")),
                                       config=dict(root.get("config") or {}))
        self._commit(flow, select=nid)
        return None

    def _do_paste_selected(self, a: dict[str, Any]):
        if self._clip is None:
            return None
        node_id = str(a.get("id") or "")
        free = [b for n, b in ops.open_links(self._flow) if n == node_id]
        if not free:
            return rx.toast.info("Select a component with a free link, or click a + to paste.")
        return self._do_paste({"source": node_id, "branch": free[0]})

    def _do_delete(self, a: dict[str, Any]):
        node_id = str(a.get("id") or "")
        _, doomed = ops.delete_with_subsequent(self._flow, node_id)
        labels = model.node_labels(self._flow)
        others = len(doomed) - 1
        self._pending = {"kind": "delete", "id": node_id}
        self.confirm_kind = "delete"
        self.confirm_title = f"Delete {labels.get(node_id, node_id)}?"
        self.confirm_body = ("It is removed with " + (f"the {others} components on its subsequent links."
                             if others > 1 else "the component on its subsequent link." if others == 1
                             else "no subsequent components.") + " You can undo this.")
        self.confirm_open = True
        return None

    def _do_cut(self, a: dict[str, Any]):
        source, branch, target = str(a.get("source")), str(a.get("branch") or "out"), str(a.get("target"))
        _, doomed = ops.cut_link(self._flow, source=source, branch=branch, target=target)
        labels = model.node_labels(self._flow)
        self._pending = {"kind": "cut", "source": source, "branch": branch, "target": target}
        self.confirm_kind = "cut"
        self.confirm_title = "Cut this line?"
        self.confirm_body = (f"The line from {labels.get(source, source)} to {labels.get(target, target)} is "
                             "removed" + (f", with the {len(doomed)} components after it that no other line "
                                          "reaches." if doomed else ".") + " You can undo this.")
        self.confirm_open = True
        return None

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
        kind = pending.get("kind")
        if kind == "leave":
            return rx.redirect(HOME)
        if self.read_only or self._history is None:
            return None
        try:
            if kind == "delete":
                flow, _ = ops.delete_with_subsequent(self._flow, str(pending["id"]))
                self._commit(flow)
            elif kind == "cut":
                flow, _ = ops.cut_link(self._flow, source=pending["source"], branch=pending["branch"],
                                       target=pending["target"])
                self._commit(flow)
        except ops.FlowError as err:
            return rx.toast.error(str(err))
        await self._flush_panel()
        return None

    # ------------------------------------------------------------------------------------------- the panel

    def _config(self) -> tuple[str, dict[str, Any]] | None:
        node = next((n for n in self._flow.get("nodes") or [] if str(n["id"]) == self.selected), None)
        if node is None or self.read_only:
            return None
        return str(node.get("type")), dict(node.get("config") or {})

    def _configure(self, config: dict[str, Any], *, reset: bool = False) -> None:
        self._commit(ops.configure(self._flow, self.selected, config), panel_reset=reset)
        self._panel_stale = True

    @rx.event
    async def set_field(self, path: str, text: str):
        got = self._config()
        if got is not None:
            self._configure(form.set_text(got[0], got[1], path, text))
            await self._flush_panel()

    @rx.event
    async def set_switch(self, path: str, checked: bool):
        got = self._config()
        if got is not None:
            self._configure(form.set_at(got[1], path, bool(checked)))
            await self._flush_panel()

    @rx.event
    async def toggle_choice(self, path: str, choice: str):
        got = self._config()
        if got is not None:
            self._configure(form.toggle_choice(got[1], path, choice))
            await self._flush_panel()

    @rx.event
    async def add_item(self, path: str):
        got = self._config()
        if got is not None:
            self._configure(form.add_item(got[0], got[1], path), reset=True)
            await self._flush_panel()

    @rx.event
    async def remove_item(self, path: str):
        got = self._config()
        if got is not None:
            self._configure(form.remove_item(got[1], path), reset=True)
            await self._flush_panel()

    @rx.event
    async def add_pair(self, path: str):
        got = self._config()
        if got is not None:
            self._configure(form.add_pair(got[1], path), reset=True)
            await self._flush_panel()

    @rx.event
    async def rename_pair(self, path: str, index: int, key: str):
        got = self._config()
        if got is not None:
            renamed = form.rename_pair(got[1], path, int(index), key)
            if renamed == got[1]:  # refused (empty or taken): the box shows the name kept
                self._panel_gen += 1
                self._panel_stale = True
            self._configure(renamed)
            await self._flush_panel()

    @rx.event
    async def set_pair(self, path: str, index: int, value: str):
        got = self._config()
        if got is not None:
            self._configure(form.set_pair_value(got[1], path, int(index), value))
            await self._flush_panel()

    @rx.event
    async def remove_pair(self, path: str, index: int):
        got = self._config()
        if got is not None:
            self._configure(form.remove_pair(got[1], path, int(index)), reset=True)
            await self._flush_panel()

    @rx.event
    async def replace_secret(self, path: str, index: int):
        """"set · replace": show the write-only input of a secret that is set (its value is never shown)."""
        if self._config() is not None:
            self._replacing = self._replacing | {f"{self.selected}:{form.secret_key(path, int(index))}"}
            self._panel_stale = True
            await self._flush_panel()

    @rx.event
    async def set_secret(self, path: str, index: int, value: str):
        """A value typed into a write-only field: stored encrypted at once by the secret service; only its
        marker enters the flow (and this state), so the value never travels back to the page."""
        got = self._config()
        if got is None:
            return None
        handle = f"{self.selected}:{form.secret_key(path, int(index))}"
        field_path = form.secret_field_path(got[1], path, int(index))
        if not str(value or "").strip() or field_path is None:  # left empty: the secret set stays as it was
            if handle in self._replacing:
                self._replacing = self._replacing - {handle}
                self._panel_gen += 1
                self._panel_stale = True
                await self._flush_panel()
            return None
        aid, node_id, node_type, typed = self.activity_id, self.selected, got[0], str(value)
        out = await run(self, lambda s, u: secret_service.set_secret(
            session=s, actor=u, activity_id=aid, node_id=node_id, node_type=node_type, path=field_path,
            value=typed), write=True)
        if not out.ok or out.value is None:
            return out.problem()
        self._replacing = self._replacing - {handle}
        self._configure(form.set_secret_marker(got[1], path, int(index), out.value), reset=True)
        await self._flush_panel()
        return None

    @rx.event
    async def insert_variable(self, path: str, variable: str):
        got = self._config()
        if got is not None:
            self._configure(form.insert_variable(got[1], path, variable), reset=True)
            await self._flush_panel()

    @rx.event
    async def close_panel(self):
        self._select("")
        await self._flush_panel()

    # ------------------------------------------------------------------------------------------- problems

    @rx.event
    async def show_problem(self, node_id: str):
        if not node_id:
            return
        self._select(node_id)
        self.focus = {"id": node_id, "n": int(self.focus.get("n", 0)) + 1}
        await self._flush_panel()

    @rx.event
    def close_problems(self):
        self.problems_open = False
        self._problem_list = []
        self.problems = []
        self._render(panel=False)

    # ------------------------------------------------------------------------------------------- template

    @rx.event
    def toggle_template(self):
        self.template_open = not self.template_open

    @rx.event
    async def show_key_component(self, node_id: str):
        await self.show_problem(node_id)

    @rx.event
    async def hide_template_for_good(self):
        out = await run(self, lambda s, u: preferences.set_preference(
            session=s, actor=u, key=TEMPLATE_HIDDEN_PREFERENCE, value=True), write=True)
        if not out.ok:
            return out.problem()
        self.template_visible = False
        self._template_key = ""
        self._render(panel=False)
        return rx.toast.info("Template details hidden. They will not show again.")

    def _open_hint(self, node_id: str):
        key = next((k for k in self._key_components() if k.node_id == node_id), None)
        if key is None:
            return None
        self.hint_title = f"{key.action} · {model.node_labels(self._flow).get(node_id, node_id)}"
        self.hint_action, self.hint_detail = key.action, key.detail
        self.hint_open = True
        return None

    @rx.event
    def set_hint_open(self, is_open: bool):
        self.hint_open = is_open

    @rx.event
    def copy_hint(self):
        return [rx.set_clipboard(self.hint_detail), rx.toast.success("Copied to the clipboard.")]

    # ------------------------------------------------------------------------------------------- pencil

    @rx.event
    async def open_info(self):
        out = await run(self, _info_options)
        if not out.ok or out.value is None:
            return out.problem()
        self.catalogue, self.group_options = out.value
        d = self._data
        self.info_name, self.info_description = str(d.get("name") or ""), str(d.get("description") or "")
        self.info_start, self.info_end = _local(d.get("start_time")), _local(d.get("end_time"))
        self.info_group = str(d["group_id"]) if d.get("group_id") else UNGROUPED
        self.campaign_ids = list(d.get("campaign_ids") or [])
        self.info_error = ""
        self.info_open = True
        return None

    @rx.event
    def set_info_open(self, is_open: bool):
        self.info_open = is_open

    @rx.event
    def set_info_name(self, value: str):
        self.info_name, self.info_error = value, ""

    @rx.event
    def set_info_description(self, value: str):
        self.info_description, self.info_error = value, ""

    @rx.event
    def set_info_start(self, value: str):
        self.info_start, self.info_error = value, ""

    @rx.event
    def set_info_end(self, value: str):
        self.info_end, self.info_error = value, ""

    @rx.event
    def set_info_group(self, value: str):
        self.info_group, self.info_error = value, ""

    @rx.event
    async def submit_info(self):
        try:
            data = activity_service.ActivityInput(**{
                **self._data, "name": self.info_name, "description": self.info_description,
                "group_id": None if self.info_group == UNGROUPED else int(self.info_group),
                "campaign_ids": list(self.campaign_ids), "start_time": parse_local(self.info_start),
                "end_time": parse_local(self.info_end)})
        except ValueError:
            self.info_error = "Enter the times as date and time (YYYY-MM-DD HH:MM)."
            return None
        out = await run(self, lambda s, u: activity_service.validate_input(session=s, actor=u, data=data))
        if out.signed_out:
            return out.problem()
        if out.error:
            self.info_error = out.error
            return None
        self._data = data.model_dump()
        self.name = data.name.strip()
        self._set_time_labels()
        self.dirty = True
        self.info_open = False
        return rx.toast.success("Basic information updated: Save Draft or Publish to keep it.")

    # ------------------------------------------------------------------------------------------- leave, save

    @rx.event
    def back(self):
        if self.dirty and not self.read_only:
            self._pending = {"kind": "leave"}
            self.confirm_kind = "leave"
            self.confirm_title = "Leave without saving?"
            self.confirm_body = "Your changes to the flow have not been saved. Save Draft keeps them."
            self.confirm_open = True
            return None
        return rx.redirect(HOME)

    def _input(self) -> activity_service.ActivityInput:
        return activity_service.ActivityInput(**self._data)

    @rx.event
    async def save_draft(self):
        if self.read_only:
            return rx.toast.error(self.read_only_reason)
        aid, flow, data = self.activity_id, self._flow, self._input()
        out = await run(self, lambda s, u: str(activity_service.save_draft(
            session=s, actor=u, activity_id=aid, data=data, flow=flow).name), write=True)
        if not out.ok:
            return out.problem()
        self.dirty = False
        return [rx.toast.success(f"Saved “{out.value}” as a draft."), rx.redirect(HOME)]

    @rx.event
    async def publish(self):
        if self.read_only:
            return rx.toast.error(self.read_only_reason)
        problems = validate_flow(self._flow)
        if problems:
            self._problem_list = problems
            self.problems_open = True
            self._render(panel=False)
            count = len(problems)
            return rx.toast.error(f"The flow cannot be published yet: {count} problem{'s' if count != 1 else ''}, "
                                  "listed at the top left of the canvas.")
        aid, flow, data = self.activity_id, self._flow, self._input()

        def go(s, u):
            activity = activity_service.publish(session=s, actor=u, activity_id=aid, data=data, flow=flow)
            return activity.name, ActivityStatus(activity.status), activity.start_time

        out = await run(self, go, write=True)
        if not out.ok or out.value is None:
            return out.problem()
        name, status, start = out.value
        self.dirty = False
        self.problems_open = False
        if status == ActivityStatus.NOT_STARTED and start is not None:
            message = f"Published “{name}”: it starts at {start:%Y-%m-%d %H:%M} (Not Started until then)."
        else:
            message = f"Published “{name}”: {status.label} now."
        return [rx.toast.success(message), rx.redirect(HOME)]

    @rx.event
    def open_version(self, version_id: str):
        choice = next((v for v in self.versions if v.id == version_id), None)
        if choice is None or choice.shown:
            return None
        if choice.current:
            return rx.redirect(canvas_route(self.activity_id, mode="edit"))
        return rx.redirect(canvas_route(self.activity_id, version=version_id))



class CanvasPanelState(rx.State):
    """The configuration panel of the selected component (filled by CanvasState._flush_panel)."""

    node_id: str = ""
    rows: list[form.FieldRow] = []
    title: str = ""
    kind: str = ""
    category: str = ""
    icon: str = ""
    problems: list[str] = []  # what no field of the panel shows next to it
    issues: int = 0
    read_only: bool = True

    def show(self, view: dict[str, Any], *, read_only: bool) -> None:
        view = {("kind" if k == "type" else k): v for k, v in view.items()} | {"read_only": read_only}
        for key, value in view.items():
            if getattr(self, key) != value:  # an unchanged list is not sent (nor re-rendered) again
                setattr(self, key, value)
