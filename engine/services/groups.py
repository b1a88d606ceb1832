"""Activity groups: a tree of folders at most three levels deep, shown left of the activity list.

"Ungrouped" is not a row (it is `Activity.group_id IS NULL`), so it cannot be created, renamed or deleted.
Every function scopes to the actor's workspace, validates everything before it changes anything, and only
flushes: the caller's session commits (or rolls back on a refusal).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from engine.errors import Conflict, Invalid, NotFound
from engine.models import Activity, ActivityGroup, User, row_id
from engine.models.group import GROUP_NAME_MAX, MAX_GROUP_DEPTH
from engine.permissions import require_writer, visible_clause

UNGROUPED = "Ungrouped"
_DEPTH_MESSAGE = f"A group can be at most {MAX_GROUP_DEPTH} levels deep."
_NOT_FOUND = "Group not found."


@dataclass
class GroupNode:
    id: int
    name: str
    parent_id: int | None
    depth: int  # 1..MAX_GROUP_DEPTH
    position: int
    has_activities: bool  # visible activities directly in this group (the dark/light icon)
    activity_count: int
    children: list[GroupNode] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- helpers


def _sort_key(g: ActivityGroup) -> tuple[int, int]:
    return (g.position, g.id or 0)


def _workspace_groups(session: Session, workspace_id: int) -> list[ActivityGroup]:
    stmt = (
        select(ActivityGroup)
        .where(ActivityGroup.workspace_id == workspace_id)
        .order_by(col(ActivityGroup.position), col(ActivityGroup.id))
    )
    return list(session.exec(stmt).all())


def _get_group(session: Session, workspace_id: int, group_id: int | None) -> ActivityGroup:
    group = session.get(ActivityGroup, group_id) if group_id is not None else None
    if group is None or group.workspace_id != workspace_id:
        raise NotFound(_NOT_FOUND)
    return group


class _Tree:
    """The workspace's groups indexed by id and by parent, for depth/descendant questions in Python."""

    def __init__(self, groups: list[ActivityGroup]) -> None:
        self.by_id: dict[int, ActivityGroup] = {g.id: g for g in groups if g.id is not None}
        self.children: dict[int | None, list[ActivityGroup]] = {}
        for g in sorted(groups, key=_sort_key):
            parent = g.parent_id if g.parent_id in self.by_id else None
            self.children.setdefault(parent, []).append(g)

    def depth(self, group_id: int) -> int:
        depth, current, seen = 0, self.by_id.get(group_id), set()
        while current is not None and current.id not in seen:
            seen.add(current.id)
            depth += 1
            current = self.by_id.get(current.parent_id) if current.parent_id is not None else None
        return depth

    def subtree(self, group_id: int) -> list[int]:
        """group_id then its descendants, breadth-first in sibling order."""
        out, queue, seen = [], [group_id], set()
        while queue:
            gid = queue.pop(0)
            if gid in seen:
                continue
            seen.add(gid)
            out.append(gid)
            queue.extend(row_id(c) for c in self.children.get(gid, []))
        return out

    def height(self, group_id: int) -> int:
        """Levels in the subtree rooted at group_id (a leaf is 1)."""
        base = self.depth(group_id)
        return 1 + max(self.depth(gid) - base for gid in self.subtree(group_id))

    def siblings(self, parent_id: int | None) -> list[ActivityGroup]:
        return list(self.children.get(parent_id, []))


def _name_problem(name: str) -> str | None:
    """Why a group name is refused (empty, spaces only, too long), or None: the one wording the dialogs show
    for a name typed or pasted (the inputs carry no browser limit that would cut or bubble silently)."""
    cleaned = (name or "").strip()
    if not cleaned:
        return "Enter a group name: it cannot be empty or only spaces."
    if len(cleaned) > GROUP_NAME_MAX:
        return f"A group name can be at most {GROUP_NAME_MAX} characters (this one has {len(cleaned)})."
    return None


def _clean_name(name: str) -> str:
    problem = _name_problem(name)
    if problem is not None:
        raise Invalid(problem)
    cleaned = name.strip()
    if cleaned.casefold() == UNGROUPED.casefold():
        raise Invalid(f'"{UNGROUPED}" is reserved: choose another name.')
    return cleaned


def _check_unique(siblings: list[ActivityGroup], name: str, *, exclude_id: int | None = None) -> None:
    key = name.casefold()
    for s in siblings:
        if s.id != exclude_id and s.name.casefold() == key:
            raise Invalid(f'A group named "{s.name}" already exists at this level.')


def _renumber(session: Session, ordered: list[ActivityGroup]) -> None:
    for index, g in enumerate(ordered):
        if g.position != index:
            g.position = index
            session.add(g)


# ---------------------------------------------------------------------------------------------- reading


def _nodes(groups: list[ActivityGroup], counts: dict[int, int]) -> list[GroupNode]:
    tree = _Tree(groups)

    def build(parent_id: int | None, depth: int, seen: set[int]) -> list[GroupNode]:
        nodes = []
        for g in tree.children.get(parent_id, []):
            gid = row_id(g)
            if gid in seen:  # defensive: a corrupted cycle must not recurse forever
                continue
            count = counts.get(gid, 0)
            nodes.append(
                GroupNode(
                    id=gid, name=g.name, parent_id=g.parent_id, depth=depth, position=g.position,
                    has_activities=count > 0, activity_count=count,
                    children=build(gid, depth + 1, seen | {gid}),
                )
            )
        return nodes

    return build(None, 1, set())


def _visible_counts(session: Session, actor: User) -> dict[int, int]:
    stmt = (
        select(col(Activity.group_id), func.count(col(Activity.id)))
        .where(visible_clause(actor), col(Activity.group_id).is_not(None))
        .group_by(col(Activity.group_id))
    )
    return {gid: n for gid, n in session.exec(stmt).all() if gid is not None}


def list_tree(*, session: Session, actor: User) -> list[GroupNode]:
    """The actor's workspace groups as a tree; counts cover only activities the actor can see."""
    groups = _workspace_groups(session, actor.workspace_id)
    return _nodes(groups, _visible_counts(session, actor))


def ungrouped_count(*, session: Session, actor: User) -> int:
    stmt = select(func.count(col(Activity.id))).where(visible_clause(actor), col(Activity.group_id).is_(None))
    return int(session.exec(stmt).one())


def search_groups(*, session: Session, actor: User, text: str) -> list[GroupNode]:
    """The tree limited to groups whose name contains `text` (case-insensitive) plus their ancestors."""
    needle = (text or "").strip().casefold()
    if not needle:
        return list_tree(session=session, actor=actor)
    groups = _workspace_groups(session, actor.workspace_id)
    by_id = {g.id: g for g in groups}
    keep: set[int] = set()
    for g in groups:
        if needle in g.name.casefold():
            current: ActivityGroup | None = g
            while current is not None and row_id(current) not in keep:
                keep.add(row_id(current))
                current = by_id.get(current.parent_id) if current.parent_id is not None else None
    return _nodes([g for g in groups if g.id in keep], _visible_counts(session, actor))


def subtree_ids(*, session: Session, workspace_id: int, group_id: int) -> list[int]:
    """group_id and all its descendants (a group's activity filter shows its whole subtree)."""
    _get_group(session, workspace_id, group_id)
    return _Tree(_workspace_groups(session, workspace_id)).subtree(group_id)


# ---------------------------------------------------------------------------------------------- writing


def create_group(
    *, session: Session, actor: User, name: str, relative_to: int | None = None, as_child: bool = False
) -> ActivityGroup:
    """A new group: top-level and last when `relative_to` is None; else right after `relative_to` among
    its siblings, or (as_child) the last child of `relative_to`."""
    require_writer(actor)
    cleaned = _clean_name(name)
    tree = _Tree(_workspace_groups(session, actor.workspace_id))

    insert_after: ActivityGroup | None = None
    if relative_to is None:
        parent_id = None
    else:
        anchor = _get_group(session, actor.workspace_id, relative_to)
        if as_child:
            if tree.depth(relative_to) + 1 > MAX_GROUP_DEPTH:
                raise Conflict(f"{_DEPTH_MESSAGE} \"{anchor.name}\" is already at level {MAX_GROUP_DEPTH}.")
            parent_id = anchor.id
        else:
            parent_id = anchor.parent_id if anchor.parent_id in tree.by_id else None
            insert_after = anchor

    siblings = tree.siblings(parent_id)
    _check_unique(siblings, cleaned)

    group = ActivityGroup(workspace_id=actor.workspace_id, parent_id=parent_id, name=cleaned)
    if insert_after is None:
        group.position = max((s.position for s in siblings), default=-1) + 1
        session.add(group)
        session.flush()
        return group

    index = next(i for i, s in enumerate(siblings) if s.id == insert_after.id) + 1
    session.add(group)
    siblings.insert(index, group)
    _renumber(session, siblings)
    session.flush()
    return group


def rename_group(*, session: Session, actor: User, group_id: int, name: str) -> ActivityGroup:
    require_writer(actor)
    group = _get_group(session, actor.workspace_id, group_id)
    cleaned = _clean_name(name)
    tree = _Tree(_workspace_groups(session, actor.workspace_id))
    parent_id = group.parent_id if group.parent_id in tree.by_id else None
    _check_unique(tree.siblings(parent_id), cleaned, exclude_id=group.id)
    if group.name != cleaned:
        group.name = cleaned
        session.add(group)
        session.flush()
    return group


def move_group(
    *, session: Session, actor: User, group_id: int, new_parent_id: int | None, position: int
) -> ActivityGroup:
    """Drag & drop: put the group (with its subtree) under `new_parent_id` (None: top level) at the 0-based
    `position` among that parent's children; both old and new sibling lists are renumbered 0..n-1."""
    require_writer(actor)
    group = _get_group(session, actor.workspace_id, group_id)
    tree = _Tree(_workspace_groups(session, actor.workspace_id))

    if new_parent_id is not None:
        _get_group(session, actor.workspace_id, new_parent_id)
        if new_parent_id in set(tree.subtree(group_id)):
            raise Conflict("A group cannot be moved into itself or one of its own subgroups.")
        new_depth = tree.depth(new_parent_id) + 1
    else:
        new_depth = 1
    deepest = new_depth + tree.height(group_id) - 1
    if deepest > MAX_GROUP_DEPTH:
        raise Conflict(f"{_DEPTH_MESSAGE} Moving \"{group.name}\" there would make its subgroups level {deepest}.")

    old_parent_id = group.parent_id if group.parent_id in tree.by_id else None
    new_siblings = [s for s in tree.siblings(new_parent_id) if s.id != group.id]
    if old_parent_id != new_parent_id:
        _check_unique(new_siblings, group.name)

    index = min(max(position, 0), len(new_siblings))
    new_siblings.insert(index, group)
    if group.parent_id != new_parent_id:
        group.parent_id = new_parent_id
        session.add(group)
    _renumber(session, new_siblings)
    if old_parent_id != new_parent_id:
        _renumber(session, [s for s in tree.siblings(old_parent_id) if s.id != group.id])
    session.flush()
    return group


def delete_group(*, session: Session, actor: User, group_id: int) -> None:
    """Delete an empty group. Any subgroup or any activity (even one the actor cannot see) refuses it; the
    message says why without naming hidden activities."""
    require_writer(actor)
    group = _get_group(session, actor.workspace_id, group_id)
    subgroups = session.exec(
        select(func.count(col(ActivityGroup.id))).where(ActivityGroup.parent_id == group.id)
    ).one()
    activities = session.exec(select(func.count(col(Activity.id))).where(Activity.group_id == group.id)).one()
    reasons = []
    if subgroups:
        reasons.append(f"{subgroups} subgroup" + ("s" if subgroups != 1 else ""))
    if activities:
        reasons.append("activities")
    if reasons:
        raise Conflict(
            f"\"{group.name}\" contains {' and '.join(reasons)} and cannot be deleted: "
            "move or delete them first."
        )
    parent_id = group.parent_id
    session.delete(group)
    session.flush()
    remaining = _Tree(_workspace_groups(session, actor.workspace_id)).siblings(parent_id)
    _renumber(session, remaining)
    session.flush()
