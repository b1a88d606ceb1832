"""Above the table: the selected group, name search (on Enter), the sub-activity, process and audience filters
and Show Columns."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.campaign_picker import campaign_picker
from marketing_app.states.activities import ANY, APPROVAL_CHOICES, OPTIONAL_COLUMNS, ActivitiesState
from marketing_app.states.group_list import GroupListState
from marketing_app.states.groups import ALL

S = ActivitiesState


def _group_chip() -> rx.Component:
    return rx.cond(
        S.group_key != ALL,
        rx.badge(
            rx.icon("folder", size=12), S.group_label,
            rx.icon_button(rx.icon("x", size=11), size="1", variant="ghost", color_scheme="gray", radius="full",
                           on_click=GroupListState.select(ALL), aria_label="Show all groups", id="clear-group"),
            size="2", variant="soft", color_scheme="indigo", radius="full", id="group-chip", max_width="260px",
            class_name="truncate",
        ),
    )


def _search() -> rx.Component:
    return rx.form(
        rx.input(
            rx.input.slot(rx.icon("search", size=15)),
            rx.cond(S.search != "",
                    rx.input.slot(rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", color_scheme="gray",
                                                 on_click=S.clear_search, type="button", aria_label="Clear search",
                                                 id="clear-search"))),
            name="search",
            key=S.search,  # a new default value (cleared elsewhere) re-mounts the input
            default_value=S.search,
            placeholder="Search by name, press Enter",
            size="2",
            width="230px",
            id="activity-search",
            auto_complete="off",
        ),
        on_submit=S.submit_search,
        reset_on_submit=False,
        width="auto",
    )


def _campaign_filter() -> rx.Component:
    trigger = rx.button(
        rx.icon("tags", size=14),
        rx.cond(S.campaign_summary != "", S.campaign_summary, "Sub-activities"),
        rx.icon("chevron_down", size=12),
        variant=rx.cond(S.campaign_ids.length() > 0, "soft", "outline"),
        color_scheme=rx.cond(S.campaign_ids.length() > 0, "indigo", "gray"),
        size="2",
        id="campaign-filter",
    )
    return campaign_picker(S, trigger, picker_id="campaign-filter")


def _option_filter(*, value: rx.Var[str], options: rx.Var[list[list[str]]], on_change: rx.EventHandler,
                   everything: str, field_id: str) -> rx.Component:
    """A select of (id, name) options with "everything" first: the Process and Audience filters."""
    return rx.select.root(
        rx.select.trigger(id=field_id, max_width="170px", aria_label=everything,
                          variant=rx.cond(value != ANY, "soft", "surface"),
                          color_scheme=rx.cond(value != ANY, "indigo", "gray")),
        rx.select.content(
            rx.select.item(everything, value=ANY),
            rx.foreach(options, lambda o: rx.select.item(o[1], value=o[0])),
            position="popper",
        ),
        value=value,
        on_change=on_change,
        size="2",
    )


def _show_columns() -> rx.Component:
    def option(key: str, label: str) -> rx.Component:
        return rx.el.label(
            rx.checkbox(checked=S.columns.contains(key), on_change=lambda _c: S.toggle_column(key), size="1"),
            rx.text(label, size="2"),
            class_name="picker-option",
            custom_attrs={"data-column": key},
        )

    return rx.popover.root(
        rx.popover.trigger(
            rx.button(rx.icon("columns_3", size=14), "Show Columns", variant="outline", color_scheme="gray",
                      size="2", id="show-columns"),
        ),
        rx.popover.content(
            rx.vstack(
                rx.text("Columns", size="2", weight="bold"),
                rx.text("Name, Status and Actions always show. Remembered for you.", size="1", color=styles.MUTED),
                *[option(k, label) for k, label in OPTIONAL_COLUMNS],
                spacing="1",
                width="220px",
            ),
            align="end",
            id="show-columns-panel",
        ),
    )


def _approval_filter() -> rx.Component:
    """Seed 004: the Approval column's filter (the status bar filters the task status). Shown with the column,
    while the workspace requires approval, and while it filters (approval switched off meanwhile): a filter in
    force is never invisible."""
    return rx.cond(
        S.approval_required | (S.approval != ""),
        rx.select.root(
            rx.select.trigger(placeholder="All approval statuses", id="approval-filter"),
            rx.select.content(*[rx.select.item(label, value=value) for value, label in APPROVAL_CHOICES]),
            value=rx.cond(S.approval == "", "all", S.approval),
            on_change=S.filter_approval,
            size="2",
        ),
    )


def _approval_setting() -> rx.Component:
    """Seed 004: only an admin switches it; everyone else reads it as a badge."""
    return rx.cond(
        S.is_admin,
        rx.tooltip(
            rx.hstack(
                rx.switch(checked=S.approval_required, on_change=S.set_approval_required, id="approval-required",
                          size="1"),
                rx.text("Approval required", size="2"),
                align="center", spacing="2",
            ),
            content="Activities go live only through a request an admin or a reviewer approves.",
        ),
        rx.tooltip(
            rx.badge(rx.cond(S.approval_required, "Approval required to go live", "No approval needed"),
                     variant="soft", color_scheme=rx.cond(S.approval_required, "amber", "gray"),
                     id="approval-setting"),
            content="Only an admin changes whether activities need approval to go live.",
        ),
    )


def toolbar() -> rx.Component:
    return rx.hstack(
        _search(),
        _campaign_filter(),
        _approval_filter(),
        _option_filter(value=S.process_filter, options=S.process_options, on_change=S.filter_process,
                       everything="All processes", field_id="process-filter"),
        _option_filter(value=S.audience_filter, options=S.audience_options, on_change=S.filter_audience,
                       everything="All audiences", field_id="audience-filter"),
        _group_chip(),
        rx.spacer(),
        _approval_setting(),
        _show_columns(),
        align="center",
        spacing="3",
        width="100%",
        padding="12px 16px",
        border_bottom=styles.BORDER,
        wrap="wrap",
    )
