"""The product mark: one place for the name shown on the login card and in the sidebar."""

import reflex as rx

PRODUCT_NAME = "Automated Marketing"


def brand(size: str = "4") -> rx.Component:
    return rx.hstack(
        rx.center(
            rx.icon("megaphone", size=18, color="white"),
            width="30px",
            height="30px",
            border_radius="8px",
            background="linear-gradient(135deg, var(--accent-9), var(--accent-11))",
            flex_shrink="0",
        ),
        rx.text(PRODUCT_NAME, size=size, weight="bold", trim="both", white_space="nowrap"),
        align="center",
        spacing="2",
    )
