"""/login: username and password; the service's message is shown as is on failure."""

import reflex as rx

from marketing_app import styles
from marketing_app.components.brand import PRODUCT_NAME, brand
from marketing_app.routes import LOGIN_ROUTE
from marketing_app.states.auth import AuthState


def _field(label: str, name: str, kind: str, autocomplete: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=f"login-{name}", size="2", weight="medium"),
        rx.input(name=name, id=f"login-{name}", type=kind, auto_complete=autocomplete, size="3",
                 width="100%", required=True),
        spacing="1",
        width="100%",
    )


def _error() -> rx.Component:
    return rx.cond(
        AuthState.login_error != "",
        rx.callout(AuthState.login_error, icon="circle_alert", color_scheme="red", size="1",
                   id="login-error", width="100%"),
    )


def login_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _field("Username", "username", "text", "username"),
            _field("Password", "password", "password", "current-password"),
            _error(),
            rx.button("Sign in", type="submit", size="3", width="100%", loading=AuthState.logging_in,
                      id="login-submit"),
            spacing="4",
            width="100%",
        ),
        on_submit=AuthState.login,
        reset_on_submit=False,
        width="100%",
    )


@rx.page(route=LOGIN_ROUTE, title=f"Sign in · {PRODUCT_NAME}", on_load=AuthState.skip_login_if_signed_in)
def login() -> rx.Component:
    return rx.center(
        rx.vstack(
            brand(size="5"),
            rx.box(
                rx.vstack(
                    rx.heading("Sign in", size="5"),
                    rx.text("Design, publish and follow your marketing activities.", size="2",
                            color=styles.MUTED),
                    spacing="1",
                    margin_bottom="20px",
                ),
                login_form(),
                padding="32px",
                width="100%",
                style=styles.panel_style,
            ),
            align="center",
            spacing="6",
            width="400px",
            max_width="calc(100vw - 32px)",
        ),
        min_height="100vh",
        background=styles.APP_BG,
    )
