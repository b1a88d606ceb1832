"""Settings → Channels in the browser: an admin points email at an SMTP server on loopback (refused by the
outbound fence until the host is allow-listed on the same page), sets the login password, reloads and sees only
"set" — the password is in no page and no websocket frame —, and sends a test email the server receives with
that login. A marketer is refused, also when typing the URL."""

from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningApp, Shot
from tests.browser.harness import free_port
from tests.browser.ui import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "mail-pw-7c1d93"


class Sink:
    """An SMTP server on loopback that accepts the login `mailer` / PASSWORD and keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], Any]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()

    def check(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
        if isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode():
            sink.logins.append(auth_data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=check, auth_require_tls=False)
    controller.start()
    yield sink, port
    controller.stop()


def _open(page: Page, app: RunningApp) -> None:
    page.goto(f"{app.url}/settings/channels")
    expect(page.locator("#channel-email")).to_be_visible()


def test_admin_sets_smtp_and_password_sees_only_set_and_sends_a_test_email(
        page: Page, app_server: RunningApp, shot: Shot, smtp_sink: tuple[Sink, int]) -> None:
    sink, port = smtp_sink
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(str(frame))))
    sign_in(page, app_server.url, "admin")
    _open(page, app_server)
    expect(page.locator("#settings-tab-channels")).to_be_visible()
    expect(page.locator("#secret-state-smtp_password")).to_have_text("not set")
    shot(page, "channels", full=True)

    email = page.locator("#form-email")
    email.locator("#field-smtp_host").fill("127.0.0.1")
    email.locator("#field-smtp_port").fill(str(port))
    email.locator("#field-smtp_username").fill("mailer")
    email.locator("#field-smtp_password").fill(PASSWORD)
    page.click("#save-email")
    refused = page.locator("#save-error-email")
    expect(refused).to_contain_text(f"SMTP host: address not allowed: 127.0.0.1:{port}, a loopback address")
    shot(page, "fence-refuses-loopback")

    page.fill("#allow-entry", f"127.0.0.1:{port}")
    page.fill("#allow-note", "the test's SMTP server")
    page.click("#allow-add")
    expect(page.locator(f".allow-row[data-entry='127.0.0.1:{port}']")).to_be_visible()

    # what was typed is still there (the allow-list's edit leaves the forms alone): save again, now allowed
    expect(email.locator("#field-smtp_host")).to_have_value("127.0.0.1")
    expect(email.locator("#field-smtp_password")).to_have_value(PASSWORD)
    page.click("#save-email")
    expect(page.locator("#secret-state-smtp_password")).to_have_text("set")
    expect(page.locator("#save-error-email")).to_have_count(0)

    page.reload()
    expect(page.locator("#secret-state-smtp_password")).to_have_text("set")
    expect(page.locator("#replace-smtp_password")).to_be_visible()
    expect(page.locator("#field-smtp_password")).to_have_count(0)  # the box opens only on "replace"
    expect(email.locator("#field-smtp_host")).to_have_value("127.0.0.1")
    expect(email.locator("#field-smtp_port")).to_have_value(str(port))
    page.click("#replace-smtp_password")
    expect(page.locator("#field-smtp_password")).to_have_value("")
    shot(page, "password-set-replace")
    assert PASSWORD not in page.content()

    page.fill("#test-to-email", "ann@example.com")
    page.click("#test-send-email")
    result = page.locator("#test-result-email")
    expect(result).to_contain_text("Sent to ann@example.com")
    shot(page, "test-email-sent")
    mail_from, recipients, mail = sink.received[-1]
    assert recipients == ["ann@example.com"] and mail["Subject"].startswith("Test message from ")
    assert sink.logins == ["mailer"]  # the stored password, decrypted for the send only

    page.fill("#test-to-email", "not an address")
    page.click("#test-send-email")
    expect(result).to_contain_text("Email address: an address like")
    assert not any(PASSWORD in frame for frame in frames)


def test_a_marketer_is_refused_also_by_url(page: Page, app_server: RunningApp, shot: Shot) -> None:
    sign_in(page, app_server.url, "marketer")
    page.goto(f"{app_server.url}/settings/channels")
    expect(page.locator("#channels-refused")).to_contain_text("Only an admin can see and change the channel settings")
    expect(page.locator("#channel-email")).to_have_count(0)
    expect(page.locator("#outbound-allow")).to_have_count(0)
    shot(page, "marketer-refused")
