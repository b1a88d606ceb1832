"""Generate Crowd in the action analysis panel: the button (touch and data push components), its dialog
(which result, the crowd's name ≤ 60 with a live counter), a progress bar while the workers build it, and the
operation records (who, when, which result, how many, done or failed) behind the icon next to the button."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.guarded import guarded_button
from marketing_app.states.analysis import NAME_MAX, AnalysisState, Chip

S = AnalysisState
STATUS = {"running": ("Running", "blue"), "done": ("Done", "green"), "failed": ("Failed", "red")}


def _operation(op: rx.Var[dict[str, str]]) -> rx.Component:
    status = op["status"]
    return rx.el.tr(
        rx.el.td(rx.text(op["when"], size="1"), rx.text(op["who"], size="1", color=styles.MUTED)),
        rx.el.td(rx.text(op["name"], size="1", weight="medium", class_name="truncate", title=op["name"]),
                 rx.text(op["result"], size="1", color=styles.MUTED)),
        rx.el.td(rx.text(op["count"], size="1", class_name="crowd-count")),
        rx.el.td(
            rx.badge(rx.match(status, *[(k, label) for k, (label, _) in STATUS.items()], status), size="1",
                     variant="soft", radius="full",
                     color_scheme=rx.match(status, *[(k, color) for k, (_, color) in STATUS.items()], "gray")),
            rx.cond(status == "running", rx.progress(value=op["progress"].to(int), size="1", width="70px",
                                                     margin_top="4px")),
            rx.cond(op["reason"] != "", rx.text(op["reason"], size="1", color="var(--red-11)",
                                                class_name="analysis-reason", title=op["reason"])),
        ),
        class_name="crowd-operation",
        custom_attrs={"data-status": status, "data-count": op["count"], "data-name": op["name"]},
    )


def _history() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(
            rx.icon_button(rx.icon("history", size=16), variant="soft", color_scheme="gray", size="2",
                           id="crowd-history", aria_label="Generate Crowd operation records",
                           title="Operation records of Generate Crowd"),
        ),
        rx.popover.content(
            rx.vstack(
                rx.text("Generate Crowd operation records", size="2", weight="bold"),
                rx.cond(
                    S.operations.length() > 0,
                    rx.el.table(
                        rx.el.thead(rx.el.tr(rx.el.th("When (UTC) · who"), rx.el.th("Crowd · result"),
                                             rx.el.th("Customers"), rx.el.th("Status"))),
                        rx.el.tbody(rx.foreach(S.operations, _operation)),
                        class_name="crowd-operations", id="crowd-operations",
                    ),
                    rx.text("No crowd has been generated from this component in this round yet.", size="1",
                            color=styles.MUTED, id="crowd-operations-empty"),
                ),
                spacing="2", width="100%",
            ),
            side="bottom", align="end", width="460px", max_height="420px", overflow_y="auto",
        ),
        open=S.history_open,
        on_open_change=S.set_history_open,
    )


def _choice(chip: Chip) -> rx.Component:
    return rx.radio_cards.item(
        rx.hstack(
            rx.box(width="10px", height="10px", border_radius="50%", background=f"var(--{chip.color}-9)"),
            rx.text(chip.name, size="2"),
            rx.spacer(),
            rx.text(chip.count, size="2", weight="bold"),
            align="center", width="100%", spacing="2",
        ),
        value=chip.key.to(str).split(":")[1],
        disabled=chip.raw == 0,
        custom_attrs={"data-result": chip.key},
    )


def _dialog() -> rx.Component:
    too_long = S.crowd_name.length() > NAME_MAX
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Generate Crowd"),
            rx.dialog.description(
                "Save the customers of this component with the chosen result as an audience. Any Target Audience "
                "component can then use it.", size="2", color=styles.MUTED),
            rx.vstack(
                rx.text("Customers", size="2", weight="medium"),
                rx.radio_cards.root(rx.foreach(S.crowd_choices, _choice), value=S.crowd_result,
                                    on_value_change=S.set_crowd_result, columns="1", size="1", width="100%",
                                    id="crowd-result"),
                rx.hstack(rx.text("Crowd name", size="2", weight="medium"), rx.spacer(),
                          rx.text(S.crowd_name_count, size="1", id="crowd-name-count",
                                  color=rx.cond(too_long, "var(--red-11)", styles.MUTED)),
                          width="100%"),
                rx.input(value=S.crowd_name, on_change=S.set_crowd_name, id="crowd-name", width="100%",
                         placeholder="e.g. Coupon SMS – delivered", color_scheme=rx.cond(too_long, "red", "gray")),
                rx.cond(S.crowd_error != "", rx.callout(S.crowd_error, icon="circle_alert", color_scheme="red",
                                                        size="1", id="crowd-error", width="100%")),
                spacing="2", width="100%", margin_top="16px",
            ),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", id="crowd-cancel")),
                rx.button("Generate", on_click=S.generate_crowd, loading=S.crowd_busy, disabled=too_long,
                          id="crowd-submit"),
                justify="end", spacing="3", margin_top="20px",
            ),
            max_width="460px", id="crowd-dialog",
        ),
        open=S.crowd_open,
        on_open_change=S.set_crowd_open,
    )


def crowd_controls() -> rx.Component:
    """Generate Crowd and, to its right, the icon that shows the operation records."""
    return rx.hstack(
        guarded_button("Generate Crowd", reason=S.crowd_refusal, on_click=S.open_crowd, action="generate-crowd",
                       icon="users", color="indigo", variant="solid", size="2", id="generate-crowd"),
        _history(),
        _dialog(),
        spacing="2", align="center",
    )


def crowd_progress() -> rx.Component:
    """While the workers build a crowd of this component: its progress."""
    return rx.cond(
        S.running,
        rx.hstack(
            rx.spinner(size="1"),
            rx.text("Generating crowd… ", S.progress, "%", size="1", weight="medium"),
            rx.progress(value=S.progress, size="1", flex="1"),
            align="center", width="100%", padding="8px 12px", border_radius="8px", id="crowd-progress",
            background="var(--indigo-a2)", border="1px solid var(--indigo-a5)",
            custom_attrs={"data-progress": S.progress.to_string()},
        ),
    )
