"""The "Send-rate limits" section of Settings → Channels: messages per minute per channel, for every activity
of the workspace together (an activity's own limit in its basic information applies too: the stricter wins)."""

import reflex as rx

from marketing_app import styles
from marketing_app.states.channel_limits import ChannelLimitsState as L


def _row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.hstack(
        rx.text(row["label"], size="2", width="180px"),
        rx.input(name="limit_" + row["channel"], id="limit-" + row["channel"], default_value=row["value"],
                 placeholder="No limit", width="140px", input_mode="numeric",
                 key=L.form_key.to_string() + row["channel"]),
        rx.text("messages per minute", size="1", color=styles.MUTED),
        spacing="3", align="center", class_name="limit-row", custom_attrs={"data-channel": row["channel"]},
    )


def channel_limits_section() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.heading("Send-rate limits", size="4"),
            rx.text("At most this many messages per minute on a channel, over every activity of the workspace, "
                    "counted across all workers. Customers beyond a minute's budget wait at their touch for the "
                    "next one; the touch's analysis shows the backlog and when it should be through.",
                    size="2", color=styles.MUTED),
            rx.form(
                rx.vstack(rx.foreach(L.rows, _row), spacing="2", width="100%"),
                rx.cond(L.error != "", rx.callout(L.error, icon="triangle_alert", color_scheme="red", size="1",
                                                  id="limits-error", width="100%", margin_top="12px")),
                rx.hstack(rx.button("Save", type="submit", id="limits-save"), justify="end", width="100%",
                          margin_top="12px"),
                on_submit=L.save, reset_on_submit=False, width="100%", id="limits-form",
            ),
            spacing="3", width="100%",
        ),
        id="channel-limits", width="100%", padding="16px", style=styles.panel_style, on_mount=L.load,
    )
