"""The table of the current page of activities: plain table elements (cheaper than Radix tables at scale),
sortable headers, optional columns hidden by CSS (Show Columns), status badges, and the row actions.

Row actions are enabled by the engine (each row carries the refusal of every action for this user, see
states/rows.py); a disabled one shows that refusal on hover.
"""

import reflex as rx

from marketing_app import styles
from marketing_app.components.guarded import guarded_button, guarded_menu_item
from marketing_app.components.status_badge import approval_badge, status_badge
from marketing_app.states.activities import COLUMN_WIDTHS, OPTIONAL_COLUMNS, ActivitiesState
from marketing_app.states.drawers import RecordsState, VersionsState
from marketing_app.states.schedule_actions import ModifyState, ResumeState

S = ActivitiesState
#: the optional columns whose header sorts (the service's SORTABLE keys)
_SORTABLE = {"start_time", "end_time", "created_at", "updated_at"}


def column_css() -> str:
    """`.hide-<key> .col-<key> {display: none}` for every optional column (Show Columns), and for Approval (shown
    while the workspace requires approval)."""
    return "\n".join(f".activity-table.hide-{k} .col-{k} {{ display: none; }}"
                     for k in [*(k for k, _ in OPTIONAL_COLUMNS), "approval"])


def _width(key: str) -> str:
    return f"{COLUMN_WIDTHS[key]}px" if key in COLUMN_WIDTHS else "auto"


def _sort_header(label: str, key: str, css: str) -> rx.Component:
    active = S.sort == key
    arrow = rx.cond(
        active,
        rx.cond(S.descending, rx.icon("arrow_down", size=12), rx.icon("arrow_up", size=12)),
        rx.icon("chevrons_up_down", size=12, class_name="sort-idle"),
    )
    return rx.el.th(
        rx.el.button(label, arrow, on_click=S.sort_by(key), class_name="sort-button",
                     custom_attrs={"data-sort": key}),
        class_name=rx.cond(active, f"{css} sorted", css),
        width=_width(key),
        custom_attrs={"aria-sort": rx.cond(active, rx.cond(S.descending, "descending", "ascending"), "none")},
    )


def _header() -> rx.Component:
    cells = [
        rx.el.th(rx.checkbox(checked=S.page_selected, on_change=S.toggle_page, aria_label="Select this page",
                             id="select-page"), class_name="col-select", width=_width("select")),
        _sort_header("Name", "name", "col-name"),
        _sort_header("Status", "status", "col-status"),
        _sort_header("Approval", "approval_status", "col-approval"),
    ]
    for key, label in OPTIONAL_COLUMNS:
        css = f"col-{key}"
        cells.append(_sort_header(label, key, css) if key in _SORTABLE
                     else rx.el.th(label, class_name=css, width=_width(key)))
    cells.append(rx.el.th("Actions", class_name="col-actions", width=_width("actions")))
    return rx.el.thead(rx.el.tr(*cells))


def _more_menu(row: rx.Var[dict[str, str]]) -> rx.Component:
    rid = row["id"]
    return rx.menu.root(
        rx.menu.trigger(
            rx.button("More", rx.icon("chevron_down", size=12), size="1", variant="ghost", color_scheme="gray",
                      class_name="more-trigger"),
        ),
        rx.menu.content(
            guarded_menu_item("Pause", reason=row["deny_pause"], on_click=S.ask_pause(rid), action="pause",
                              icon="circle_pause"),
            guarded_menu_item("Stop", reason=row["deny_stop"], on_click=S.ask_stop(rid), action="stop",
                              icon="circle_stop"),
            guarded_menu_item("Resume", reason=row["deny_resume"], on_click=ResumeState.open_for(rid),
                              action="resume", icon="rotate_ccw"),
            guarded_menu_item("Start", reason=row["deny_start"], on_click=S.start(rid), action="start",
                              icon="circle_play"),
            guarded_menu_item("Modify", reason=row["deny_modify"], on_click=ModifyState.open_for(rid),
                              action="modify", icon="calendar_clock"),
            guarded_menu_item("Delete", reason=row["deny_delete"], on_click=S.ask_delete(rid), action="delete",
                              icon="trash_2", color="red"),
            rx.menu.separator(),
            guarded_menu_item("Execution Records", reason=row["deny_records"], on_click=RecordsState.open_for(rid),
                              action="records", icon="history"),
            rx.menu.item(rx.hstack(rx.icon("git_branch", size=14), rx.text("Manage Versions"), spacing="2",
                                   align="center"),
                         on_click=VersionsState.open_for(rid), custom_attrs={"data-action": "versions"}),
            rx.menu.separator(),
            guarded_menu_item(row["public_label"], reason=row["deny_public"], on_click=S.toggle_public(rid),
                              action="public", icon="globe"),
            guarded_menu_item("Move to group", reason=row["deny_move"], on_click=S.open_move(rid), action="move",
                              icon="folder_input"),
            size="1",
            align="end",
            class_name="row-menu",
        ),
    )


def _actions(row: rx.Var[dict[str, str]]) -> rx.Component:
    rid = row["id"]
    return rx.hstack(
        guarded_button("Edit", reason=row["deny_edit"], on_click=S.edit(rid), action="edit"),
        guarded_button("Details", reason=row["deny_details"], on_click=S.details(rid), action="details"),
        guarded_button("Copy", reason=row["deny_copy"], on_click=S.copy(rid), action="copy"),
        _more_menu(row),
        spacing="1",
        align="center",
        wrap="nowrap",
    )


def _visibility(value: rx.Var[str]) -> rx.Component:
    return rx.hstack(
        rx.cond(value == "Public", rx.icon("globe", size=13), rx.icon("lock", size=13)),
        rx.text(value, size="2"),
        align="center",
        spacing="1",
        color=styles.MUTED,
    )


def _text(value: rx.Var[str], *, muted: bool = True) -> rx.Component:
    return rx.text(value, size="2", color=styles.MUTED if muted else None, class_name="truncate", title=value)


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    rid = row["id"]
    optional = {
        "owner": _text(row["owner_name"], muted=False),
        "group": _text(row["group_name"]),
        "campaigns": _text(row["campaigns"]),
        "version": _text(row["version"]),
        "visibility": _visibility(row["visibility"]),
        "start_time": _text(row["start_time"]),
        "end_time": _text(row["end_time"]),
        "created_at": _text(row["created_at"]),
        "updated_at": _text(row["updated_at"]),
    }
    return rx.el.tr(
        rx.el.td(rx.checkbox(checked=S.selected.contains(rid), on_change=lambda _c: S.toggle_row(rid),
                             aria_label="Select", class_name="row-check"), class_name="col-select"),
        rx.el.td(
            rx.el.button(row["name"], class_name="activity-name truncate", title=row["name"],
                         on_click=S.details(rid)),
            rx.cond(row["description"] != "",
                    rx.text(row["description"], size="1", color=styles.MUTED, class_name="activity-desc truncate",
                            title=row["description"])),
            # the schedule, and the next run when one is planned (from the row: no query of its own)
            rx.text(row["schedule"], rx.cond(row["next_run"] != "", " · next " + row["next_run"] + " UTC", ""),
                    size="1", color=styles.MUTED, class_name="activity-schedule truncate",
                    title=rx.cond(row["next_run"] != "", "Next run " + row["next_run"] + " UTC", "No run planned")),
            rx.cond(row["process"] != "",
                    rx.text("From process ", row["process"], size="1",
                            color=styles.MUTED, class_name="activity-process truncate",
                            title="Created from the process " + row["process"])),
            class_name="col-name",
        ),
        rx.el.td(status_badge(row["status"], row["status_label"]), class_name="col-status"),
        rx.el.td(rx.link(approval_badge(row["approval"], row["approval_label"]), href="/activities/" + rid +
                         "/approval", title="Approval details: testers, requests and decisions"),
                 class_name="col-approval"),
        *[rx.el.td(cell, class_name=f"col-{key}") for key, cell in optional.items()],
        rx.el.td(_actions(row), class_name="col-actions"),
        class_name=rx.cond(S.selected.contains(rid), "activity-row selected", "activity-row"),
        custom_attrs={"data-id": rid, "data-name": row["name"]},
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(rx.icon("inbox", size=22, color="var(--gray-9)"), width="48px", height="48px",
                      border_radius="999px", background="var(--gray-a3)"),
            rx.text(rx.cond(S.filtered, "No activities match", "No activities yet"), weight="medium", size="3"),
            rx.text(
                rx.cond(S.filtered,
                        "Try another status, group, name, sub-activity, process or audience, or clear the filters.",
                        "Create your first activity with New activity."),
                size="2", color=styles.MUTED,
            ),
            align="center",
            spacing="2",
        ),
        padding_y="64px",
        id="activities-empty",
    )


def activity_table() -> rx.Component:
    return rx.cond(
        S.rows.length() > 0,
        rx.box(
            rx.el.table(_header(), rx.el.tbody(rx.foreach(S.rows, _row)), class_name=S.table_class,
                        id="activity-table", min_width=S.table_min_width),
            class_name="table-scroll",
        ),
        rx.cond(S.loaded, _empty(), rx.center(rx.spinner(size="3"), padding_y="64px")),
    )
