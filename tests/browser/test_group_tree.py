"""The group tree in Chromium: expand/collapse, the whole panel, dark/light icons, search, add (sibling or child),
rename, delete (refused while not empty), and drag and drop to reorder or change level (refused beyond three
levels). Every refusal shown is the service's own message."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from engine.services import groups as group_service
from engine.services.groups import GroupNode
from tests.browser import expected
from tests.browser.conftest import RunningApp, Shot
from tests.browser.ui import dismiss_toasts, expect_rows, sign_in, toast

pytestmark = pytest.mark.browser


def group(page: Page, name: str) -> Locator:
    return page.locator(f'.tree-row[data-group="{name}"]')


def node(nodes: list[GroupNode], name: str) -> GroupNode:
    stack = list(nodes)
    while stack:
        n = stack.pop()
        if n.name == name:
            return n
        stack.extend(n.children)
    raise AssertionError(f"no group {name}")


def open_group_menu(page: Page, name: str, item: str) -> None:
    group(page, name).hover()
    group(page, name).locator(".tree-more").click()
    page.locator(f".tree-{item}").click()


def drag(page: Page, source: Locator, target: Locator) -> None:
    """HTML5 drag and drop with both ends on screen (Chromium starts no drag if the page scrolls mid-way)."""
    page.locator("#group-panel").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    source.drag_to(target)


def add_group(page: Page, anchor: str, name: str, kind: str | None = None) -> None:
    group(page, anchor).hover()
    group(page, anchor).locator(".tree-add").click()
    expect(page.locator("#add-group-dialog")).to_be_visible()
    if kind:
        page.click(f"#add-kind-{kind}")
    page.fill("#group-name", name)
    page.click("#add-group-submit")


def test_browse_select_search_and_collapse(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")
    tree = expected.tree(db, "marketer")

    # top-level groups open on arrival, one level below them is shown; the third level opens on demand
    top = [n.name for n in tree]
    expect(page.locator('.tree-row[data-depth="1"] .tree-name')).to_have_text(top)
    expect(group(page, "New Members")).to_be_visible()
    expect(group(page, "First Order")).to_have_count(0)
    group(page, "New Members").locator(".tree-chevron").click()
    expect(group(page, "First Order")).to_be_visible()
    expect(group(page, "First Order")).to_have_attribute("data-depth", "3")
    shot(page, "third-level-open")
    group(page, "New Members").locator(".tree-chevron").click()
    expect(group(page, "First Order")).to_have_count(0)
    group(page, "Member Growth").locator(".tree-chevron").click()
    expect(group(page, "New Members")).to_have_count(0)
    group(page, "Member Growth").locator(".tree-chevron").click()
    expect(group(page, "New Members")).to_be_visible()

    # dark icon: the group has activities; light: none (as the service counts them for this user)
    for name in ("Member Growth", "New Members", "Loyalty", "Festivals", "Double 11", "Experiments"):
        css = "folder-full" if node(tree, name).has_activities else "folder-empty"
        expect(group(page, name).locator(f".{css}")).to_have_count(1)
    assert not node(tree, "New Members").has_activities and node(tree, "Loyalty").has_activities

    # selecting a group shows its subtree; All activities shows everything again
    page.click('[data-group="Retention"]')
    expect(group(page, "Retention")).to_have_class(re.compile(r"\bselected\b"))
    expect_rows(page, expected.page(db, "marketer", group_id=expected.group_id(db, "Retention")))
    page.click("#group-ungrouped")
    expect_rows(page, expected.page(db, "marketer", ungrouped=True))
    page.click("#group-all")
    expect_rows(page, expected.page(db, "marketer"))

    # search: matching groups with their ancestors, opened
    page.fill("#group-search", "dormant")
    expect(page.locator(".tree-row[data-group] .tree-name")).to_have_text(["Retention", "Win-back", "Dormant 90d"])
    shot(page, "search")
    page.fill("#group-search", "nothing like this")
    expect(page.locator("#group-search-empty")).to_be_visible()
    page.fill("#group-search", "")
    expect(page.locator('.tree-row[data-depth="1"] .tree-name')).to_have_text(top)

    # the whole panel folds away and comes back
    page.click("#collapse-groups")
    expect(page.locator("#group-panel")).to_have_count(0)
    expect(page.locator("#group-panel-collapsed")).to_be_visible()
    shot(page, "panel-collapsed")
    page.click("#expand-groups")
    expect(page.locator("#group-panel")).to_be_visible()


def test_add_rename_delete_and_drag(app_server: RunningApp, page: Page, shot: Shot) -> None:
    db = app_server.database_url
    sign_in(page, app_server.url, "marketer")

    # add a child of a top-level group, and a sibling of a third-level one
    add_group(page, "Experiments", "Price tests", kind="child")
    toast(page, "Group “Price tests” created.")
    expect(group(page, "Price tests")).to_have_attribute("data-depth", "2")
    group(page, "Double 11").locator(".tree-chevron").click()
    add_group(page, "Warm-up", "Pre-sale", kind="sibling")
    expect(group(page, "Pre-sale")).to_have_attribute("data-depth", "3")
    assert node(expected.tree(db, "marketer"), "Pre-sale").parent_id == expected.group_id(db, "Double 11")

    # a child of a third-level group is refused by the service, and the dialog says so
    pre_sale = expected.group_id(db, "Pre-sale")
    refusal = expected.refusal(db, "marketer", lambda s, u: group_service.create_group(
        session=s, actor=u, name="Too deep", relative_to=pre_sale, as_child=True))
    add_group(page, "Pre-sale", "Too deep", kind="child")
    expect(page.locator("#add-group-error")).to_have_text(refusal)
    shot(page, "add-refused")
    page.keyboard.press("Escape")
    expect(group(page, "Too deep")).to_have_count(0)
    dismiss_toasts(page)

    # the top-level "+" on All activities
    page.hover("#group-all")
    page.click("#add-top-group")
    page.fill("#group-name", "Seasonal")
    page.click("#add-group-submit")
    expect(group(page, "Seasonal")).to_have_attribute("data-depth", "1")

    # rename
    open_group_menu(page, "Price tests", "rename")
    expect(page.locator("#rename-name")).to_have_value("Price tests")
    page.fill("#rename-name", "Pricing experiments")
    page.click("#rename-group-submit")
    expect(group(page, "Pricing experiments")).to_be_visible()
    expect(group(page, "Price tests")).to_have_count(0)

    # delete: a group with activities and subgroups says why it cannot go; an empty one goes
    festivals = expected.group_id(db, "Festivals")
    why = expected.refusal(db, "marketer", lambda s, u: group_service.delete_group(
        session=s, actor=u, group_id=festivals))
    open_group_menu(page, "Festivals", "delete")
    page.click("#delete-group-confirm")
    expect(page.locator("#delete-group-error")).to_have_text(why)
    shot(page, "delete-refused")
    page.click("#delete-group-ok")
    expect(group(page, "Festivals")).to_be_visible()
    open_group_menu(page, "Pricing experiments", "delete")
    page.click("#delete-group-confirm")
    toast(page, "Group “Pricing experiments” deleted.")
    expect(group(page, "Pricing experiments")).to_have_count(0)
    dismiss_toasts(page)

    # drag onto the top edge of a group: reorder (goes just before it)
    drag(page, group(page, "Seasonal"), group(page, "Member Growth").locator(".drop-before"))
    toast(page, "Moved “Seasonal”.")
    top = [n.name for n in expected.tree(db, "marketer")]
    assert top.index("Seasonal") == top.index("Member Growth") - 1
    expect(page.locator('.tree-row[data-depth="1"] .tree-name')).to_have_text(top)

    # drag onto a group: it becomes its child (here from level 3 up to level 2)
    expect(group(page, "Warm-up")).to_have_attribute("data-depth", "3")
    drag(page, group(page, "Warm-up"), group(page, "Seasonal"))
    toast(page, "Moved “Warm-up”.")
    expect(group(page, "Warm-up")).to_have_attribute("data-depth", "2")
    assert node(expected.tree(db, "marketer"), "Warm-up").parent_id == expected.group_id(db, "Seasonal")
    shot(page, "after-drag")
    dismiss_toasts(page)

    # deeper than three levels is refused with the service's message, and nothing moves
    member_growth, retention = expected.group_id(db, "Member Growth"), expected.group_id(db, "Retention")
    why = expected.refusal(db, "marketer", lambda s, u: group_service.move_group(
        session=s, actor=u, group_id=member_growth, new_parent_id=retention, position=0))
    drag(page, group(page, "Member Growth"), group(page, "Retention"))
    toast(page, why, "error")
    expect(group(page, "Member Growth")).to_have_attribute("data-depth", "1")
    assert node(expected.tree(db, "marketer"), "Member Growth").parent_id is None
    shot(page, "drag-refused")
