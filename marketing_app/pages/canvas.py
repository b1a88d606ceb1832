"""/activities/<id>/canvas: the campaign canvas (edit, or read-only Details / a past version), full screen; and
/templates: New from Template.

The canvas page has no console sidebar: a header (back, name + pencil, status, version dropdown, Manage Versions,
Save Draft,
Dry run, Publish), the palette and React Flow in the middle, the configuration panel on the right. A read-only
canvas of an executed activity shows the round's numbers on its components (live while In Progress), the
Incoming Users panel (a trigger's numbers) and the action analysis panel (any other component's numbers). A
dry run's numbers (DryRunState) take the place of a round's on the cards and lines while it is shown.
"""

import reflex as rx

from marketing_app import styles
from marketing_app.components.flow_canvas import flow_canvas
from marketing_app.components.live_follow import live_follow
from marketing_app.states.auth import AuthState
from marketing_app.states.canvas import CanvasState
from marketing_app.states.canvas_dry_run import DryRunState
from marketing_app.states.canvas_header import CanvasHeaderState
from marketing_app.states.canvas_templates import TemplatesState
from marketing_app.states.execution import ExecutionState
from marketing_app.states.execution_incoming import IncomingState
from marketing_app.templates import template
from marketing_app.views.analysis_panel import analysis_panel
from marketing_app.views.canvas_dialogs import (
    confirm_dialog,
    hint_dialog,
    info_dialog,
    problems_window,
    process_dialog,
    template_window,
)
from marketing_app.views.canvas_dry_run import dry_run_dialog, dry_run_panel
from marketing_app.views.canvas_header import header
from marketing_app.views.canvas_panel import config_panel
from marketing_app.views.canvas_templates import gallery
from marketing_app.views.drawers import versions_drawer
from marketing_app.views.incoming_panel import incoming_panel

S = CanvasState
STYLESHEET = "/canvas/canvas_page.css"


def _stylesheet() -> rx.Component:
    return rx.el.link(rel="stylesheet", href=STYLESHEET)


def _canvas() -> rx.Component:
    return flow_canvas(
        nodes=S.nodes, edges=S.edges, palette=S.palette, selected=S.selected, rev=S.rev, read_only=S.read_only,
        preview=False, copy_mode=S.copy_mode, can_undo=S.can_undo, can_redo=S.can_redo,
        dirty=S.dirty | CanvasHeaderState.changed, focus=S.focus, view_key=S.view_key, on_action=S.act,
        execution=rx.cond(DryRunState.shown, DryRunState.data, ExecutionState.data), route=IncomingState.route,
        on_execution=ExecutionState.open_data,
    )


def _live() -> rx.Component:
    """While the round shown is In Progress (or its sends await receipts) the server pushes its numbers; the
    follower ends with that, or when the user leaves the page."""
    return rx.cond(ExecutionState.follow_key != "",
                   live_follow(watch=ExecutionState.follow_key, on_start=ExecutionState.follow,
                               on_stop=ExecutionState.unfollow, id="canvas-follow"))


def _editor() -> rx.Component:
    return rx.box(
        header(),
        rx.hstack(
            rx.box(
                _canvas(),
                problems_window(),
                template_window(),
                position="relative", flex="1", min_width="0", height="100%", id="canvas-area",
                class_name=rx.cond(S.read_only, "read-only", "editing"),
            ),
            incoming_panel(),
            config_panel(),
            analysis_panel(),
            dry_run_panel(),
            spacing="0", flex="1", min_height="0", width="100%", align="stretch",
        ),
        _live(),
        confirm_dialog(),
        info_dialog(),
        process_dialog(),
        hint_dialog(),
        dry_run_dialog(),
        versions_drawer(),
        display="flex", flex_direction="column", height="100vh", width="100%", background=styles.APP_BG,
        overflow="hidden", id="canvas-page",
    )


def _missing() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.callout(S.error, icon="circle_alert", color_scheme="red", id="canvas-error"),
            rx.link("Back to Automated Marketing", href="/", id="back-to-list"),
            spacing="3", align="center",
        ),
        height="100vh", background=styles.APP_BG,
    )


def _spinner() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh", background=styles.APP_BG)


@rx.page(route="/activities/[activity_id]/canvas", title="Canvas · Automated Marketing",
         on_load=[AuthState.require_login, CanvasState.load])
def canvas() -> rx.Component:
    return rx.fragment(
        _stylesheet(),
        rx.cond(
            AuthState.display_name == "",
            _spinner(),
            rx.cond(S.error != "", _missing(), rx.cond(S.loaded, _editor(), _spinner())),
        ),
    )


@template(route="/templates", title="New from Template", on_load=TemplatesState.load)
def templates() -> rx.Component:
    return rx.fragment(_stylesheet(), gallery())
