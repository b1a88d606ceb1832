"""The group tree left of the list: Ungrouped + custom groups (three levels), expand/collapse, search, add /
rename / delete dialogs and drag-and-drop moves. Every change goes through engine.services.groups, whose
refusals (depth, non-empty group, duplicate name, read-only role) are shown as they are.

Only the rows currently visible (expanded branches) are sent to the browser; the full tree stays on the
server (`_nodes`) for drop positions and the dialogs' group pickers.
"""

from dataclasses import dataclass

import reflex as rx

from engine.models import Role
from engine.models.group import MAX_GROUP_DEPTH
from engine.services import groups as group_service
from engine.services.groups import GroupNode
from marketing_app.states.service import events, run

ALL = ""  # selection key of "All activities"
UNGROUPED = "ungrouped"  # selection key of "Ungrouped"


@dataclass
class TreeRow:
    id: int = 0
    name: str = ""
    depth: int = 1
    parent_id: int = 0  # 0: top level
    has_children: bool = False
    expanded: bool = False
    has_activities: bool = False
    count: int = 0


@dataclass
class GroupOption:
    """A group in a picker (Move, New activity): value is the id, or "ungrouped"."""

    value: str = ""
    label: str = ""
    depth: int = 0


@dataclass
class _Loaded:
    nodes: list[GroupNode]
    shown: list[GroupNode]
    ungrouped: int
    writer: bool


def _walk(nodes: list[GroupNode]):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def find(nodes: list[GroupNode], group_id: int) -> GroupNode | None:
    return next((n for n in _walk(nodes) if n.id == group_id), None)


def path_of(nodes: list[GroupNode], group_id: int) -> list[GroupNode]:
    """The node and its ancestors, top level first (empty when unknown)."""
    def search(level: list[GroupNode], trail: list[GroupNode]) -> list[GroupNode]:
        for node in level:
            if node.id == group_id:
                return [*trail, node]
            found = search(node.children, [*trail, node])
            if found:
                return found
        return []

    return search(nodes, [])


def flatten(nodes: list[GroupNode], expanded: set[int], *, expand_all: bool = False) -> list[TreeRow]:
    rows: list[TreeRow] = []

    def add(level: list[GroupNode]) -> None:
        for n in level:
            is_open = expand_all or n.id in expanded
            rows.append(TreeRow(id=n.id, name=n.name, depth=n.depth, parent_id=n.parent_id or 0,
                                has_children=bool(n.children), expanded=is_open and bool(n.children),
                                has_activities=n.has_activities, count=n.activity_count))
            if is_open:
                add(n.children)

    add(nodes)
    return rows


def options(nodes: list[GroupNode]) -> list[GroupOption]:
    return [GroupOption(value=UNGROUPED, label="Ungrouped", depth=0)] + [
        GroupOption(value=str(n.id), label=n.name, depth=n.depth) for n in _walk(nodes)
    ]


def drop_target(nodes: list[GroupNode], source: int, target: int, *, before: bool) -> tuple[int | None, int]:
    """(new parent id, position) for move_group when `source` is dropped into `target` (0: top level, at the end)
    or just before it (same parent, at its place)."""
    def children_of(parent: int | None) -> list[GroupNode]:
        if parent is None:
            return nodes
        node = find(nodes, parent)
        return node.children if node else []

    if before:
        node = find(nodes, target)
        parent = node.parent_id if node else None
        siblings = [n.id for n in children_of(parent) if n.id != source]
        return parent, siblings.index(target) if target in siblings else len(siblings)
    parent = target or None
    return parent, len([n for n in children_of(parent) if n.id != source])


class GroupTreeState(rx.State):
    rows: list[TreeRow] = []
    ungrouped_count: int = 0
    total_count: int = 0
    selected: str = ALL
    search: str = ""
    panel_open: bool = True
    can_write: bool = False
    dragging: int = 0
    _list_stale: bool = False  # set by an event after which the activity list must follow (see _list_moved)
    options: list[GroupOption] = []

    # add dialog ("+"): anchor 0 is "All activities" (a new top-level group)
    add_open: bool = False
    add_anchor: int = 0
    add_anchor_name: str = ""
    add_anchor_depth: int = 0
    add_kind: str = "child"  # "sibling" | "child"
    add_error: str = ""
    # rename / delete dialogs ("…")
    rename_open: bool = False
    rename_id: int = 0
    rename_name: str = ""
    rename_error: str = ""
    delete_open: bool = False
    delete_id: int = 0
    delete_name: str = ""
    delete_error: str = ""

    _nodes: list[GroupNode] = []
    _expanded: list[int] = []
    _seen: bool = False  # first load expands the top level

    @rx.var
    def searching(self) -> bool:
        return self.search.strip() != ""

    def _show(self, shown: list[GroupNode]) -> None:
        self.rows = flatten(shown, set(self._expanded), expand_all=self.searching)

    async def reload(self):
        """Read the tree again (after a change here or in the list); returns a problem event or None."""
        text = self.search

        def load(session, actor) -> _Loaded:
            nodes = group_service.list_tree(session=session, actor=actor)
            shown = group_service.search_groups(session=session, actor=actor, text=text) if text.strip() else nodes
            return _Loaded(nodes, shown, group_service.ungrouped_count(session=session, actor=actor),
                           actor.role != Role.MANAGER)

        out = await run(self, load)
        if not out.ok or out.value is None:
            return out.problem()
        loaded = out.value
        self._nodes = loaded.nodes
        if not self._seen:
            self._expanded = [n.id for n in loaded.nodes if n.children]
            self._seen = True
        self.ungrouped_count = loaded.ungrouped
        self.total_count = loaded.ungrouped + sum(n.activity_count for n in _walk(loaded.nodes))
        self.can_write = loaded.writer
        if self.selected not in (ALL, UNGROUPED) and find(loaded.nodes, int(self.selected)) is None:
            self.selected = ALL  # deleted (here or elsewhere)
        self._show(loaded.shown)
        return None

    def fill_options(self) -> None:
        """The group pickers of the Move and New activity dialogs (the whole tree, indented by depth)."""
        self.options = options(self._nodes)

    def selection_label(self) -> str:
        if self.selected == ALL:
            return ""
        if self.selected == UNGROUPED:
            return "Ungrouped"
        return " / ".join(n.name for n in path_of(self._nodes, int(self.selected)))

    def _list_moved(self) -> None:
        """The activity list must follow (the selection, or a group it shows, changed): GroupListState, which
        the tree's view calls, refreshes it after the event; this state stays below the list's."""
        self._list_stale = True

    # ------------------------------------------------------------------------------------------- viewing

    @rx.event
    async def select(self, key: str):
        self.selected = key
        self._list_moved()

    @rx.event
    def toggle(self, group_id: int):
        expanded = set(self._expanded)
        expanded.symmetric_difference_update({group_id})
        self._expanded = sorted(expanded)
        if not self.searching:  # while searching every match is shown open
            self.rows = flatten(self._nodes, expanded)

    @rx.event
    def toggle_panel(self):
        self.panel_open = not self.panel_open

    @rx.event
    async def set_search(self, text: str):
        self.search = text
        return await self.reload()

    @rx.event
    async def clear_search(self):
        self.search = ""
        return await self.reload()

    # ------------------------------------------------------------------------------------------- add

    @rx.event
    def open_add(self, anchor_id: int):
        node = find(self._nodes, anchor_id) if anchor_id else None
        self.add_anchor = node.id if node else 0
        self.add_anchor_name = node.name if node else "All activities"
        self.add_anchor_depth = node.depth if node else 0
        self.add_kind = "sibling" if node and node.depth >= MAX_GROUP_DEPTH else "child"
        self.add_error = ""
        self.add_open = True

    @rx.event
    def set_add_kind(self, kind: str):
        self.add_kind = kind

    @rx.event
    def set_add_open(self, is_open: bool):
        self.add_open = is_open

    @rx.event
    async def submit_add(self, form: dict[str, str]):
        name = form.get("name", "")
        anchor, as_child = (self.add_anchor or None), (self.add_kind == "child" or not self.add_anchor)
        out = await run(self, lambda s, u: group_service.create_group(
            session=s, actor=u, name=name, relative_to=anchor, as_child=as_child).name, write=True)
        if out.signed_out:
            return out.problem()
        if out.error:
            self.add_error = out.error
            return None
        self.add_open = False
        if anchor and as_child and anchor not in self._expanded:
            self._expanded = [*self._expanded, anchor]
        problem = await self.reload()
        return problem or rx.toast.success(f"Group “{out.value}” created.")

    # ------------------------------------------------------------------------------------------- rename

    @rx.event
    def open_rename(self, group_id: int):
        node = find(self._nodes, group_id)
        if node is None:
            return
        self.rename_id, self.rename_name, self.rename_error = node.id, node.name, ""
        self.rename_open = True

    @rx.event
    def set_rename_open(self, is_open: bool):
        self.rename_open = is_open

    @rx.event
    async def submit_rename(self, form: dict[str, str]):
        name, gid = form.get("name", ""), self.rename_id
        out = await run(self, lambda s, u: group_service.rename_group(
            session=s, actor=u, group_id=gid, name=name).name, write=True)
        if out.signed_out:
            return out.problem()
        if out.error:
            self.rename_error = out.error
            return None
        self.rename_open = False
        return events(await self.reload() or rx.toast.success(f"Renamed to “{out.value}”."),
                      self._list_moved())

    # ------------------------------------------------------------------------------------------- delete

    @rx.event
    def open_delete(self, group_id: int):
        node = find(self._nodes, group_id)
        if node is None:
            return
        self.delete_id, self.delete_name, self.delete_error = node.id, node.name, ""
        self.delete_open = True

    @rx.event
    def set_delete_open(self, is_open: bool):
        self.delete_open = is_open

    @rx.event
    async def confirm_delete(self):
        gid, name = self.delete_id, self.delete_name
        out = await run(self, lambda s, u: group_service.delete_group(session=s, actor=u, group_id=gid), write=True)
        if out.signed_out:
            return out.problem()
        if out.error:
            self.delete_error = out.error  # the dialog now says why it cannot be deleted
            return None
        self.delete_open = False
        if self.selected == str(gid):
            self.selected = ALL
        return events(await self.reload() or rx.toast.success(f"Group “{name}” deleted."),
                      self._list_moved())

    # ------------------------------------------------------------------------------------------- drag & drop

    @rx.event
    def drag_start(self, group_id: int):
        self.dragging = group_id

    @rx.event
    def drag_end(self):
        self.dragging = 0

    async def _drop(self, target: int, *, before: bool):
        source, self.dragging = self.dragging, 0
        if not source or source == target:
            return None
        parent, position = drop_target(self._nodes, source, target, before=before)
        out = await run(self, lambda s, u: group_service.move_group(
            session=s, actor=u, group_id=source, new_parent_id=parent, position=position).name, write=True)
        if not out.ok:
            return out.problem()
        if parent and parent not in self._expanded:
            self._expanded = [*self._expanded, parent]
        return events(await self.reload() or rx.toast.success(f"Moved “{out.value}”."),
                      self._list_moved())

    @rx.event
    async def drop_into(self, target: int):
        return await self._drop(target, before=False)

    @rx.event
    async def drop_before(self, target: int):
        return await self._drop(target, before=True)

