"""The Reach Tasks page's sections: channel links, filters, the task table (sortable headers, hovers for the
sub-activities, the failure reasons and an Execution Failed task's cause) and the pager."""

import reflex as rx
from reflex.event import EventSpec

from marketing_app.components.pager import pager
from marketing_app.states.reach import ALL, CHANNEL_LINKS, KIND_CHOICES, STATUS_CHOICES, ReachState
from marketing_app.states.reach_normal import NormalTaskState

S = ReachState

#: status → badge colour
STATUS_COLORS = {"to_be_sent": "gray", "sending": "blue", "completed": "green", "execution_failed": "red",
                 "moderating": "amber", "rejected": "red"}


def channel_links() -> rx.Component:
    def link(key: str, label: str) -> rx.Component:
        active = S.channel == key
        return rx.link(
            rx.badge(label, size="2", radius="full", variant=rx.cond(active, "solid", "soft"),
                     color_scheme=rx.cond(active, "indigo", "gray")),
            href=f"/reach/{key}", underline="none", custom_attrs={"data-channel": key},
        )
    return rx.hstack(*[link(k, label) for k, label in CHANNEL_LINKS], spacing="2", wrap="wrap", id="channel-links")


def _search() -> rx.Component:
    return rx.form(
        rx.input(
            rx.input.slot(rx.icon("search", size=15)),
            name="search",
            key=S.search,
            default_value=S.search,
            placeholder="Search task names, press Enter",
            size="2",
            width="280px",
            id="task-search",
            auto_complete="off",
        ),
        on_submit=S.submit_search,
        reset_on_submit=False,
        width="auto",
    )


def filters() -> rx.Component:
    return rx.hstack(
        _search(),
        rx.select.root(
            rx.select.trigger(placeholder="All activities", id="activity-filter", min_width="200px"),
            rx.select.content(
                rx.select.item("All activities", value=ALL),
                rx.foreach(S.activities, lambda a: rx.select.item(a[1], value=a[0])),
            ),
            value=S.activity,
            on_change=S.set_activity,
            size="2",
        ),
        rx.select.root(
            rx.select.trigger(id="status-filter", min_width="150px"),
            rx.select.content(*[rx.select.item(label, value=key) for key, label in STATUS_CHOICES]),
            value=S.status,
            on_change=S.set_status,
            size="2",
        ),
        rx.select.root(
            rx.select.trigger(id="kind-filter", min_width="120px"),
            rx.select.content(*[rx.select.item(label, value=key) for key, label in KIND_CHOICES]),
            value=S.kind,
            on_change=S.set_kind,
            size="2",
        ),
        rx.cond(S.filtered, rx.button("Reset", size="2", variant="ghost", color_scheme="gray",
                                      on_click=S.reset_filters, id="reset-filters")),
        align="center",
        spacing="3",
        wrap="wrap",
    )


#: (key, header, width px, sort key or "", numeric); the platform and the sending type carry a second line (the
#: SMS type, the send time) so that every column, Status included, fits a 1440-pixel window without scrolling
COLUMNS: list[tuple[str, str, int, str, bool]] = [
    ("name", "Task", 190, "name", False), ("campaigns", "Sub-activities", 92, "", False),
    ("content", "Content", 0, "", False), ("audience", "Audience", 100, "audience", True),
    ("sent", "Actually sent", 104, "sent", True), ("success", "Succeeded", 88, "success", True),
    ("failed", "Failed", 70, "failed", True), ("platform", "SMS platform · type", 124, "", False),
    ("started", "Sending type · time", 140, "started_at", False), ("status", "Status", 124, "status", False),
]


def _th(key: str, label: str | rx.Var[str], width: int, sort: str, numeric: bool) -> rx.Component:
    if key == "platform":  # seed 003 names the SMS platform; other channels' pages name their provider plainly
        label = rx.cond(S.channel == "sms", label, "Platform · type")
    style = {"width": f"{width}px"} if width else {}
    css = "num" if numeric else ""
    if not sort:
        return rx.el.th(label, class_name=css, style=style)
    active = S.sort == sort
    arrow = rx.cond(active, rx.cond(S.descending, rx.icon("arrow_down", size=12), rx.icon("arrow_up", size=12)),
                    rx.icon("chevrons_up_down", size=12, class_name="sort-idle"))
    return rx.el.th(
        rx.el.button(label, arrow, on_click=S.sort_by(sort), class_name="sort-button",
                     custom_attrs={"data-sort": sort}),
        class_name=rx.cond(active, f"{css} sorted", css), style=style,
        custom_attrs={"aria-sort": rx.cond(active, rx.cond(S.descending, "descending", "ascending"), "none")},
    )


def _campaigns(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.cond(
        r["campaigns"] != "",
        rx.tooltip(rx.badge(r["campaigns"], variant="soft", color_scheme="indigo", radius="full",
                            class_name="campaign-count"), content=r["campaigns_full"]),
        rx.text("—", class_name="muted"),
    )


def _failed(r: rx.Var[dict[str, str]]) -> rx.Component:
    number = rx.el.span(r["failed"], class_name=rx.cond(r["raw_failed"] != "0", "failed-number", ""))
    return rx.cond(r["reasons"] != "",
                   rx.tooltip(number, content=r["reasons"], class_name="reasons-tip"),
                   number)


def _status(r: rx.Var[dict[str, str]]) -> rx.Component:
    badge = rx.badge(
        rx.cond(r["status"] == "sending", rx.box(class_name="live-dot small")), r["status_label"],
        color_scheme=rx.match(r["status"], *STATUS_COLORS.items(), "gray"), variant="soft", radius="full",
        size="1", class_name="status-badge",
    )
    return rx.cond(r["status_reason"] != "",
                   rx.tooltip(rx.el.span(badge, class_name="status-why"), content=r["status_reason"]),
                   badge)


def _action(label: str, refusal: rx.Var[str], on_click: EventSpec, css: str) -> rx.Component:
    """A normal task's Edit / Delete: greyed out with the 5-minute rule's reason on hover."""
    return rx.cond(
        refusal != "",
        rx.tooltip(rx.el.span(rx.button(label, size="1", variant="ghost", disabled=True, class_name=css)),
                   content=refusal),
        rx.button(label, size="1", variant="ghost", on_click=on_click, class_name=css),
    )


def _links(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.hstack(
        rx.cond(r["details_href"] != "",
                rx.link("View Details", href=r["details_href"], class_name="details-link", size="1")),
        rx.cond(
            r["kind"] == "normal",
            rx.hstack(_action("Edit", r["edit_refusal"], NormalTaskState.open_edit(r["normal_id"]), "edit-task"),
                      _action("Delete", r["edit_refusal"], NormalTaskState.ask_delete(r["normal_id"], r["name"]),
                              "delete-task"), spacing="1", align="center"),
            rx.link("Round on the canvas", href=r["activity_href"], class_name="activity-link truncate", size="1"),
        ),
        spacing="2", align="center",
    )


def _row(r: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(
            rx.hstack(
                rx.cond(r["kind"] == "normal", rx.badge("Normal", size="1", variant="outline", color_scheme="indigo",
                                                        class_name="kind-badge")),
                rx.text(r["name"], class_name="task-name truncate", title=r["name"], weight="medium", size="2"),
                spacing="1", align="center",
            ),
            _links(r),
        ),
        rx.el.td(_campaigns(r)),
        rx.el.td(rx.text(r["content"], class_name="truncate", title=r["content"], size="2"),
                 rx.cond(r["segments"] != "", rx.text(r["segments"], size="1", class_name="muted truncate",
                                                      title=r["segments"])),
                 custom_attrs={"data-col": "content"}),
        rx.el.td(rx.text(r["audience"]),
                 rx.text(r["audience_name"], size="1", class_name="muted truncate", title=r["audience_name"]),
                 class_name="num", custom_attrs={"data-col": "audience"}),
        rx.el.td(rx.tooltip(rx.el.span(r["sent"], class_name="sent-number"), content=r["sent_hint"]),
                 class_name="num", custom_attrs={"data-col": "sent"}),
        rx.el.td(r["success"],
                 rx.cond(r["raw_pending"] != "0",
                         rx.text(r["pending"] + " awaiting", size="1", class_name="muted awaiting-number",
                                 title="Sent, no delivery receipt yet: counted succeeded or failed when it comes")),
                 class_name="num", custom_attrs={"data-col": "success"}),
        rx.el.td(_failed(r), class_name="num", custom_attrs={"data-col": "failed"}),
        rx.el.td(rx.text(r["platform"], size="2", class_name="truncate", title=r["platform"]),
                 rx.text(r["channel_type"], size="1", class_name="muted"), custom_attrs={"data-col": "platform"}),
        rx.el.td(rx.text(r["sending_type"], size="2", class_name="truncate", title=r["sending_type"]),
                 rx.text(r["started"], size="1", class_name="muted"), custom_attrs={"data-col": "sending"}),
        rx.el.td(_status(r), custom_attrs={"data-col": "status"}),
        class_name=rx.cond(r["kind"] == "normal", "task-row normal-row", "task-row"),
        custom_attrs={"data-id": r["id"], "data-name": r["name"], "data-status": r["status"], "data-kind": r["kind"],
                      "data-record": r["record"], "data-audience": r["raw_audience"], "data-sent": r["raw_sent"],
                      "data-success": r["raw_success"], "data-failed": r["raw_failed"],
                      "data-pending": r["raw_pending"]},
    )


def task_table() -> rx.Component:
    return rx.box(
        rx.el.table(
            rx.el.thead(rx.el.tr(*[_th(*c) for c in COLUMNS])),
            rx.el.tbody(rx.foreach(S.rows, _row)),
            class_name="task-table",
        ),
        rx.cond(S.rows.length() == 0,
                rx.center(rx.text(rx.cond(S.filtered, "No task matches these filters.",
                                          "No " + S.channel_label + " task yet: a published flow's "
                                          + S.channel_label + " component makes one per round; New task sends "
                                          "one without a flow."),
                                  size="2", class_name="muted"),
                          padding="40px", id="tasks-empty")),
        pager(S),
        class_name="panel table-scroll",
        id="task-table",
    )


def banned_words_dialog() -> rx.Component:
    """Content moderation's banned-word list (one per line): an admin saves it, everyone else reads it."""
    return rx.fragment(rx.button(rx.icon("shield_check", size=14), "Banned words", size="2", variant="soft",
                                 color_scheme="gray", on_click=S.open_words, id="banned-words"), rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Content moderation"),
            rx.dialog.description(
                "A flow whose SMS, email, WeChat, template message or push text holds one of these words (any "
                "case) cannot be published; the canvas names the component. One word or phrase per line.",
                size="2"),
            rx.form(
                rx.vstack(
                    rx.text_area(name="words", default_value=S.words_text, key=S.words_text, rows="10",
                                 width="100%", read_only=~S.words_can_edit, id="banned-words-text",
                                 placeholder="casino\nfree money"),
                    rx.cond(S.words_why_not != "", rx.text(S.words_why_not, size="1", class_name="muted",
                                                           id="banned-words-why")),
                    rx.cond(S.words_error != "", rx.text(S.words_error, size="2", color="var(--red-11)",
                                                         id="banned-words-error")),
                    rx.flex(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                            rx.cond(S.words_can_edit, rx.button("Save", type="submit", id="banned-words-save")),
                            justify="end", spacing="2", width="100%"),
                    spacing="3", margin_top="12px",
                ),
                on_submit=S.save_words, reset_on_submit=False,
            ),
            max_width="520px",
        ),
        open=S.words_open, on_open_change=S.set_words_open,
    ))
