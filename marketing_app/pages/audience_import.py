"""/audiences/import: a CSV becomes a static audience — upload, map the columns, import with progress, and the
rejected rows with their line numbers and reasons when the file is refused (nothing is saved then)."""

import reflex as rx

from marketing_app.states.audience_import import TARGETS
from marketing_app.states.audience_import import AudienceImportState as S
from marketing_app.states.auth import AuthState
from marketing_app.templates import template

STYLESHEET = "/audiences/audiences.css"
UPLOAD_ID = "csv-upload"


def _upload() -> rx.Component:
    return rx.upload(
        rx.vstack(rx.icon("upload", size=24), rx.text("Drop a CSV here or click to choose one", size="2"),
                  rx.text("First line: column names; one customer per line; UTF-8.", size="1", class_name="muted"),
                  align="center", spacing="2"),
        id=UPLOAD_ID, multiple=False, max_files=1, accept={"text/csv": [".csv"], "text/plain": [".txt"]},
        on_drop=S.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
        border="1px dashed var(--gray-a7)", border_radius="10px", padding="32px", width="100%", cursor="pointer",
    )


def _column(c: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(rx.text(c["header"], weight="medium", size="2")),
        rx.el.td(rx.select.root(
            rx.select.trigger(class_name="column-target", width="260px"),
            rx.select.content(
                *[rx.select.item(label, value=key) for key, label in TARGETS],
                rx.select.item("Tag “" + c["header"] + "”", value=c["tag"]),
                rx.select.item("Attribute “" + c["header"] + "”", value=c["attr"]),
                rx.select.item("Leave out", value="-"),
            ),
            value=c["target"], on_change=lambda v: S.set_target(c["index"], v), size="2",
        )),
        class_name="column-row", custom_attrs={"data-header": c["header"], "data-target": c["target"]},
    )


def _mapping() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text("File: ", rx.el.b(S.file_name), " · ", S.lines, " data lines", size="2"),
                  rx.spacer(),
                  rx.button("Choose another file", variant="ghost", size="1", on_click=S.start_over),
                  width="100%"),
        rx.input(value=S.name, on_change=S.set_name, placeholder="Audience name", max_length=60, width="360px",
                 id="import-name"),
        rx.el.table(rx.el.thead(rx.el.tr(rx.el.th("Column in the file"), rx.el.th("Imported as"))),
                    rx.el.tbody(rx.foreach(S.columns, _column)), class_name="audience-table", id="column-map"),
        rx.button("Import", on_click=S.start_import, id="start-import", disabled=S.step == "running"),
        spacing="3", width="100%",
    )


def _running() -> rx.Component:
    return rx.vstack(
        rx.text(S.phase, size="2", id="import-phase"),
        rx.progress(value=S.progress, max=100, width="100%", id="import-progress"),
        spacing="2", width="100%",
    )


def _failed() -> rx.Component:
    return rx.vstack(
        rx.callout(S.message, icon="triangle_alert", color_scheme="red", id="import-error", width="100%"),
        rx.cond(S.rejected.length() > 0, rx.vstack(
            rx.text("Rejected rows (", S.rejected_total, "): nothing was imported. Fix them and import again.",
                    size="2", weight="medium"),
            rx.box(rx.el.table(
                rx.el.thead(rx.el.tr(rx.el.th("Line", style={"width": "90px"}), rx.el.th("Reason"))),
                rx.el.tbody(rx.foreach(S.rejected, lambda r: rx.el.tr(rx.el.td(r[0]), rx.el.td(r[1]),
                                                                        class_name="rejected-row",
                                                                        custom_attrs={"data-line": r[0]}))),
                class_name="audience-table"), max_height="360px", overflow_y="auto", width="100%"),
            spacing="2", width="100%", id="rejected")),
        spacing="3", width="100%",
    )


def _done() -> rx.Component:
    return rx.vstack(
        rx.callout(S.summary, icon="circle_check", color_scheme="green", id="import-done", width="100%"),
        rx.hstack(rx.link(rx.button("Back to audiences"), href="/audiences"),
                  rx.button("Import another file", variant="soft", on_click=S.start_over)),
        spacing="3", width="100%",
    )


@template(route="/audiences/import", title="Import audience", on_load=S.load)
def import_audience() -> rx.Component:
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        rx.hstack(rx.link(rx.icon("arrow_left", size=16), href="/audiences", aria_label="Back to audiences"),
                  rx.heading("Import a CSV audience", size="6", id="page-title"), align="center", spacing="3"),
        rx.cond(
            AuthState.role == "manager",
            rx.callout("Managers have read-only access: ask a marketer or an admin to import.", icon="lock",
                       id="read-only", width="100%"),
            rx.box(
                rx.match(S.step, ("upload", rx.cond(S.ready, _upload(), rx.spinner(size="3"))), ("done", _done()),
                         rx.vstack(rx.cond(S.step == "running", _running()),
                                   rx.cond(S.step == "failed", _failed()),
                                   rx.cond(S.step != "running", _mapping()), spacing="4", width="100%")),
                class_name="panel", padding="20px", width="100%",
            ),
        ),
        spacing="4", width="100%", id="audiences",
    )
