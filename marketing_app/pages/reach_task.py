"""/reach/<channel>/<task id>: a reach task's details (seed 003, "View details"): content with Preview, send
time, counts with Refresh, the numbers sent (last four digits only) with their result and failure reason, and
Generate Audience from the succeeded / failed / no-feedback numbers, with its progress. After 7 days the page
says the details expired and offers no Generate Audience."""

import reflex as rx

from marketing_app.states.reach_task import ALL, RESULT_CHOICES, RESULT_COLORS
from marketing_app.states.reach_task import ReachTaskState as S
from marketing_app.templates import template
from marketing_app.views.reach_table import STATUS_COLORS

ROUTE = "/reach/[channel]/[task]"
STYLESHEET = "/reach/reach.css"


def _header() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow_left", size=14), rx.text("Reach Tasks · ", S.channel_label), spacing="1",
                          align="center"), href="/reach/" + S.channel, size="2", id="back-to-list"),
        rx.hstack(
            rx.heading(S.name, size="6", id="page-title"),
            rx.tooltip(rx.badge(S.status_label, color_scheme=rx.match(S.status, *STATUS_COLORS.items(), "gray"),
                                variant="soft", radius="full", id="task-status"),
                       content=rx.cond(S.status_reason != "", S.status_reason, S.status_label)),
            align="center", spacing="3",
        ),
        rx.link("Open the round on the canvas", href=S.activity_href, size="1", class_name="activity-link"),
        spacing="1",
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text("Content", weight="medium", size="2"), rx.spacer(),
                  rx.button(rx.icon("eye", size=14), "Preview", size="1", variant="soft",
                            on_click=S.set_preview_open(True), id="preview-button"), width="100%"),
        rx.text(S.content, size="2", id="task-content", white_space="pre-wrap"),
        rx.cond(S.segments != "", rx.text(S.segments, size="1", class_name="muted", id="task-segments")),
        rx.hstack(rx.text("Send time: ", S.sent_at, size="2", id="sent-at"),
                  rx.text("Details kept until ", S.expires_at, size="1", class_name="muted"),
                  spacing="4", align="baseline"),
        class_name="panel", padding="16px", spacing="2", width="100%",
    )


def _count(key: str, label: str, color: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", class_name="muted"),
                     rx.text(S.counts[key], size="6", weight="bold", color=color, class_name="count-value"),
                     spacing="0", custom_attrs={"data-count": key}, class_name="task-count")


def _counts() -> rx.Component:
    return rx.hstack(
        _count("included", "Included", "var(--gray-12)"),
        _count("success", "Succeeded", "var(--green-11)"),
        _count("failed", "Failed", "var(--red-11)"),
        _count("pending", "No feedback", "var(--amber-11)"),
        rx.cond(S.counts["not_sent"] != "",
                rx.text(S.counts["not_sent"], " without a phone number (not sent)", size="1", class_name="muted")),
        rx.spacer(),
        rx.text("Updated ", S.refreshed_at, size="1", class_name="muted"),
        rx.button(rx.icon("refresh_cw", size=14), "Refresh", size="2", variant="soft", on_click=S.refresh,
                  id="refresh-button"),
        class_name="panel", padding="16px", spacing="6", width="100%", align="center", id="task-counts",
    )


def _number_row(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(r["number"], class_name="phone"),
        rx.el.td(r["at"]),
        rx.el.td(rx.badge(r["result_label"], color_scheme=rx.match(r["result"], *RESULT_COLORS.items(), "gray"),
                          variant="soft", radius="full")),
        rx.el.td(rx.text(r["reason"], class_name="truncate", title=r["reason"], size="2")),
        class_name="number-row", custom_attrs={"data-result": r["result"], "data-number": r["number"]},
    )


def _numbers() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Numbers", weight="medium", size="2"),
            rx.select.root(
                rx.select.trigger(id="result-filter", min_width="150px"),
                rx.select.content(*[rx.select.item(label, value=key) for key, label in RESULT_CHOICES]),
                value=S.result, on_change=S.set_result, size="1",
            ),
            rx.spacer(),
            rx.cond(S.refusal != "",
                    rx.tooltip(rx.button(rx.icon("users", size=14), "Generate Audience", size="2", disabled=True,
                                         id="generate-audience"), content=S.refusal),
                    rx.button(rx.icon("users", size=14), "Generate Audience", size="2", on_click=S.open_audience,
                              id="generate-audience")),
            width="100%", align="center", spacing="3",
        ),
        rx.el.table(
            rx.el.thead(rx.el.tr(rx.el.th("Number", style={"width": "140px"}),
                                 rx.el.th("Time", style={"width": "200px"}),
                                 rx.el.th("Result", style={"width": "130px"}), rx.el.th("Failure reason"))),
            rx.el.tbody(rx.foreach(S.rows, _number_row)),
            class_name="task-table numbers-table",
        ),
        rx.cond(S.rows.length() == 0,
                rx.center(rx.text(rx.cond(S.expired, "The numbers are no longer kept.",
                                          rx.cond(S.result != ALL, "No number with this result.",
                                                  "No number was sent yet.")), size="2", class_name="muted"),
                          padding="24px", width="100%", id="numbers-empty")),
        rx.hstack(
            rx.spacer(),
            rx.text("Total ", S.total, size="2", class_name="muted", id="numbers-total"),
            rx.icon_button(rx.icon("chevron_left", size=14), on_click=S.prev_page, disabled=S.page <= 1, size="1",
                           variant="soft", color_scheme="gray", aria_label="Previous page"),
            rx.text("Page ", S.page, " of ", S.pages, size="2", class_name="muted"),
            rx.icon_button(rx.icon("chevron_right", size=14), on_click=S.next_page, disabled=S.page >= S.pages,
                           size="1", variant="soft", color_scheme="gray", aria_label="Next page",
                           id="numbers-next"),
            align="center", spacing="2", width="100%",
        ),
        class_name="panel", padding="16px", spacing="3", width="100%", id="task-numbers",
    )


def _operation(o: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.hstack(
        rx.text(o["name"], weight="medium", size="2"),
        rx.text(o["result"], " · ", o["count"], " · ", o["who"], " · ", o["when"], size="1", class_name="muted"),
        rx.spacer(),
        rx.match(
            o["status"],
            ("running", rx.hstack(rx.progress(value=o["progress"].to(int), max=100, width="140px"),
                                  rx.text(o["progress"], "%", size="1"), align="center", spacing="2")),
            ("done", rx.badge("Done", color_scheme="green", variant="soft")),
            rx.tooltip(rx.badge("Failed", color_scheme="red", variant="soft"), content=o["reason"]),
        ),
        width="100%", align="center", class_name="audience-operation",
        custom_attrs={"data-status": o["status"], "data-name": o["name"]},
    )


def _operations() -> rx.Component:
    return rx.cond(
        S.operations.length() > 0,
        rx.vstack(rx.text("Generated audiences", weight="medium", size="2"), rx.foreach(S.operations, _operation),
                  class_name="panel", padding="16px", spacing="2", width="100%", id="audience-operations"),
    )


def _preview_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Preview"),
            rx.dialog.description("As a recipient reads it, with sample values for the variables.", size="2"),
            rx.box(rx.text(S.preview, size="2", white_space="pre-wrap"), class_name="sms-bubble", id="preview-text"),
            rx.cond(S.segments != "", rx.text(S.segments, size="1", class_name="muted")),
            rx.flex(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end",
                    margin_top="12px"),
            max_width="420px",
        ),
        open=S.preview_open, on_open_change=S.set_preview_open,
    )


def _audience_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Generate Audience"),
            rx.dialog.description("Save the numbers with one result as a static audience, usable by any Target "
                                  "Audience component.", size="2"),
            rx.vstack(
                rx.radio_group.root(
                    rx.hstack(*[rx.radio_group.item(label, value=key) for key, label in RESULT_CHOICES[1:]],
                              spacing="4"),
                    value=S.audience_result, on_change=S.set_audience_result, id="audience-result",
                ),
                rx.input(value=S.audience_name, on_change=S.set_audience_name, placeholder="Audience name",
                         id="audience-name", width="100%"),
                rx.cond(S.audience_error != "", rx.text(S.audience_error, color="var(--red-11)", size="2",
                                                        id="audience-error")),
                rx.flex(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.button("Generate", on_click=S.generate, loading=S.busy, id="audience-submit"),
                        justify="end", spacing="2", width="100%"),
                spacing="3", margin_top="12px",
            ),
            max_width="480px",
        ),
        open=S.audience_open, on_open_change=S.set_audience_open,
    )


@template(route=ROUTE, title="Reach task", on_load=S.load)
def reach_task() -> rx.Component:
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        rx.cond(
            S.error != "",
            rx.vstack(rx.link("Back to Reach Tasks", href="/reach/" + S.channel, size="2"),
                      rx.callout(S.error, icon="triangle_alert", color_scheme="red", id="task-error", width="100%"),
                      width="100%"),
            rx.cond(
                S.loaded,
                rx.vstack(
                    _header(),
                    rx.cond(S.expired, rx.callout(S.note, icon="clock", color_scheme="amber", id="expired-note",
                                                  width="100%")),
                    _content(), _counts(), _numbers(), _operations(), _preview_dialog(), _audience_dialog(),
                    spacing="4", width="100%",
                ),
                rx.center(rx.spinner(size="3"), class_name="panel empty-state"),
            ),
        ),
        spacing="4",
        width="100%",
        id="reach",
    )
