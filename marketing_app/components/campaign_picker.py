"""The sub-activity picker (Marketing Campaign catalogue): a primary campaign's box selects all of its subs.

Bound to any state using the CampaignChoice mixin: the list's filter and the New activity dialog share it.
"""

import reflex as rx

from marketing_app import styles
from marketing_app.states.campaigns import CampaignChoice, PrimaryCampaign, SubCampaign


def _check(label: rx.Var[str], checked: rx.Var[bool], on_change, *, kind: str, name: rx.Var[str],
           weight: str = "regular", hint: rx.Component | None = None) -> rx.Component:
    return rx.el.label(
        rx.checkbox(checked=checked, on_change=on_change, size="1"),
        rx.text(label, size="2", weight=weight, class_name="truncate"),
        hint if hint is not None else rx.fragment(),
        class_name="picker-option",
        custom_attrs={f"data-{kind}": name},
    )


def campaign_picker(state: type[CampaignChoice], trigger: rx.Component, *, picker_id: str) -> rx.Component:
    def sub(s: rx.Var[SubCampaign]) -> rx.Component:
        return rx.box(
            _check(s.name, state.campaign_ids.contains(s.id), lambda _c: state.toggle_sub(s.id), kind="sub",
                   name=s.name),
            padding_left="22px",
        )

    def primary(p: rx.Var[PrimaryCampaign]) -> rx.Component:
        partial = rx.cond(state.partial_primaries.contains(p.id),
                          rx.badge("some", size="1", variant="soft", color_scheme="gray"), rx.fragment())
        return rx.vstack(
            _check(p.name, state.full_primaries.contains(p.id), lambda _c: state.toggle_primary(p.id),
                   kind="primary", name=p.name, weight="medium", hint=partial),
            rx.foreach(p.subs, sub),
            spacing="0",
            width="100%",
        )

    return rx.popover.root(
        rx.popover.trigger(trigger),
        rx.popover.content(
            rx.vstack(
                rx.hstack(
                    rx.text("Sub-activities", size="2", weight="bold"),
                    rx.spacer(),
                    rx.button("Clear", size="1", variant="ghost", color_scheme="gray", on_click=state.clear_campaigns,
                              disabled=state.campaign_ids.length() == 0, id=f"{picker_id}-clear"),
                    width="100%",
                    align="center",
                ),
                rx.text("A primary campaign selects all of its sub-campaigns.", size="1", color=styles.MUTED),
                rx.cond(
                    state.catalogue.length() > 0,
                    rx.scroll_area(rx.vstack(rx.foreach(state.catalogue, primary), spacing="2", width="100%"),
                                   max_height="320px", type="auto", scrollbars="vertical"),
                    rx.text("No marketing campaigns in this workspace yet.", size="2", color=styles.MUTED),
                ),
                spacing="2",
                width="280px",
            ),
            id=f"{picker_id}-panel",
            align="start",
        ),
    )
