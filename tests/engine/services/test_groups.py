"""Activity groups service: tree, create/rename/move/delete rules, visibility of counts, search."""

from collections.abc import Callable

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import ActivityGroup, Role, User, Workspace
from engine.services import groups as svc
from tests import factories as f


@pytest.fixture
def ws(session: Session) -> Workspace:
    return f.workspace(session)


@pytest.fixture
def admin(session: Session, ws: Workspace) -> User:
    return f.user(session, ws, Role.ADMIN)


@pytest.fixture
def marketer(session: Session, ws: Workspace) -> User:
    return f.user(session, ws, Role.MARKETER)


def rows(session: Session, ws: Workspace) -> list[tuple[int, int | None, str, int]]:
    """The workspace's group rows as the database has them (id, parent_id, name, position)."""
    stmt = (
        select(ActivityGroup.id, ActivityGroup.parent_id, ActivityGroup.name, ActivityGroup.position)
        .where(ActivityGroup.workspace_id == ws.id)
        .order_by(ActivityGroup.id)
    )
    return [tuple(r) for r in session.exec(stmt).all()]


def ordered_names(session: Session, ws: Workspace, parent: ActivityGroup | None) -> list[tuple[str, int]]:
    stmt = (
        select(ActivityGroup.name, ActivityGroup.position)
        .where(ActivityGroup.workspace_id == ws.id)
        .where(ActivityGroup.parent_id == (parent.id if parent else None))
        .order_by(ActivityGroup.position, ActivityGroup.id)
    )
    return [tuple(r) for r in session.exec(stmt).all()]


def chain(session: Session, ws: Workspace, *names: str) -> list[ActivityGroup]:
    """A nested chain: names[0] top-level, names[1] its child, ..."""
    out: list[ActivityGroup] = []
    for name in names:
        out.append(f.group(session, ws, name, parent=out[-1] if out else None))
    return out


def flatten(nodes: list[svc.GroupNode]) -> dict[str, svc.GroupNode]:
    out: dict[str, svc.GroupNode] = {}
    for n in nodes:
        out[n.name] = n
        out.update(flatten(n.children))
    return out


# ---------------------------------------------------------------------------------------------- create


def test_create_top_level_groups_are_appended_last(session: Session, ws: Workspace, admin: User) -> None:
    for name in ("A", "B", "C"):
        g = svc.create_group(session=session, actor=admin, name=name)
        assert g.id is not None and g.parent_id is None and g.workspace_id == ws.id
    assert ordered_names(session, ws, None) == [("A", 0), ("B", 1), ("C", 2)]
    assert [n.name for n in svc.list_tree(session=session, actor=admin)] == ["A", "B", "C"]


def test_create_sibling_goes_right_after_the_anchor(session: Session, ws: Workspace, marketer: User) -> None:
    a = svc.create_group(session=session, actor=marketer, name="A")
    svc.create_group(session=session, actor=marketer, name="B")
    svc.create_group(session=session, actor=marketer, name="C")
    new = svc.create_group(session=session, actor=marketer, name="New", relative_to=a.id)
    assert new.parent_id is None
    assert ordered_names(session, ws, None) == [("A", 0), ("New", 1), ("B", 2), ("C", 3)]


def test_create_sibling_of_a_child_stays_under_the_same_parent(
    session: Session, ws: Workspace, admin: User
) -> None:
    parent, child = chain(session, ws, "P", "C1")
    new = svc.create_group(session=session, actor=admin, name="C2", relative_to=child.id)
    assert new.parent_id == parent.id
    assert ordered_names(session, ws, parent) == [("C1", 0), ("C2", 1)]


def test_create_child_is_last_child(session: Session, ws: Workspace, admin: User) -> None:
    parent = f.group(session, ws, "Parent")
    first = svc.create_group(session=session, actor=admin, name="First", relative_to=parent.id, as_child=True)
    second = svc.create_group(session=session, actor=admin, name="Second", relative_to=parent.id, as_child=True)
    assert first.parent_id == second.parent_id == parent.id
    assert ordered_names(session, ws, parent) == [("First", 0), ("Second", 1)]
    tree = flatten(svc.list_tree(session=session, actor=admin))
    assert tree["Second"].depth == 2
    assert [c.name for c in tree["Parent"].children] == ["First", "Second"]


def test_create_child_under_level_three_is_refused(session: Session, ws: Workspace, admin: User) -> None:
    _, _, level3 = chain(session, ws, "L1", "L2", "L3")
    before = rows(session, ws)
    with pytest.raises(Conflict, match="at most 3 levels deep"):
        svc.create_group(session=session, actor=admin, name="L4", relative_to=level3.id, as_child=True)
    assert rows(session, ws) == before


def test_create_sibling_at_level_three_is_allowed(session: Session, ws: Workspace, admin: User) -> None:
    _, level2, level3 = chain(session, ws, "L1", "L2", "L3")
    new = svc.create_group(session=session, actor=admin, name="L3b", relative_to=level3.id)
    assert new.parent_id == level2.id
    assert flatten(svc.list_tree(session=session, actor=admin))["L3b"].depth == 3


# ---------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["", "   ", "x" * 31, "Ungrouped", "  ungrouped "])
def test_create_refuses_bad_names(session: Session, ws: Workspace, admin: User, name: str) -> None:
    before = rows(session, ws)
    with pytest.raises(Invalid) as err:
        svc.create_group(session=session, actor=admin, name=name)
    assert str(err.value)
    assert rows(session, ws) == before


def test_name_is_stripped_and_thirty_chars_fit(session: Session, ws: Workspace, admin: User) -> None:
    g = svc.create_group(session=session, actor=admin, name="  " + "x" * 30 + "  ")
    assert g.name == "x" * 30


def test_create_refuses_duplicate_sibling_name_case_insensitively(
    session: Session, ws: Workspace, admin: User
) -> None:
    parent = f.group(session, ws, "Parent")
    f.group(session, ws, "Spring", parent=parent)
    before = rows(session, ws)
    with pytest.raises(Invalid, match="already exists"):
        svc.create_group(session=session, actor=admin, name=" SPRING ", relative_to=parent.id, as_child=True)
    assert rows(session, ws) == before
    # the same name at another level is fine
    assert svc.create_group(session=session, actor=admin, name="Spring").parent_id is None


def test_rename(session: Session, ws: Workspace, admin: User) -> None:
    g = f.group(session, ws, "Old")
    renamed = svc.rename_group(session=session, actor=admin, group_id=g.id, name="  New name ")
    assert renamed.name == "New name"
    assert rows(session, ws) == [(g.id, None, "New name", 0)]
    # changing only the case of its own name is not a clash with itself
    assert svc.rename_group(session=session, actor=admin, group_id=g.id, name="NEW NAME").name == "NEW NAME"


@pytest.mark.parametrize(("name", "error"), [("other", Invalid), ("", Invalid), ("y" * 31, Invalid),
                                             ("Ungrouped", Invalid)])
def test_rename_refusals_leave_rows_unchanged(
    session: Session, ws: Workspace, marketer: User, name: str, error: type[Exception]
) -> None:
    f.group(session, ws, "Other", position=0)
    g = f.group(session, ws, "Mine", position=1)
    before = rows(session, ws)
    with pytest.raises(error):
        svc.rename_group(session=session, actor=marketer, group_id=g.id, name=name)
    assert rows(session, ws) == before


# ---------------------------------------------------------------------------------------------- move


def test_reorder_among_siblings(session: Session, ws: Workspace, admin: User) -> None:
    f.group(session, ws, "A", position=0)
    f.group(session, ws, "B", position=1)
    c = f.group(session, ws, "C", position=2)
    svc.move_group(session=session, actor=admin, group_id=c.id, new_parent_id=None, position=0)
    assert ordered_names(session, ws, None) == [("C", 0), ("A", 1), ("B", 2)]
    svc.move_group(session=session, actor=admin, group_id=c.id, new_parent_id=None, position=99)
    assert ordered_names(session, ws, None) == [("A", 0), ("B", 1), ("C", 2)]
    svc.move_group(session=session, actor=admin, group_id=c.id, new_parent_id=None, position=1)
    assert ordered_names(session, ws, None) == [("A", 0), ("C", 1), ("B", 2)]


def test_move_to_another_parent_renumbers_both(session: Session, ws: Workspace, admin: User) -> None:
    p1 = f.group(session, ws, "P1", position=0)
    p2 = f.group(session, ws, "P2", position=1)
    f.group(session, ws, "a", parent=p1, position=0)
    b = f.group(session, ws, "b", parent=p1, position=1)
    f.group(session, ws, "c", parent=p1, position=2)
    f.group(session, ws, "x", parent=p2, position=0)
    f.group(session, ws, "y", parent=p2, position=1)
    moved = svc.move_group(session=session, actor=admin, group_id=b.id, new_parent_id=p2.id, position=1)
    assert moved.parent_id == p2.id
    assert ordered_names(session, ws, p1) == [("a", 0), ("c", 1)]
    assert ordered_names(session, ws, p2) == [("x", 0), ("b", 1), ("y", 2)]
    # and back to the top level
    svc.move_group(session=session, actor=admin, group_id=b.id, new_parent_id=None, position=0)
    assert ordered_names(session, ws, None) == [("b", 0), ("P1", 1), ("P2", 2)]
    assert ordered_names(session, ws, p2) == [("x", 0), ("y", 1)]


def test_moving_a_two_level_subtree_under_level_two_is_refused(
    session: Session, ws: Workspace, admin: User
) -> None:
    _, level2 = chain(session, ws, "L1", "L2")
    subtree_root, _ = chain(session, ws, "S1", "S2")
    before = rows(session, ws)
    with pytest.raises(Conflict, match="at most 3 levels deep"):
        svc.move_group(session=session, actor=admin, group_id=subtree_root.id, new_parent_id=level2.id, position=0)
    assert rows(session, ws) == before


def test_moving_a_leaf_under_level_two_is_fine(session: Session, ws: Workspace, admin: User) -> None:
    _, level2 = chain(session, ws, "L1", "L2")
    leaf = f.group(session, ws, "Leaf", position=5)
    svc.move_group(session=session, actor=admin, group_id=leaf.id, new_parent_id=level2.id, position=0)
    node = flatten(svc.list_tree(session=session, actor=admin))["Leaf"]
    assert node.parent_id == level2.id and node.depth == 3


def test_moving_a_deep_subtree_up_to_top_level_is_fine(session: Session, ws: Workspace, admin: User) -> None:
    _, level2, _ = chain(session, ws, "L1", "L2", "L3")
    svc.move_group(session=session, actor=admin, group_id=level2.id, new_parent_id=None, position=0)
    tree = flatten(svc.list_tree(session=session, actor=admin))
    assert (tree["L2"].depth, tree["L3"].depth) == (1, 2)
    assert [n.name for n in svc.list_tree(session=session, actor=admin)] == ["L2", "L1"]


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_move_into_itself_or_descendant_is_refused(
    session: Session, ws: Workspace, admin: User, target: str
) -> None:
    top, child, grandchild = chain(session, ws, "Top", "Child", "Grandchild")
    dest = {"self": top, "child": child, "grandchild": grandchild}[target]
    before = rows(session, ws)
    with pytest.raises(Conflict, match="itself or one of its own subgroups"):
        svc.move_group(session=session, actor=admin, group_id=top.id, new_parent_id=dest.id, position=0)
    assert rows(session, ws) == before


def test_move_refuses_a_name_clash_in_the_new_parent(session: Session, ws: Workspace, admin: User) -> None:
    parent = f.group(session, ws, "Parent")
    f.group(session, ws, "Promo", parent=parent)
    top = f.group(session, ws, "PROMO", position=1)
    before = rows(session, ws)
    with pytest.raises(Invalid, match="already exists"):
        svc.move_group(session=session, actor=admin, group_id=top.id, new_parent_id=parent.id, position=0)
    assert rows(session, ws) == before


# ---------------------------------------------------------------------------------------------- delete


def test_delete_empty_group_renumbers_siblings(session: Session, ws: Workspace, admin: User) -> None:
    f.group(session, ws, "A", position=0)
    b = f.group(session, ws, "B", position=1)
    f.group(session, ws, "C", position=2)
    svc.delete_group(session=session, actor=admin, group_id=b.id)
    assert session.get(ActivityGroup, b.id) is None
    assert ordered_names(session, ws, None) == [("A", 0), ("C", 1)]


def test_delete_refused_when_it_has_subgroups(session: Session, ws: Workspace, admin: User) -> None:
    parent = f.group(session, ws, "Parent")
    f.group(session, ws, "s1", parent=parent)
    f.group(session, ws, "s2", parent=parent)
    before = rows(session, ws)
    with pytest.raises(Conflict, match="contains 2 subgroups"):
        svc.delete_group(session=session, actor=admin, group_id=parent.id)
    assert rows(session, ws) == before


@pytest.mark.parametrize("public", [True, False])
def test_delete_refused_when_it_has_activities_even_hidden_ones(
    session: Session, ws: Workspace, marketer: User, public: bool
) -> None:
    other = f.user(session, ws, Role.MARKETER)
    g = f.group(session, ws, "Busy")
    act = f.activity(session, other, name="Secret launch", public=public, group=g)
    before = rows(session, ws)
    with pytest.raises(Conflict, match="contains activities") as err:
        svc.delete_group(session=session, actor=marketer, group_id=g.id)
    assert "Secret launch" not in str(err.value)
    assert rows(session, ws) == before
    session.refresh(act)
    assert act.group_id == g.id


# ---------------------------------------------------------------------------------------------- access


def _write_ops(g: ActivityGroup) -> dict[str, Callable[..., object]]:
    return {
        "create_top": lambda s, a: svc.create_group(session=s, actor=a, name="New"),
        "create_child": lambda s, a: svc.create_group(session=s, actor=a, name="N", relative_to=g.id, as_child=True),
        "rename": lambda s, a: svc.rename_group(session=s, actor=a, group_id=g.id, name="Renamed"),
        "move": lambda s, a: svc.move_group(session=s, actor=a, group_id=g.id, new_parent_id=None, position=1),
        "delete": lambda s, a: svc.delete_group(session=s, actor=a, group_id=g.id),
    }


@pytest.mark.parametrize("op", ["create_top", "create_child", "rename", "move", "delete"])
def test_manager_cannot_change_groups(session: Session, ws: Workspace, op: str) -> None:
    manager = f.user(session, ws, Role.MANAGER)
    g = f.group(session, ws, "G")
    f.group(session, ws, "H", position=1)
    before = rows(session, ws)
    with pytest.raises(Forbidden, match="read-only"):
        _write_ops(g)[op](session, manager)
    assert rows(session, ws) == before
    # but a manager still sees the tree
    assert [n.name for n in svc.list_tree(session=session, actor=manager)] == ["G", "H"]


@pytest.mark.parametrize("op", ["create_child", "rename", "move", "delete", "subtree", "sibling"])
def test_other_workspace_group_is_not_found(session: Session, ws: Workspace, admin: User, op: str) -> None:
    other_ws = f.workspace(session)
    foreign = f.group(session, other_ws, "Foreign")
    mine = f.group(session, ws, "Mine")
    ops = _write_ops(foreign) | {
        "subtree": lambda s, a: svc.subtree_ids(session=s, workspace_id=a.workspace_id, group_id=foreign.id),
        "sibling": lambda s, a: svc.create_group(session=s, actor=a, name="N", relative_to=foreign.id),
    }
    before = rows(session, ws), rows(session, other_ws)
    with pytest.raises(NotFound, match="Group not found."):
        ops[op](session, admin)
    assert (rows(session, ws), rows(session, other_ws)) == before
    # moving one's own group under a foreign parent is refused the same way
    with pytest.raises(NotFound):
        svc.move_group(session=session, actor=admin, group_id=mine.id, new_parent_id=foreign.id, position=0)
    assert (rows(session, ws), rows(session, other_ws)) == before


def test_unknown_group_id_is_not_found(session: Session, ws: Workspace, admin: User) -> None:
    with pytest.raises(NotFound, match="Group not found."):
        svc.rename_group(session=session, actor=admin, group_id=999_999, name="x")


def test_tree_lists_only_own_workspace(session: Session, ws: Workspace, admin: User) -> None:
    f.group(session, f.workspace(session), "Foreign")
    f.group(session, ws, "Mine")
    assert [n.name for n in svc.list_tree(session=session, actor=admin)] == ["Mine"]


# ---------------------------------------------------------------------------------------------- reading


def test_tree_shape_order_and_depth(session: Session, ws: Workspace, admin: User) -> None:
    b = f.group(session, ws, "B", position=1)
    a = f.group(session, ws, "A", position=0)
    f.group(session, ws, "b2", parent=b, position=1)
    b1 = f.group(session, ws, "b1", parent=b, position=0)
    f.group(session, ws, "b1x", parent=b1)
    tree = svc.list_tree(session=session, actor=admin)
    assert [(n.id, n.depth) for n in tree] == [(a.id, 1), (b.id, 1)]
    assert [c.name for c in tree[1].children] == ["b1", "b2"]
    grandchild = tree[1].children[0].children[0]
    assert (grandchild.name, grandchild.depth, grandchild.parent_id) == ("b1x", 3, b1.id)


def test_counts_respect_visibility(session: Session, ws: Workspace, admin: User, marketer: User) -> None:
    other = f.user(session, ws, Role.MARKETER)
    manager = f.user(session, ws, Role.MANAGER)
    private_group = f.group(session, ws, "Private only", position=0)
    mixed = f.group(session, ws, "Mixed", position=1)
    f.group(session, ws, "Empty", position=2)
    f.activity(session, other, public=False, group=private_group)
    f.activity(session, other, public=True, group=mixed)
    f.activity(session, marketer, public=False, group=mixed)
    f.activity(session, other, public=False)  # ungrouped, private
    f.activity(session, marketer, public=True)  # ungrouped, public

    def counts(actor: User) -> dict[str, tuple[bool, int]]:
        return {n.name: (n.has_activities, n.activity_count) for n in svc.list_tree(session=session, actor=actor)}

    assert counts(marketer) == {"Private only": (False, 0), "Mixed": (True, 2), "Empty": (False, 0)}
    assert counts(other) == {"Private only": (True, 1), "Mixed": (True, 1), "Empty": (False, 0)}
    assert counts(manager) == {"Private only": (False, 0), "Mixed": (True, 1), "Empty": (False, 0)}
    assert counts(admin) == {"Private only": (True, 1), "Mixed": (True, 2), "Empty": (False, 0)}
    assert svc.ungrouped_count(session=session, actor=marketer) == 1
    assert svc.ungrouped_count(session=session, actor=other) == 2
    assert svc.ungrouped_count(session=session, actor=admin) == 2


def test_counts_are_direct_not_subtree(session: Session, ws: Workspace, admin: User) -> None:
    parent, child = chain(session, ws, "Parent", "Child")
    f.activity(session, admin, group=child)
    tree = flatten(svc.list_tree(session=session, actor=admin))
    assert (tree["Parent"].has_activities, tree["Child"].activity_count) == (False, 1)


def test_list_tree_uses_two_queries_for_a_big_tree(session: Session, ws: Workspace, admin: User) -> None:
    tops = [f.group(session, ws, f"T{i}", position=i) for i in range(100)]
    mids = [f.group(session, ws, f"M{i}", parent=t) for i, t in enumerate(tops)]
    for i, m in enumerate(mids):
        f.group(session, ws, f"L{i}", parent=m)
    for g in tops[:5] + mids[:5]:
        f.activity(session, admin, group=g)
    session.flush()
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        tree = svc.list_tree(session=session, actor=admin)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 2
    assert len(flatten(tree)) == 300
    assert sum(n.activity_count for n in flatten(tree).values()) == 10


def test_search_keeps_ancestors(session: Session, ws: Workspace, admin: User) -> None:
    chain(session, ws, "Seasonal", "Spring", "Easter promo")
    summer = f.group(session, ws, "Summer", position=1)
    f.group(session, ws, "Beach promo", parent=summer)
    f.group(session, ws, "Winter", position=2)
    tree = svc.search_groups(session=session, actor=admin, text="PROMO")
    assert [n.name for n in tree] == ["Seasonal", "Summer"]
    assert [c.name for c in tree[0].children] == ["Spring"]
    assert [c.name for c in tree[0].children[0].children] == ["Easter promo"]
    assert tree[0].children[0].children[0].depth == 3
    assert [c.name for c in tree[1].children] == ["Beach promo"]
    assert svc.search_groups(session=session, actor=admin, text="nothing like this") == []


def test_search_match_does_not_pull_in_unmatched_children(session: Session, ws: Workspace, admin: User) -> None:
    chain(session, ws, "Seasonal", "Spring")
    tree = svc.search_groups(session=session, actor=admin, text="season")
    assert [(n.name, n.children) for n in tree] == [("Seasonal", [])]


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_search_is_the_full_tree(session: Session, ws: Workspace, admin: User, text: str) -> None:
    chain(session, ws, "A", "B", "C")
    f.group(session, ws, "D", position=1)
    assert svc.search_groups(session=session, actor=admin, text=text) == svc.list_tree(session=session, actor=admin)


def test_subtree_ids(session: Session, ws: Workspace) -> None:
    top, mid, low = chain(session, ws, "Top", "Mid", "Low")
    sibling = f.group(session, ws, "Mid2", parent=top, position=1)
    unrelated = f.group(session, ws, "Else", position=1)
    assert svc.subtree_ids(session=session, workspace_id=ws.id, group_id=top.id)[0] == top.id
    assert set(svc.subtree_ids(session=session, workspace_id=ws.id, group_id=top.id)) == {
        top.id, mid.id, low.id, sibling.id,
    }
    assert svc.subtree_ids(session=session, workspace_id=ws.id, group_id=mid.id) == [mid.id, low.id]
    assert svc.subtree_ids(session=session, workspace_id=ws.id, group_id=low.id) == [low.id]
    assert svc.subtree_ids(session=session, workspace_id=ws.id, group_id=unrelated.id) == [unrelated.id]
