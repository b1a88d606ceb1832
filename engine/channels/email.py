"""Email over SMTP (stdlib smtplib): one connection per batch, STARTTLS / implicit TLS / AUTH when configured.

Each message becomes a plain-text email (plus an HTML alternative when `options["html"]` is given) with a
stable `Message-ID` derived from the dedupe key and an `X-Dedupe-Key` header. A refused recipient or a
refused message fails that customer with the server's answer; a server that cannot be reached (after
SMTP_MAX_ATTEMPTS connection attempts with backoff) fails the whole batch with the reason. A connection
dropped in the middle of a batch is reopened once for the rest. Never raises.
"""

import logging
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from engine.channels.base import Message, SendResult, SendStatus
from engine.settings import Settings, get_settings

log = logging.getLogger(__name__)


def _answer(code: int | None, text: bytes | str | None) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return f"{code} {text}".strip() if code else str(text or "")


class SmtpEmailChannel:
    name = "email"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 8025, username: str = "", password: str = "",
                 starttls: bool = False, use_ssl: bool = False, timeout: float = 10.0, max_attempts: int = 3,
                 backoff: float = 0.2, sender: str = "Marketing <marketing@example.com>",
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.sender = sender
        self.ssl_context = ssl_context

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "SmtpEmailChannel":
        s = settings or get_settings()
        return cls(host=s.smtp_host, port=s.smtp_port, username=s.smtp_username, password=s.smtp_password,
                   starttls=s.smtp_starttls, use_ssl=s.smtp_ssl, timeout=s.smtp_timeout,
                   max_attempts=s.smtp_max_attempts, sender=s.email_from)

    # -- connection ------------------------------------------------------------------------------------
    def _open_once(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.use_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.starttls and not self.use_ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _open(self) -> smtplib.SMTP:
        """Connect with bounded retries; raises the last error as a reason string inside RuntimeError."""
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._open_once()
            except smtplib.SMTPAuthenticationError as exc:  # wrong credentials: retrying cannot help
                raise RuntimeError(f"SMTP login refused: {_answer(exc.smtp_code, exc.smtp_error)}") from exc
            except smtplib.SMTPNotSupportedError as exc:
                raise RuntimeError(f"SMTP server does not support it: {exc}") from exc
            except (OSError, smtplib.SMTPException) as exc:
                last = str(exc) or type(exc).__name__
                if isinstance(exc, smtplib.SMTPResponseException):
                    last = _answer(exc.smtp_code, exc.smtp_error)
            if attempt < self.max_attempts:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
        noun = "attempt" if self.max_attempts == 1 else "attempts"
        raise RuntimeError(f"cannot reach SMTP server {self.host}:{self.port} ({last}) "
                           f"after {self.max_attempts} {noun}")

    # -- building ------------------------------------------------------------------------------------
    def build(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = str(message.options.get("from") or self.sender)
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        domain = parseaddr(email["From"])[1].rpartition("@")[2] or "localhost"
        email["Message-ID"] = f"<{message.dedupe_key.replace(':', '.')}@{domain}>"
        email["X-Dedupe-Key"] = message.dedupe_key
        if message.options.get("reply_to"):
            email["Reply-To"] = str(message.options["reply_to"])
        email.set_content(message.body or "")
        if message.options.get("html"):
            email.add_alternative(str(message.options["html"]), subtype="html")
        return email

    # -- sending ---------------------------------------------------------------------------------------
    def _send_one(self, smtp: smtplib.SMTP, message: Message) -> SendResult:
        email = self.build(message)
        sender = parseaddr(email["From"])[1]
        try:
            smtp.send_message(email, from_addr=sender, to_addrs=[message.to])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(message.to, (None, b"refused"))
            return SendResult(message.customer_id, SendStatus.FAILED,
                              reason=f"recipient refused: {_answer(code, text)}")
        except smtplib.SMTPSenderRefused as exc:
            return SendResult(message.customer_id, SendStatus.FAILED,
                              reason=f"sender refused: {_answer(exc.smtp_code, exc.smtp_error)}")
        except smtplib.SMTPDataError as exc:
            return SendResult(message.customer_id, SendStatus.FAILED,
                              reason=f"message refused: {_answer(exc.smtp_code, exc.smtp_error)}")
        except (UnicodeError, ValueError) as exc:
            return SendResult(message.customer_id, SendStatus.FAILED, reason=f"cannot encode email: {exc}")
        return SendResult(message.customer_id, SendStatus.SUCCESS, provider_message_id=email["Message-ID"])

    def send_batch(self, messages: list[Message]) -> list[SendResult]:
        results: list[SendResult] = []
        todo: list[Message] = []
        for m in messages:
            if "@" not in (m.to or ""):
                results.append(SendResult(m.customer_id, SendStatus.FAILED,
                                          reason=f"invalid email address: {m.to!r}" if m.to else "no email address"))
            else:
                todo.append(m)
        if not todo:
            return results
        reopened = False
        smtp: smtplib.SMTP | None = None
        index = 0
        try:
            while index < len(todo):
                if smtp is None:
                    try:
                        smtp = self._open()
                    except RuntimeError as exc:
                        results.extend(SendResult(m.customer_id, SendStatus.FAILED, reason=str(exc))
                                       for m in todo[index:])
                        return results
                message = todo[index]
                try:
                    results.append(self._send_one(smtp, message))
                except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
                    # the connection broke: reopen once and retry this message, then give up on the rest
                    log.warning("SMTP connection lost at message %s: %s", message.dedupe_key, exc)
                    try:
                        smtp.close()
                    except Exception:
                        pass
                    smtp = None
                    if reopened:
                        reason = f"SMTP connection lost: {exc or type(exc).__name__}"
                        results.extend(SendResult(m.customer_id, SendStatus.FAILED, reason=reason)
                                       for m in todo[index:])
                        return results
                    reopened = True
                    continue
                except Exception as exc:  # anything unexpected fails this customer, not the batch
                    results.append(SendResult(message.customer_id, SendStatus.FAILED,
                                              reason=f"email error: {type(exc).__name__}: {exc}"))
                index += 1
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except Exception:
                    try:
                        smtp.close()
                    except Exception:
                        pass
        return results
