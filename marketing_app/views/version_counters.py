"""Counters per version (issue 16): the action analysis panel's "Per version" section (this component's entries
and unique customers in the version the selector chose, and in every version) and the canvas header's
"Counters per version" button with its dialog (every component, those the live version removed included).
Every number is shown beside its version's label; "—" where the component is not in that version."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.live_follow import live_follow
from marketing_app.states.analysis import AnalysisState
from marketing_app.states.execution import ExecutionState
from marketing_app.states.version_counters import UNION_NOTE, VersionCountersState

C = VersionCountersState
STYLESHEET = "/version_counters/version_counters.css"


def _selector(id_: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder="All versions", id=id_),
        rx.select.content(rx.foreach(C.options, lambda o: rx.select.item(
            o["label"], value=o["value"], custom_attrs={"data-version": o["label"]}))),
        value=C.selected, on_change=C.choose, size="1",
    )


def _unique(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.text(row["unique"], size="2", class_name="vc-unique",
                   title=rx.cond(row["kind"] == "estimate", "Estimate (HyperLogLog)",
                                 rx.cond(row["kind"] == "exact", "Exact", "")),
                   color=rx.cond(row["kind"] == "estimate", "var(--amber-11)", "inherit"))


def _version_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.text(row["version"], size="2", weight="medium")),
        rx.el.td(rx.text(row["entries"], size="2")),
        rx.el.td(_unique(row)),
        class_name=rx.cond(row["value"] == C.selected, "vc-row selected", "vc-row"),
        custom_attrs={"data-version": row["version"], "data-entries": row["entries"], "data-unique": row["unique"],
                      "data-present": row["present"]},
    )


def _table(header: str, rows: rx.Var, row_fn, id_: str) -> rx.Component:  # noqa: ANN001
    return rx.el.table(
        rx.el.thead(rx.el.tr(rx.el.th(header), rx.el.th("Entries"), rx.el.th("Unique customers"))),
        rx.el.tbody(rx.foreach(rows, row_fn)),
        id=id_, class_name="vc-table",
    )


def version_counters_section() -> rx.Component:
    """The analysis panel's section: it loads for the panel's component when the panel's body mounts, and again
    whenever the (live) panel has read a new snapshot."""
    cur = C.current
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        rx.hstack(
            rx.text("Per version", class_name="analysis-section-title"),
            rx.spacer(),
            _selector("vc-panel-select"),
            rx.icon_button(rx.icon("refresh_cw", size=13), size="1", variant="ghost", color_scheme="gray",
                           on_click=C.refresh, title="Read the numbers again", id="vc-refresh"),
            align="center", width="100%",
        ),
        rx.cond(C.error != "", rx.callout(C.error, icon="circle_alert", color_scheme="red", size="1")),
        rx.hstack(
            rx.badge(C.version_label, size="2", variant="soft", color_scheme="indigo", id="vc-panel-version"),
            rx.cond(cur["present"] == "true",
                    rx.hstack(rx.text("Entries ", rx.el.b(cur["entries"], id="vc-panel-entries"), size="2"),
                              rx.text("Unique customers ", rx.el.b(cur["unique"], id="vc-panel-unique"), size="2"),
                              spacing="4"),
                    rx.text("— not in this version", size="2", color=styles.MUTED, id="vc-panel-absent")),
            align="center", spacing="3", id="vc-panel-current",
            custom_attrs={"data-version": C.version_label, "data-entries": cur["entries"],
                          "data-unique": cur["unique"]},
        ),
        _table("Version", C.node_rows, _version_row, "vc-panel-table"),
        rx.text(C.note, " ", UNION_NOTE, size="1", color=styles.MUTED, id="vc-panel-note"),
        # the panel's component and its last read: each new snapshot of a live panel re-reads these numbers too
        live_follow(watch=AnalysisState.record_id.to_string() + ":" + AnalysisState.node_id + ":"
                    + AnalysisState.updated_at, on_start=C.follow_panel, on_stop=C.unfollow, id="vc-follow"),
        spacing="2", width="100%", id="vc-panel",
    )


def _component_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.hstack(
            rx.text(row["label"], size="2", weight="medium"),
            rx.text(row["node"], size="1", color=styles.MUTED, class_name="mono"),
            rx.cond(row["removed"] == "true", rx.badge("removed in the live version", size="1", variant="soft",
                                                       color_scheme="gray")),
            spacing="2", align="center")),
        rx.el.td(rx.text(row["entries"], size="2")),
        rx.el.td(_unique(row)),
        class_name="vc-row",
        custom_attrs={"data-node": row["node"], "data-entries": row["entries"], "data-unique": row["unique"],
                      "data-present": row["present"], "data-removed": row["removed"]},
    )


def version_counters_button() -> rx.Component:
    """The canvas header's button (a canvas showing a round's numbers) and its dialog."""
    return rx.fragment(rx.el.link(rel="stylesheet", href=STYLESHEET), rx.cond(
        ExecutionState.shown,
        rx.dialog.root(
            rx.dialog.trigger(rx.button(rx.icon("layers", size=12), "Per version", size="1", variant="soft",
                                        color_scheme="gray", id="vc-open",
                                        on_click=C.open_dialog(ExecutionState.record_id),
                                        title="Entries and unique customers of every component, per version")),
            rx.dialog.content(
                rx.hstack(rx.dialog.title("Counters per version", margin="0"), rx.spacer(),
                          _selector("vc-dialog-select"), align="center", width="100%"),
                rx.text("Showing ", rx.el.b(C.version_label, id="vc-dialog-version"), size="2",
                        margin_y="8px"),
                _table("Component", C.rows, _component_row, "vc-dialog-table"),
                rx.text(C.note, " ", UNION_NOTE, size="1", color=styles.MUTED, margin_top="8px"),
                rx.hstack(rx.spacer(), rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray",
                                                                 id="vc-close")), margin_top="12px"),
                max_width="640px", id="vc-dialog",
            ),
            open=C.dialog_open, on_open_change=C.set_dialog_open,
        ),
    ))
