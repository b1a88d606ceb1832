"""Moves the browser tests share: signing in, finding a row, opening its More menu, reading toasts and tooltips."""

import re

from playwright.sync_api import Locator, Page, expect

from engine.services.listing import ActivityPage

PASSWORDS = {"admin": "admin123", "marketer": "marketer123", "marketer2": "marketer123", "manager": "manager123",
             "reviewer": "reviewer123"}


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORDS[username])
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/$"))
    expect(page.locator(".activity-row").first).to_be_visible()


def sign_out(page: Page) -> None:
    page.click("#logout")
    page.wait_for_url("**/login")


def back_to_list(page: Page, base_url: str) -> None:
    """Leave the canvas for the list (by address: the canvas page has its own ways back)."""
    page.goto(f"{base_url}/")
    expect(page.locator(".activity-row").first).to_be_visible()


def row(page: Page, name: str) -> Locator:
    return page.locator(f'.activity-row[data-name="{name}"]')


def open_more(page: Page, name: str) -> Locator:
    """Open the row's More menu (once the last one has finished closing); returns the menu."""
    expect(page.locator(".row-menu")).to_have_count(0)
    menu = page.locator(".row-menu")
    for _ in range(2):  # a click that lands while the page is still hydrating opens nothing: click again
        row(page, name).locator(".more-trigger").click()
        try:
            expect(menu).to_be_visible(timeout=5_000)
            return menu
        except AssertionError:
            continue
    row(page, name).locator(".more-trigger").click()
    expect(menu).to_be_visible()
    return menu


def menu_action(page: Page, name: str, action: str) -> None:
    open_more(page, name).locator(f'[data-action="{action}"]').click()


def close_menu(page: Page) -> None:
    page.keyboard.press("Escape")
    expect(page.locator(".row-menu")).to_have_count(0)


def toast(page: Page, text: str, kind: str | None = None) -> Locator:
    found = page.locator("[data-sonner-toast]" + (f'[data-type="{kind}"]' if kind else "")).filter(has_text=text)
    expect(found.first).to_be_visible()
    return found.first


def dismiss_toasts(page: Page) -> None:
    page.evaluate("document.querySelectorAll('[data-sonner-toast] [data-close-button]').forEach(b => b.click())")
    expect(page.locator("[data-sonner-toast]")).to_have_count(0)


def expect_tooltip(page: Page, target: Locator, text: str) -> None:
    """Hover `target`, read its tooltip, and move away until it has closed (Radix opens a tooltip on pointer
    moves over its trigger, and not while the previous one is still closing)."""
    target.hover()
    box = target.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2 + 1, box["y"] + box["height"] / 2, steps=2)
    expect(page.get_by_role("tooltip")).to_have_text(text)
    page.mouse.move(1, 1, steps=3)
    expect(page.get_by_role("tooltip")).to_have_count(0)


def expect_rows(page: Page, found: ActivityPage) -> None:
    if not found.rows:
        expect(page.locator("#activities-empty")).to_be_visible()
        return
    expect(page.locator(".activity-name")).to_have_text([r.name for r in found.rows])
    expect(page.locator(".activity-row .status-badge")).to_have_text([r.status_label for r in found.rows])
    expect(page.locator("#page-info")).to_have_text(f"Page {found.page} of {found.pages}")
    expect(page.locator("#total-count")).to_have_text(f"Total {found.total}")


def search(page: Page, text: str) -> None:
    page.fill("#activity-search", text)
    page.press("#activity-search", "Enter")
