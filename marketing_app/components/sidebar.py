"""The left navigation: product name, sections, and the signed-in user with a logout button."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.brand import brand

#: (label, icon, route) of the sections; later issues add theirs here.
NAV_ITEMS: list[tuple[str, str, str]] = [
    ("Automated Marketing", "workflow", "/"),
    ("Dashboard", "layout-dashboard", "/dashboard"),
    ("Reach Tasks", "send", "/reach/sms"),
    ("Audiences", "target", "/audiences"),
    ("Customers", "users", "/customers"),
    ("Templates", "file-text", "/templates/messages"),
]
#: seed 004: the reviewer's queue, shown to admins and reviewers only
REVIEWS_ITEM = ("Reviews", "clipboard-check", "/reviews")
#: issue 15: users, API keys, channels and the workspace, for admins only
SETTINGS_ITEM = ("Settings", "settings", "/settings/users")


def _nav_item(label: str, icon: str, route: str) -> rx.Component:
    # a section is active on every page under its first segment (/reach/<channel>, /customers/<id>)
    section = "/" + route.split("/")[1] + "/"
    path = rx.State.router.url.path
    active = (path == route) | (path.startswith(section) if route != "/" else False)
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=16),
            rx.text(label, size="2", weight="medium", white_space="nowrap"),
            align="center",
            spacing="3",
            padding_x="12px",
            padding_y="8px",
            border_radius="8px",
            width="100%",
            color=rx.cond(active, "var(--accent-11)", "var(--gray-12)"),
            background=rx.cond(active, "var(--accent-a3)", "transparent"),
            _hover={"background": rx.cond(active, "var(--accent-a4)", "var(--gray-a3)")},
        ),
        href=route,
        underline="none",
        width="100%",
    )


def _user_block(user_name: rx.Var[str], role: rx.Var[str], on_logout: rx.EventHandler) -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=user_name.to(str)[:1], size="2", radius="full", variant="soft"),
        rx.vstack(
            rx.text(user_name, size="2", weight="medium", id="user-name", trim="both"),
            rx.text(role, size="1", color=styles.MUTED, id="user-role", trim="both"),
            spacing="1",
            min_width="0",
            flex="1",
        ),
        rx.tooltip(
            rx.icon_button(
                rx.icon("log_out", size=16),
                variant="ghost",
                color_scheme="gray",
                on_click=on_logout,
                id="logout",
                aria_label="Log out",
            ),
            content="Log out",
        ),
        align="center",
        spacing="3",
        width="100%",
        padding="12px",
        border_top=styles.BORDER,
    )


def sidebar(user_name: rx.Var[str], role: rx.Var[str], on_logout: rx.EventHandler,
            reviews: rx.Var[bool] | bool = False, settings: rx.Var[bool] | bool = False) -> rx.Component:
    """A full-height column (its border runs down a long page) holding a sticky, viewport-high panel."""
    return rx.box(
        rx.vstack(
            rx.box(brand(size="2"), padding="20px 16px 12px"),
            rx.vstack(
                rx.text("WORKSPACE", size="1", weight="medium", color=styles.MUTED, padding_x="12px",
                        letter_spacing="0.04em"),
                *[_nav_item(*item) for item in NAV_ITEMS],
                rx.cond(reviews, _nav_item(*REVIEWS_ITEM)),
                rx.cond(settings, _nav_item(*SETTINGS_ITEM)),
                spacing="1",
                width="100%",
                padding_x="8px",
            ),
            rx.spacer(),
            _user_block(user_name, role, on_logout),
            height="100vh",
            position="sticky",
            top="0",
            spacing="4",
        ),
        width=styles.SIDEBAR_WIDTH,
        min_width=styles.SIDEBAR_WIDTH,
        align_self="stretch",
        background=styles.PANEL_BG,
        border_right=styles.BORDER,
    )
