"""/reach/<channel> (SMS first): the Reach Tasks of a touch channel — one task per send of a flow's component of
that channel in a round, and the normal tasks created on the page — filtered, sorted and paged, with numbers
pushed while they move."""

import reflex as rx

from marketing_app.components.live_follow import live_follow
from marketing_app.states.reach import ReachState as S
from marketing_app.states.reach_normal import NormalTaskState
from marketing_app.templates import template
from marketing_app.views.reach_normal import normal_tasks_panel
from marketing_app.views.reach_table import banned_words_dialog, channel_links, filters, task_table

ROUTE = "/reach/[channel]"
STYLESHEET = "/reach/reach.css"


def _header() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.heading("Reach Tasks · ", S.channel_label, size="6", id="page-title"),
            rx.text("Every send of a published flow's ", S.channel_label, " component, one task per round, and the "
                    "normal tasks created here. "
                    "Actually sent = succeeded + failed + no receipt yet; no receipt within 72 hours counts as "
                    "failed.", size="2", class_name="muted"),
            spacing="1",
        ),
        rx.spacer(),
        banned_words_dialog(),
        rx.cond(
            S.live,
            rx.hstack(rx.box(class_name="live-dot"), rx.text("Live · updated ", S.updated_at, size="1",
                                                           id="updated-at"),
                      align="center", spacing="2", class_name="live-badge"),
        ),
        align="end",
        width="100%",
    )


@template(route=ROUTE, title="Reach Tasks", on_load=[S.load, NormalTaskState.load])
def reach() -> rx.Component:
    return rx.vstack(
        rx.el.link(rel="stylesheet", href=STYLESHEET),
        live_follow(watch=S.channel, on_start=S.follow, on_stop=S.unfollow, id="reach-follow"),
        _header(),
        channel_links(),
        normal_tasks_panel(),
        filters(),
        rx.cond(
            S.error != "",
            rx.callout(S.error, icon="triangle_alert", color_scheme="red", id="reach-error", width="100%"),
        ),
        rx.cond(S.loaded, task_table(),
                rx.center(rx.spinner(size="3"), class_name="panel empty-state", id="reach-loading")),
        spacing="4",
        width="100%",
        id="reach",
    )
