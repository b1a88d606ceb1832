"""One decorator gives a page the console shell (sidebar + content) and the login guard.

The guard runs first on every load; the content stays hidden until the server confirmed a user, so a
logged-out visitor never sees an empty console flash before the redirect.
"""

from collections.abc import Callable

import reflex as rx

from marketing_app import styles
from marketing_app.components.brand import PRODUCT_NAME
from marketing_app.components.sidebar import sidebar
from marketing_app.states.auth import AuthState
from marketing_app.states.sign_out import SignOutState

PageFn = Callable[[], rx.Component]


def _shell(content: rx.Component) -> rx.Component:
    return rx.hstack(
        sidebar(AuthState.display_name, AuthState.role_label, SignOutState.logout,
                reviews=(AuthState.role == "admin") | (AuthState.role == "reviewer"),
                settings=AuthState.role == "admin"),
        rx.box(
            rx.box(content, max_width=styles.CONTENT_MAX_WIDTH, margin_x="auto", width="100%"),
            flex="1",
            min_width="0",
            padding_x=styles.PAGE_PADDING_X,
            padding_y=styles.PAGE_PADDING_Y,
        ),
        spacing="0",
        align="start",
        width="100%",
        min_height="100vh",
        background=styles.APP_BG,
    )


def template(
    *, route: str, title: str, on_load: rx.EventHandler | list[rx.EventHandler] | None = None,
) -> Callable[[PageFn], PageFn]:
    loads = on_load if isinstance(on_load, list) else [on_load] if on_load else []

    def decorator(page_content: PageFn) -> PageFn:
        @rx.page(route=route, title=f"{title} · {PRODUCT_NAME}", on_load=[AuthState.require_login, *loads])
        def page() -> rx.Component:
            return rx.cond(
                AuthState.display_name != "",
                _shell(page_content()),
                rx.center(rx.spinner(size="3"), height="100vh", background=styles.APP_BG),
            )

        return page

    return decorator
