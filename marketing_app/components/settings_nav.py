"""The tab bar of the admin Settings pages (/settings/<tab>): one list, so every tab page shows the same bar."""

import reflex as rx

#: (label, route) of each settings tab, in display order
SETTINGS_TABS: list[tuple[str, str]] = [
    ("Users", "/settings/users"),
    ("API keys", "/settings/keys"),
    ("Channels", "/settings/channels"),
    ("Frequency caps", "/settings/caps"),
    ("Workspace", "/settings/workspace"),
]


def settings_nav() -> rx.Component:
    """Links styled as tabs; the current page's tab is highlighted (read from the URL, no state)."""
    path = rx.State.router.url.path
    # a reloaded page's path may carry the server's trailing slash (/settings/users/)
    return rx.hstack(
        *[
            rx.link(
                label,
                href=route,
                id=f"settings-tab-{route.rsplit('/', 1)[1]}",
                underline="none",
                weight="medium",
                size="2",
                padding="6px 12px",
                border_radius="6px",
                color=rx.cond((path == route) | (path == route + "/"), "var(--accent-11)", "var(--gray-11)"),
                background=rx.cond((path == route) | (path == route + "/"), "var(--accent-a3)", "transparent"),
            )
            for label, route in SETTINGS_TABS
        ],
        spacing="1",
        id="settings-nav",
    )
