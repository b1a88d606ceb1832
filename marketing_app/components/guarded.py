"""Buttons and menu items that are enabled by the engine's rules and explain on hover why they are not.

`reason` is a state var holding the engine's refusal ("" = allowed). A disabled button gets no pointer events
(CSS), so the wrapper under it receives the hover and shows the tooltip.
"""

import reflex as rx
from reflex.event import EventSpec


def guarded_button(
    label: str, *, reason: rx.Var[str], on_click: EventSpec | list[EventSpec] | None, action: str,
    icon: str | None = None, color: str = "gray", variant: str = "ghost", size: str = "1", **props,
) -> rx.Component:
    """A button; when refused, a disabled look-alike whose tooltip gives the reason. `on_click=None` for a form's
    submit button (the form's on_submit acts: a click handler too would act twice)."""

    def button(disabled: bool) -> rx.Component:
        content = [rx.icon(icon, size=14)] if icon else []
        events = {} if disabled or on_click is None else {"on_click": on_click}
        return rx.button(
            *content, label, size=size, variant=variant, color_scheme=color, disabled=disabled,
            class_name="guarded", custom_attrs={"data-action": action}, **events, **props,
        )

    return rx.cond(
        reason != "",
        rx.tooltip(rx.el.span(button(True), class_name="tip-wrap"), content=reason),
        button(False),
    )


def guarded_menu_item(
    label: str | rx.Var[str], *, reason: rx.Var[str], on_click: EventSpec | list[EventSpec], action: str,
    icon: str, color: str | None = None,
) -> rx.Component:
    """A menu item; when refused, a look-alike disabled row (a real item may only sit directly in the menu, and
    a disabled one gets no hover) whose tooltip gives the reason."""
    content = rx.hstack(rx.icon(icon, size=14), rx.text(label), align="center", spacing="2")
    extra = {"color_scheme": color} if color else {}
    return rx.cond(
        reason != "",
        rx.tooltip(
            rx.el.div(content, class_name="menu-item-disabled", role="menuitem",
                      custom_attrs={"data-action": action, "aria-disabled": "true"}),
            content=reason, side="left",
        ),
        rx.menu.item(content, on_click=on_click, custom_attrs={"data-action": action}, **extra),
    )
