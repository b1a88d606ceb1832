"""Seed 004's pages: an activity's approval details (/activities/<id>/approval) and the reviewer's queue
(/reviews)."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.guarded import guarded_button
from marketing_app.components.status_badge import approval_badge, status_badge
from marketing_app.states.approval import REVIEWS_ROUTE, ApprovalState, ReviewsState
from marketing_app.templates import template

A = ApprovalState
R = ReviewsState


def _cell(*children, **props) -> rx.Component:  # noqa: ANN002, ANN003
    return rx.el.td(*children, padding="6px 10px", border_bottom=styles.BORDER, **props)


def _head(*labels: str) -> rx.Component:
    return rx.el.thead(rx.el.tr(*[rx.el.th(label, text_align="left", padding="6px 10px", font_size="13px",
                                           color=styles.MUTED, border_bottom=styles.BORDER) for label in labels]))


def _section(title: str, *children: rx.Component, **props) -> rx.Component:  # noqa: ANN003
    return rx.vstack(rx.heading(title, size="3"), *children, spacing="2", width="100%", padding="14px",
                     border=styles.BORDER, border_radius="10px", background=styles.PANEL_BG, **props)


def _actions() -> rx.Component:
    def button(key: str, label, icon: str, on_click, color: str = "gray", variant: str = "soft"):  # noqa: ANN001
        return guarded_button(label, reason=A.refusals[key], on_click=on_click, action=key, icon=icon,
                              color=color, variant=variant, size="2")

    return rx.hstack(
        button("test", A.test_label, "flask-conical", A.run_test),
        button("request", "Request to go live", "send", A.request_live, color="indigo", variant="solid"),
        button("withdraw", "Withdraw", "undo-2", A.withdraw),
        button("finish", "Complete", "circle-check", A.finish),
        button("edit", "Edit", "pencil", A.edit),
        button("copy", "Copy", "copy", A.copy),
        spacing="2",
        wrap="wrap",
        id="approval-actions",
    )


def _testers() -> rx.Component:
    return _section(
        "Testers",
        rx.text("Customers (by QAID) or staff (users with a contact, set in Settings → Users) a test reaches; nobody "
                "else does. Their messages are marked “[Test]”.", size="1", color=styles.MUTED),
        rx.form(
            rx.hstack(
                rx.input(name="qaid", placeholder="Customer QAID, e.g. C000001", value=A.qaid,
                         on_change=A.set_qaid, id="tester-qaid", width="260px"),
                guarded_button("Add tester", reason=A.refusals["edit"], on_click=None,
                               action="add-tester", icon="user-plus", variant="soft", size="2", type="submit"),
                spacing="2",
            ),
            on_submit=A.add_tester,
            reset_on_submit=False,
        ),
        rx.form(  # issue 14: staff contacts
            rx.hstack(
                rx.el.select(rx.el.option("Choose a staff member…", value=""),
                             rx.foreach(A.staff_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                             name="user_id", id="tester-staff", custom_attrs={"aria-label": "Staff member"},
                             style={"height": "32px", "width": "260px", "border": "1px solid var(--gray-a7)",
                                    "border_radius": "6px", "background": "var(--color-surface)",
                                    "color": "var(--gray-12)", "padding": "0 6px", "font_size": "14px"}),
                guarded_button("Add staff", reason=A.refusals["edit"], on_click=None,
                               action="add-staff", icon="id-card", variant="soft", size="2", type="submit"),
                spacing="2",
            ),
            on_submit=A.add_staff,
            reset_on_submit=True,
        ),
        rx.el.table(
            _head("Kind", "QAID", "Name", "Phone", "Email", ""),
            rx.el.tbody(rx.foreach(A.testers, lambda t: rx.el.tr(
                _cell(t["kind"]), _cell(t["qaid"]), _cell(t["name"]), _cell(t["phone"]), _cell(t["email"]),
                _cell(rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", color_scheme="gray",
                                     on_click=A.remove_tester(t["id"]), aria_label="Remove tester")),
                class_name="tester-row", custom_attrs={"data-qaid": t["qaid"], "data-kind": t["kind"],
                                                       "data-name": t["name"]}))),
            width="100%", id="testers",
        ),
    )


def _tests() -> rx.Component:
    return _section(
        "Test rounds",
        rx.cond(A.tests.length() == 0, rx.text("No test yet.", size="2", color=styles.MUTED),
                rx.el.table(
                    _head("Round", "Version", "Status", "Started (UTC)"),
                    rx.el.tbody(rx.foreach(A.tests, lambda t: rx.el.tr(
                        _cell(rx.link("#" + t["number"], title="View this test round on the canvas",
                                      href="/activities/" + A.activity_id.to_string() + "/canvas?record=" + t["id"])),
                        _cell(t["version"]), _cell(t["status"]), _cell(t["started_at"]), class_name="test-row"))),
                    width="100%", id="test-rounds")),
    )


def _history() -> rx.Component:
    return _section(
        "Approval history",
        rx.cond(A.history.length() == 0, rx.text("No request yet.", size="2", color=styles.MUTED),
                rx.el.table(
                    _head("When (UTC)", "Who", "What", "Version", "Comment"),
                    rx.el.tbody(rx.foreach(A.history, lambda h: rx.el.tr(
                        _cell(h["at"]), _cell(h["who"]), _cell(h["what"]), _cell(h["version"]), _cell(h["comment"]),
                        class_name="history-row"))),
                    width="100%", id="approval-history")),
    )


@template(route="/activities/[activity_id]/approval", title="Approval", on_load=A.load)
def approval_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.link(rx.icon("arrow_left", size=18), href="/", color="var(--gray-11)", title="Back to the list"),
            rx.heading(A.name, size="6", id="page-title"),
            status_badge(A.status, A.status_label),
            approval_badge(A.approval, A.approval_label),
            rx.spacer(),
            rx.link(rx.button(rx.icon("workflow", size=14), "Flow (Details)", variant="soft", color_scheme="gray"),
                    href="/activities/" + A.activity_id.to_string() + "/canvas?mode=details"),
            align="center",
            spacing="3",
            width="100%",
        ),
        rx.text(rx.cond(A.approval_required,
                        "This workspace requires approval before going live: Draft → Test on testers → Request to "
                        "go live → an admin or a reviewer approves (it is published) or rejects.",
                        "Approval is not required in this workspace: testing is optional and Publish goes live."),
                size="2", color=styles.MUTED, id="approval-mode"),
        rx.cond(A.requester != "", rx.callout("Under review, asked by " + A.requester + ".", icon="hourglass",
                                              size="1", id="under-review")),
        _actions(),
        _testers(),
        _tests(),
        _history(),
        spacing="4",
        width="100%",
    )


def _decision_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(R.kind == "approve", "Approve “", "Reject “"), R.target_name, "”"),
            rx.text(rx.cond(R.kind == "approve",
                            "Approving publishes the requested version as usual. A comment is optional.",
                            "Say what must change: the comment is required and the requester sees it."),
                    size="2", color=styles.MUTED),
            rx.text_area(value=R.comment, on_change=R.set_comment, placeholder="Comment", id="decision-comment",
                         rows="4", width="100%", margin_top="8px"),
            rx.cond(R.error != "", rx.callout(R.error, color_scheme="red", icon="triangle_alert", size="1",
                                              id="decision-error", margin_top="8px")),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(rx.cond(R.kind == "approve", "Approve", "Reject"), on_click=R.submit,
                          color_scheme=rx.cond(R.kind == "approve", "green", "red"), id="decision-submit"),
                justify="end", spacing="2", margin_top="12px",
            ),
        ),
        open=R.dialog_open,
        on_open_change=R.set_dialog_open,
    )


def _request(row: rx.Var[dict[str, str]]) -> rx.Component:
    own = row["own"] != ""
    return rx.vstack(
        rx.hstack(
            rx.link(row["name"], href="/activities/" + row["activity_id"] + "/approval", weight="bold",
                    class_name="review-name"),
            rx.badge(row["version"], " vs running ", row["base"], variant="soft", size="1"),
            rx.spacer(),
            rx.text("Asked by ", row["requester"], " · ", row["requested_at"], " UTC", size="1", color=styles.MUTED),
            width="100%", align="center",
        ),
        rx.el.ul(rx.foreach(R.changes[row["request_id"]], lambda c: rx.el.li(c, font_size="13px")),
                 class_name="review-changes", margin_left="18px"),
        rx.hstack(
            rx.cond(own, rx.text(row["own"], size="1", color=styles.MUTED)),
            rx.spacer(),
            rx.button(rx.icon("x", size=14), "Reject", color_scheme="red", variant="soft", disabled=own,
                      on_click=R.open_decision("reject", row["activity_id"], row["name"]), class_name="review-reject"),
            rx.button(rx.icon("check", size=14), "Approve", color_scheme="green", disabled=own,
                      on_click=R.open_decision("approve", row["activity_id"], row["name"]),
                      class_name="review-approve"),
            width="100%", align="center", spacing="2",
        ),
        spacing="2", width="100%", padding="14px", border=styles.BORDER, border_radius="10px",
        background=styles.PANEL_BG, class_name="review-request", custom_attrs={"data-name": row["name"]},
    )


@template(route=REVIEWS_ROUTE, title="Reviews", on_load=R.load)
def reviews_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Reviews", size="6", id="page-title"),
        rx.text("Requests to go live waiting for a decision, oldest first, with what changed against the version "
                "running now. Nobody decides their own request.", size="2", color=styles.MUTED),
        rx.cond(R.loaded & (R.rows.length() == 0),
                rx.center(rx.text("Nothing to review.", size="3", color=styles.MUTED), padding="40px",
                          id="reviews-empty")),
        rx.foreach(R.rows, _request),
        _decision_dialog(),
        spacing="3",
        width="100%",
    )
