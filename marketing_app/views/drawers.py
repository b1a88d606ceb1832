"""Manage Versions and Execution Records: right-hand drawers over the list (and the canvas page)."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.guarded import guarded_button
from marketing_app.components.live_follow import live_follow
from marketing_app.components.status_badge import status_badge
from marketing_app.states.drawers import RECORD_FILTERS, RecordsState, VersionsState
from marketing_app.views.records_goal import records_goal_section

RECORD_COLORS = {"in_progress": "green", "completed": "gray", "abnormal_end": "red", "stopped": "amber"}


def _drawer(state, title: str, subtitle: rx.Component, body: rx.Component, drawer_id: str) -> rx.Component:
    return rx.drawer.root(
        rx.drawer.overlay(class_name="drawer-overlay"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        rx.vstack(rx.drawer.title(title, class_name="drawer-title"), subtitle, spacing="1",
                                  min_width="0"),
                        rx.spacer(),
                        rx.drawer.close(rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray",
                                                       aria_label="Close", id=f"{drawer_id}-close")),
                        align="start",
                        width="100%",
                        padding="20px 24px 16px",
                        border_bottom=styles.BORDER,
                    ),
                    rx.box(body, flex="1", overflow_y="auto", width="100%", padding="16px 24px 24px"),
                    spacing="0",
                    height="100%",
                    width="100%",
                ),
                class_name="side-drawer",
                id=drawer_id,
            ),
        ),
        open=state.open,
        on_open_change=state.set_open,
        direction="right",
        handle_only=True,
    )


def _subtitle(name: rx.Var[str], status: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    return rx.hstack(
        rx.text(name, size="2", color=styles.MUTED, class_name="truncate", max_width="420px", title=name),
        status_badge(status, label),
        align="center",
        spacing="2",
    )


# ----------------------------------------------------------------------------------------------- versions


def _version_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    vid = row["id"]
    return rx.el.tr(
        rx.el.td(rx.hstack(rx.text(row["number"], weight="medium", size="2"),
                           rx.cond(row["current"] != "", rx.badge("current", size="1", variant="outline")),
                           spacing="2", align="center")),
        rx.el.td(rx.badge(row["status_label"], size="1", variant="soft", radius="full",
                          color_scheme=rx.match(row["status_label"], ("Draft", "violet"), ("Superseded", "gray"),
                                                ("Draining", "amber"), ("In Progress", "green"),
                                                ("Not Started", "blue"), ("Stopped", "amber"),
                                                ("Abnormal End", "red"), "gray"),
                          class_name="version-status")),
        rx.el.td(rx.text(row["author"], size="2")),
        rx.el.td(rx.vstack(rx.text(row["created_at"], size="2"),
                           rx.cond(row["published_at"] != "—",
                                   rx.text("published ", row["published_at"], size="1", color=styles.MUTED)),
                           spacing="0")),
        rx.el.td(rx.hstack(
            rx.button("View", size="1", variant="ghost", on_click=VersionsState.view(vid),
                      custom_attrs={"data-action": "view"}),
            guarded_button("Copy", reason=row["deny_copy"], on_click=VersionsState.copy(vid), action="copy",
                           color="indigo"),
            guarded_button("Stop", reason=row["deny_stop"], on_click=VersionsState.stop(vid), action="stop",
                           color="indigo"),
            guarded_button("Start", reason=row["deny_start"], on_click=VersionsState.start(vid), action="start",
                           color="indigo"),
            spacing="1",
        ), class_name="col-actions-plain"),
        class_name="version-row",
        custom_attrs={"data-number": row["number"], "data-role": row["role"]},
    )


def versions_drawer() -> rx.Component:
    s = VersionsState
    body = rx.el.table(
        rx.el.thead(rx.el.tr(rx.el.th("Version"), rx.el.th("Status"), rx.el.th("Author"), rx.el.th("Time (UTC)"),
                             rx.el.th("Actions"))),
        rx.el.tbody(rx.foreach(s.rows, _version_row)),
        class_name="drawer-table",
        id="versions-table",
    )
    return _drawer(s, "Manage Versions", _subtitle(s.activity_name, s.status, s.status_label), body,
                   "versions-drawer")


# ----------------------------------------------------------------------------------------------- records


def _record_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    rid = row["id"]
    return rx.el.tr(
        rx.el.td(rx.text(row["number"], weight="medium", size="2")),
        rx.el.td(rx.text(row["version"], size="2")),
        rx.el.td(rx.vstack(
            rx.badge(row["status_label"], size="1", variant="soft", radius="full",
                     color_scheme=rx.match(row["status"], *RECORD_COLORS.items(), "gray"), class_name="record-status"),
            rx.cond(row["role"] != "",
                     rx.badge(row["role_label"], size="1", variant="outline", radius="full",
                              color_scheme=rx.cond(row["role"] == "draining", "amber", "green"),
                              class_name="record-role", custom_attrs={"data-role": row["role"]},
                              title=rx.cond(row["role"] == "draining",
                                            "A newer version took over: nobody new enters this round; the customers "
                                            "inside finish on its version.",
                                            "New customers enter this round."))),
            rx.cond(row["pending"] != "", rx.text("re-run queued", size="1", color=styles.MUTED)),
            spacing="1",
        )),
        rx.el.td(rx.text(row["trigger"], size="2", color=styles.MUTED)),
        rx.el.td(rx.text(row["started_at"], size="2")),
        rx.el.td(rx.text(row["ended_at"], size="2")),
        rx.el.td(rx.hstack(
            rx.button("View", size="1", variant="ghost", on_click=RecordsState.view(rid),
                      custom_attrs={"data-action": "view"}),
            guarded_button("Stop", reason=row["deny_stop"], on_click=RecordsState.ask_stop(rid), action="stop",
                           color="indigo"),
            guarded_button("Re-run", reason=row["deny_rerun"], on_click=RecordsState.rerun(rid), action="rerun",
                           color="indigo"),
            spacing="1",
        )),
        class_name="record-row",
        title=row["failure"],
        custom_attrs={"data-number": row["number"], "data-role": row["role"]},
    )


def _record_filter() -> rx.Component:
    return rx.segmented_control.root(
        *[rx.segmented_control.item(label, value=key or "all") for key, label in RECORD_FILTERS],
        value=rx.cond(RecordsState.status == "", "all", RecordsState.status),
        on_change=RecordsState.filter,
        size="1",
        id="record-filter",
    )


def _stop_confirm() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Stop this round?"),
            rx.alert_dialog.description(
                "The round stops now. A one-time activity stops with it; a periodic one keeps its next cycles.",
                size="2", color=styles.MUTED),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Stop", color_scheme="amber", on_click=RecordsState.stop, id="record-stop-confirm"),
                justify="end", spacing="3", margin_top="20px",
            ),
            max_width="420px",
        ),
        open=RecordsState.confirm_id != "",
        on_open_change=RecordsState.cancel_stop,
    )


def records_drawer() -> rx.Component:
    s = RecordsState
    table = rx.el.table(
        rx.el.thead(rx.el.tr(*[rx.el.th(h) for h in ("Round", "Version", "Status", "Trigger", "Start (UTC)",
                                                      "End (UTC)", "Actions")])),
        rx.el.tbody(rx.foreach(s.rows, _record_row)),
        class_name="drawer-table",
        id="records-table",
    )
    body = rx.vstack(
        _record_filter(),
        rx.cond(s.rows.length() > 0, table,
                rx.center(rx.text("No execution records with this status.", size="2", color=styles.MUTED),
                          padding_y="40px", width="100%", id="records-empty")),
        _stop_confirm(),
        records_goal_section(),  # issue 16: conversions per version and round, uplift
        rx.cond(s.follow_key != "", live_follow(watch=s.follow_key, on_start=s.follow, on_stop=s.unfollow,
                                                id="records-follow")),
        spacing="4",
        width="100%",
    )
    return _drawer(s, "Execution Records", _subtitle(s.activity_name, s.activity_status, s.status_label), body,
                   "records-drawer")
