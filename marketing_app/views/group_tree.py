"""The group panel left of the list: All activities, Ungrouped and the custom groups (three levels).

Hovering a row shows "+" (add a sibling or child group) and "…" (rename, delete); rows can be dragged onto a
group (becomes its child) or onto the top edge of a row (goes just before it). The panel collapses to a thin
strip and comes back.
"""

import reflex as rx

from engine.models.group import GROUP_NAME_MAX
from marketing_app import styles
from marketing_app.components.dnd import DRAG_START, drag_box, drop_container
from marketing_app.states.group_list import GroupListState
from marketing_app.states.groups import ALL, UNGROUPED, GroupTreeState, TreeRow

S = GroupTreeState
L = GroupListState  # the tree's events after which the activity list follows
INDENT_PX = 16


def _icon_button(icon: str, label: str, on_click, **props) -> rx.Component:
    return rx.tooltip(
        rx.icon_button(rx.icon(icon, size=14), size="1", variant="ghost", color_scheme="gray", on_click=on_click,
                       aria_label=label, **props),
        content=label,
    )


def _folder(full: rx.Var[bool] | bool) -> rx.Component:
    return rx.cond(
        full,
        rx.icon("folder", size=16, class_name="folder-icon folder-full"),
        rx.icon("folder", size=16, class_name="folder-icon folder-empty"),
    )


def _count(n: rx.Var[int] | int) -> rx.Component:
    return rx.text(n, size="1", class_name="tree-count")


def _row_actions(row: rx.Var[TreeRow]) -> rx.Component:
    return rx.cond(
        S.can_write,
        rx.hstack(
            _icon_button("plus", "Add group", S.open_add(row.id).stop_propagation, class_name="tree-add"),
            rx.menu.root(
                rx.menu.trigger(
                    rx.icon_button(rx.icon("ellipsis", size=14), size="1", variant="ghost", color_scheme="gray",
                                   aria_label="More", class_name="tree-more",
                                   on_click=rx.stop_propagation),
                ),
                rx.menu.content(
                    rx.menu.item(rx.hstack(rx.icon("pencil", size=14), rx.text("Rename"), spacing="2",
                                           align="center"),
                                 on_click=S.open_rename(row.id).stop_propagation, class_name="tree-rename"),
                    rx.menu.item(rx.hstack(rx.icon("trash_2", size=14), rx.text("Delete"), spacing="2",
                                           align="center"),
                                 on_click=S.open_delete(row.id).stop_propagation, color_scheme="red",
                                 class_name="tree-delete"),
                    size="1",
                ),
            ),
            spacing="1",
            class_name="tree-actions",
        ),
    )


def _chevron(row: rx.Var[TreeRow]) -> rx.Component:
    return rx.cond(
        row.has_children,
        rx.el.button(
            rx.cond(row.expanded, rx.icon("chevron_down", size=14), rx.icon("chevron_right", size=14)),
            on_click=S.toggle(row.id).stop_propagation,
            class_name="tree-chevron",
            aria_label=rx.cond(row.expanded, "Collapse", "Expand"),
            custom_attrs={"aria-expanded": row.expanded},
        ),
        rx.box(class_name="tree-chevron-space"),
    )


def _group_row(row: rx.Var[TreeRow]) -> rx.Component:
    key = row.id.to_string()
    return drag_box(
        drag_box(
            class_name="drop-before",
            on_drop=L.drop_before(row.id).stop_propagation,
            custom_attrs={"data-drop": "before"},
        ),
        _chevron(row),
        _folder(row.has_activities),
        rx.text(row.name, size="2", class_name="tree-name truncate", title=row.name),
        _count(row.count),
        _row_actions(row),
        on_click=L.select(key),
        on_drag_start=S.drag_start(row.id),
        on_drag_end=S.drag_end,
        on_drop=L.drop_into(row.id),
        draggable=S.can_write,
        class_name=rx.cond(S.selected == key, "tree-row selected", "tree-row"),
        padding_left=(row.depth * INDENT_PX - 8).to_string() + "px",
        custom_attrs={
            "data-drop": "into", "data-group": row.name, "data-depth": row.depth,
            "onDragStartCapture": DRAG_START,
        },
    )


def _fixed_row(key: str, label: str, icon: rx.Component, count: rx.Var[int], *, row_id: str,
               actions: rx.Component | None = None, drop: bool = False) -> rx.Component:
    props = {"on_drop": L.drop_into(0), "custom_attrs": {"data-drop": "into"}} if drop else {}
    return drag_box(
        rx.box(class_name="tree-chevron-space"),
        icon,
        rx.text(label, size="2", weight="medium", class_name="tree-name truncate"),
        _count(count),
        actions if actions is not None else rx.fragment(),
        on_click=L.select(key),
        class_name=rx.cond(S.selected == key, "tree-row selected", "tree-row"),
        padding_left=f"{INDENT_PX - 8}px",
        id=row_id,
        **props,
    )


def _search() -> rx.Component:
    return rx.box(
        rx.debounce_input(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                rx.cond(S.searching,
                        rx.input.slot(rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost",
                                                     color_scheme="gray", on_click=S.clear_search,
                                                     aria_label="Clear group search"))),
                placeholder="Search groups",
                value=S.search,
                on_change=S.set_search,
                size="2",
                id="group-search",
            ),
            debounce_timeout=250,
        ),
        padding="0 12px 8px",
    )


def _tree() -> rx.Component:
    all_actions = rx.cond(
        S.can_write,
        rx.hstack(_icon_button("plus", "Add a top-level group", S.open_add(0).stop_propagation, id="add-top-group"),
                  class_name="tree-actions"),
    )
    return drop_container(
        _fixed_row(ALL, "All activities", rx.icon("layers", size=16, class_name="folder-icon folder-full"),
                   S.total_count, row_id="group-all", actions=all_actions, drop=True),
        _fixed_row(UNGROUPED, "Ungrouped", _folder(S.ungrouped_count > 0), S.ungrouped_count,
                   row_id="group-ungrouped"),
        rx.foreach(S.rows, _group_row),
        rx.cond(
            S.searching & (S.rows.length() == 0),
            rx.text("No group matches “", S.search, "”.", size="1", color=styles.MUTED, padding="8px 12px",
                    id="group-search-empty"),
        ),
        class_name=rx.cond(S.dragging != 0, "group-tree dragging", "group-tree"),
        id="group-tree",
    )


def _header() -> rx.Component:
    return rx.hstack(
        rx.text("Groups", size="2", weight="bold"),
        rx.spacer(),
        _icon_button("panel_left_close", "Collapse the group panel", S.toggle_panel, id="collapse-groups"),
        align="center",
        padding="12px 8px 8px 14px",
        width="100%",
    )


def group_panel() -> rx.Component:
    return rx.cond(
        S.panel_open,
        rx.box(
            _header(),
            _search(),
            rx.scroll_area(_tree(), type="hover", scrollbars="vertical", max_height="calc(100vh - 260px)",
                           padding="0 6px 8px"),
            width=styles.TREE_WIDTH,
            min_width=styles.TREE_WIDTH,
            id="group-panel",
            style=styles.panel_style,
            align_self="start",
        ),
        rx.box(
            _icon_button("panel_left_open", "Show the group panel", S.toggle_panel, id="expand-groups"),
            padding="8px 6px",
            id="group-panel-collapsed",
            style=styles.panel_style,
            align_self="start",
        ),
    )


# ----------------------------------------------------------------------------------------------- dialogs


def _error(message: rx.Var[str], error_id: str) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="circle_alert", color_scheme="red", size="1", id=error_id, width="100%"),
    )


def _name_input(default: rx.Var[str] | str, input_id: str) -> rx.Component:
    return rx.vstack(
        rx.text("Group name", as_="label", html_for=input_id, size="2", weight="medium"),
        # No max_length / required: the browser would cut a pasted name or bubble its own words; the service's
        # message (engine.services.groups._name_problem) is the one shown.
        rx.input(name="name", id=input_id, default_value=default, auto_focus=True,
                 placeholder="e.g. Spring campaigns", width="100%"),
        rx.text(f"Up to {GROUP_NAME_MAX} characters, unique among its siblings.", size="1", color=styles.MUTED),
        spacing="1",
        width="100%",
    )


def _buttons(ok: str, submit_id: str, color: str = "indigo") -> rx.Component:
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        rx.button(ok, type="submit", id=submit_id, color_scheme=color),
        justify="end",
        spacing="3",
        width="100%",
        margin_top="8px",
    )


def add_group_dialog() -> rx.Component:
    kind = rx.cond(
        S.add_anchor != 0,
        rx.vstack(
            rx.text("Add as", size="2", weight="medium"),
            rx.radio_group.root(
                rx.hstack(
                    rx.el.label(rx.radio_group.item(value="sibling", id="add-kind-sibling"),
                                rx.text("Sibling group", size="2"), class_name="radio-option"),
                    rx.el.label(rx.radio_group.item(value="child", id="add-kind-child"),
                                rx.text("Child group", size="2"), class_name="radio-option"),
                    spacing="5",
                ),
                value=S.add_kind,
                on_change=S.set_add_kind,
                name="kind",
            ),
            spacing="2",
            width="100%",
        ),
        rx.text("The new group goes at the top level.", size="2", color=styles.MUTED),
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New group"),
            rx.dialog.description(
                rx.cond(S.add_anchor != 0, rx.fragment("Next to or inside “", S.add_anchor_name, "”."),
                        "A new top-level group."),
                size="2", color=styles.MUTED, margin_bottom="16px",
            ),
            rx.form(
                rx.vstack(kind, _name_input("", "group-name"), _error(S.add_error, "add-group-error"),
                          _buttons("OK", "add-group-submit"), spacing="4"),
                on_submit=S.submit_add,
                reset_on_submit=False,
            ),
            max_width="440px",
            id="add-group-dialog",
        ),
        open=S.add_open,
        on_open_change=S.set_add_open,
    )


def rename_group_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename group"),
            rx.form(
                rx.vstack(_name_input(S.rename_name, "rename-name"), _error(S.rename_error, "rename-group-error"),
                          _buttons("OK", "rename-group-submit"), spacing="4"),
                on_submit=L.submit_rename,
                reset_on_submit=False,
            ),
            max_width="440px",
            id="rename-group-dialog",
        ),
        open=S.rename_open,
        on_open_change=S.set_rename_open,
    )


def delete_group_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(rx.cond(S.delete_error != "", "Cannot delete this group",
                                          "Delete group?")),
            rx.cond(
                S.delete_error != "",
                rx.callout(S.delete_error, icon="circle_alert", color_scheme="red", size="2",
                           id="delete-group-error", margin_y="12px"),
                rx.alert_dialog.description(
                    "“", S.delete_name, "” is deleted. Only an empty group (no activities, no subgroups) can be "
                    "deleted.", size="2", margin_bottom="16px",
                ),
            ),
            rx.hstack(
                rx.cond(
                    S.delete_error != "",
                    rx.alert_dialog.cancel(rx.button("OK", id="delete-group-ok")),
                    rx.fragment(
                        rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.button("Delete", color_scheme="red", on_click=L.confirm_delete, id="delete-group-confirm"),
                    ),
                ),
                justify="end",
                spacing="3",
            ),
            max_width="440px",
            id="delete-group-dialog",
        ),
        open=S.delete_open,
        on_open_change=S.set_delete_open,
    )
