"""Pure helpers of the page states: the group tree's visible rows and drop positions, and the page buttons."""

from engine.services.groups import GroupNode
from marketing_app.states.groups import UNGROUPED, drop_target, flatten, options, path_of
from marketing_app.states.paged_list import page_items


def _n(gid: int, name: str, depth: int, parent: int | None, *children: GroupNode, count: int = 0) -> GroupNode:
    return GroupNode(id=gid, name=name, parent_id=parent, depth=depth, position=0, has_activities=count > 0,
                     activity_count=count, children=list(children))


TREE = [
    _n(1, "Member Growth", 1, None, _n(2, "New Members", 2, 1, _n(3, "First Order", 3, 2, count=1)),
       _n(4, "Loyalty", 2, 1, count=2)),
    _n(5, "Festivals", 1, None, count=4),
    _n(6, "Experiments", 1, None),
]


def test_flatten_shows_the_children_of_expanded_groups_only() -> None:
    assert [r.name for r in flatten(TREE, set())] == ["Member Growth", "Festivals", "Experiments"]
    rows = flatten(TREE, {1})
    assert [(r.name, r.depth, r.expanded) for r in rows] == [
        ("Member Growth", 1, True), ("New Members", 2, False), ("Loyalty", 2, False), ("Festivals", 1, False),
        ("Experiments", 1, False)]
    assert [r.name for r in flatten(TREE, set(), expand_all=True)][:3] == ["Member Growth", "New Members",
                                                                          "First Order"]
    loyalty = next(r for r in rows if r.name == "Loyalty")
    assert (loyalty.has_activities, loyalty.count, loyalty.parent_id, loyalty.has_children) == (True, 2, 1, False)


def test_drop_into_appends_and_drop_before_takes_the_place() -> None:
    assert drop_target(TREE, 6, 1, before=False) == (1, 2)  # into Member Growth: after its two children
    assert drop_target(TREE, 6, 0, before=False) == (None, 2)  # into All: last at the top, itself excluded
    assert drop_target(TREE, 6, 1, before=True) == (None, 0)  # before Member Growth: first at the top
    assert drop_target(TREE, 1, 6, before=True) == (None, 1)  # Member Growth before Experiments
    assert drop_target(TREE, 5, 4, before=True) == (1, 1)  # before Loyalty, under Member Growth


def test_pickers_and_paths() -> None:
    assert [(o.value, o.label, o.depth) for o in options(TREE)][:3] == [
        (UNGROUPED, "Ungrouped", 0), ("1", "Member Growth", 1), ("2", "New Members", 2)]
    assert [n.name for n in path_of(TREE, 3)] == ["Member Growth", "New Members", "First Order"]
    assert path_of(TREE, 99) == []


def test_page_buttons() -> None:
    assert page_items(1, 1) == ["1"]
    assert page_items(1, 3) == ["1", "2", "3"]
    assert page_items(5, 10) == ["1", "…", "4", "5", "6", "…", "10"]
    assert page_items(10, 10) == ["1", "…", "9", "10"]
