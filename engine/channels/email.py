"""Email over SMTP (stdlib smtplib): STARTTLS / implicit TLS / AUTH when configured; a batch's connections are
kept (one per lane, up to 20 s idle) for the next batch instead of a connection per lane and batch.

Each message becomes a plain-text email (plus an HTML alternative when `options["html"]` is given) with a
stable `Message-ID` derived from the dedupe key and an `X-Dedupe-Key` header. A refused recipient or a
refused message fails that customer with the server's answer; a server that cannot be reached (after
SMTP_MAX_ATTEMPTS connection attempts with backoff) fails the whole batch with the reason. A connection
dropped in the middle of a batch is reopened once for the rest (a kept one found dead when the batch begins
is replaced without counting). Never raises.

Bulk mail: with SMTP_MAX_RECIPIENTS > 1, messages whose rendered content is identical (no per-customer
variables) go as one SMTP transaction with up to that many envelope recipients (To: undisclosed-recipients),
the way bulk mailers hand a newsletter to their relay; each recipient still succeeds or fails on its own (the
server's answer to its RCPT). Personalised messages always go one per transaction.

A batch goes over up to SMTP_CONCURRENCY connections at once (a transaction waits on the server, so one
connection is latency-bound). With a server that offers PIPELINING (RFC 2920; Postfix and the local peer
scripts/smtp_sink.sh do) MAIL, RCPT... and DATA leave in one write, and a run of single-recipient plain mails is
a chain: each content leaves with the next mail's MAIL, RCPT and DATA, one write and one round trip per mail
(on the benchmark's SMTP peer: 43 → 17–19 µs of the worker's CPU per mail, the peer's 16 → 5 µs). Without
PIPELINING, one round trip per command.

Plain-text messages are written as bytes directly (the stdlib `EmailMessage` costs ~0.3 ms a message);
HTML alternatives and unusual content take the `EmailMessage` path.
"""

import logging
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache

from engine.channels.base import Message, Proceed, SendResult, SendStatus, go_on, stopped_results
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
                 ssl_context: ssl.SSLContext | None = None, max_recipients: int = 1, concurrency: int = 1) -> None:
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
        self.max_recipients = max(1, max_recipients)
        self.concurrency = max(1, concurrency)
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._idle: list[tuple[float, smtplib.SMTP]] = []  # (given back at, connection): reused by the next batch
        self._pipelining = False  # the server offered PIPELINING (RFC 2920) when this channel last connected

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "SmtpEmailChannel":
        s = settings or get_settings()
        return cls(host=s.smtp_host, port=s.smtp_port, username=s.smtp_username, password=s.smtp_password,
                   starttls=s.smtp_starttls, use_ssl=s.smtp_ssl, timeout=s.smtp_timeout,
                   max_attempts=s.smtp_max_attempts, sender=s.email_from, max_recipients=s.smtp_max_recipients,
                   concurrency=s.smtp_concurrency)

    # -- connection ------------------------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        if self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()  # loads the CA store: only when TLS is used
        return self.ssl_context

    def _open_once(self) -> smtplib.SMTP:
        if self.use_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.starttls and not self.use_ssl:
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        self._pipelining = bool(smtp.does_esmtp and smtp.has_extn("pipelining"))
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

    def plain(self, message: Message) -> bool:
        """Can the message be written directly (plain text, one-line headers, lines of sane length)?"""
        to = message.to or ""
        return "\n" not in to and "\r" not in to and self._plain_content(message)

    @staticmethod
    def _plain_content(message: Message) -> bool:
        """`plain` but for the recipient: what the messages of one component share (`_units` asks it once)."""
        options = message.options
        if options.get("html"):
            return False
        subject = message.subject or ""
        for value in (subject, str(options.get("from") or ""), str(options.get("reply_to") or "")):
            if "\n" in value or "\r" in value:
                return False
        body = message.body or ""
        return len(subject) <= 900 and (len(body) <= 990 or all(len(line) <= 990 for line in body.splitlines()))

    def raw(self, message: Message, *, to: str | None = None, message_id: str | None = None,
            dedupe: bool = True) -> bytes | None:
        """The message as bytes, written directly for plain text; None when it needs `build` (HTML, long or
        odd lines, line breaks in a header)."""
        if not self.plain(message):
            return None
        options = message.options
        sender = str(options.get("from") or self.sender)
        reply_to = str(options.get("reply_to") or "")
        subject = message.subject or ""
        body = (message.body or "").replace("\r\n", "\n").replace("\r", "\n")
        name, address, domain = _address(sender)
        if not sender.isascii():
            sender = formataddr((name, address), charset="utf-8")
        if not subject.isascii():
            subject = Header(subject, "utf-8").encode()
        lines = [f"From: {sender}", f"To: {message.to if to is None else to}", f"Subject: {subject}",
                 f"Date: {_date_now()}",
                 f"Message-ID: {message_id or '<' + message.dedupe_key.replace(':', '.') + '@' + domain + '>'}"]
        if dedupe:
            lines.append(f"X-Dedupe-Key: {message.dedupe_key}")
        if reply_to:
            lines.append(f"Reply-To: {reply_to}")
        lines += ["MIME-Version: 1.0", 'Content-Type: text/plain; charset="utf-8"',
                  f"Content-Transfer-Encoding: {'7bit' if body.isascii() else '8bit'}"]
        return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n").encode()

    # -- sending ---------------------------------------------------------------------------------------
    def _refused(self, exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | smtplib.SMTPDataError,
                 message: Message) -> SendResult:
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            code, text = exc.recipients.get(message.to, (None, b"refused"))
            return SendResult(message.customer_id, SendStatus.FAILED,
                              reason=f"recipient refused: {_answer(code, text)}")
        if isinstance(exc, smtplib.SMTPSenderRefused):
            return SendResult(message.customer_id, SendStatus.FAILED,
                              reason=f"sender refused: {_answer(exc.smtp_code, exc.smtp_error)}")
        return SendResult(message.customer_id, SendStatus.FAILED,
                          reason=f"message refused: {_answer(exc.smtp_code, exc.smtp_error)}")

    def _send_one(self, smtp: smtplib.SMTP, message: Message) -> SendResult:
        try:
            data = self.raw(message)
            if data is None:
                email = self.build(message)
                sender = parseaddr(email["From"])[1]
                message_id = str(email["Message-ID"])
                smtp.send_message(email, from_addr=sender, to_addrs=[message.to])
            else:
                sender = _address(str(message.options.get("from") or self.sender))[1]
                message_id = data.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
                _transaction(smtp, sender, [message.to], data)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return self._refused(exc, message)
        except (UnicodeError, ValueError) as exc:
            return SendResult(message.customer_id, SendStatus.FAILED, reason=f"cannot encode email: {exc}")
        return SendResult(message.customer_id, SendStatus.SUCCESS, provider_message_id=message_id)

    def _send_many(self, smtp: smtplib.SMTP, group: list[Message]) -> list[SendResult]:
        """One transaction, many envelope recipients (identical plain-text content)."""
        first = group[0]
        _name, sender, domain = _address(str(first.options.get("from") or self.sender))
        message_id = make_msgid(idstring=first.dedupe_key.replace(":", "."), domain=domain)
        data = self.raw(first, to="undisclosed-recipients:;", message_id=message_id, dedupe=False)
        assert data is not None
        try:
            refused = _transaction(smtp, sender, [m.to for m in group], data)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return [self._refused(exc, m) for m in group]
        results = []
        for m in group:
            if m.to in refused:
                code, text = refused[m.to]
                results.append(SendResult(m.customer_id, SendStatus.FAILED,
                                          reason=f"recipient refused: {_answer(code, text)}"))
            else:
                results.append(SendResult(m.customer_id, SendStatus.SUCCESS, provider_message_id=message_id))
        return results

    def _units(self, messages: list[Message]) -> list[list[Message]]:
        """Transactions to make: single messages, or groups of identical plain-text content."""
        if self.max_recipients <= 1:
            return [[m] for m in messages]
        # A server that pipelines (RFC 2920) takes a transaction in two round trips whatever its recipients: the
        # largest groups, on as few connections (a thread each) as that makes. Without it, a transaction's
        # recipients go one RCPT round trip after another, so groups no larger than needed to keep every
        # connection busy: 600 recipients over 16 connections finish sooner as 16 × 38 than 6 × 100. (With
        # pipelining, 16 × 38 cost 15 µs of CPU a recipient in 16 threads, 6 × 100 cost ~7: docs/BENCHMARKS.md.)
        size = self.max_recipients if self._pipelining else \
            max(1, min(self.max_recipients, -(-len(messages) // self.concurrency)))
        units: list[list[Message]] = []
        open_groups: dict[tuple[str, str, str, str], list[Message]] = {}  # (subject, body, from, reply_to)
        content: dict[tuple[str, str, str, str], bool] = {}  # shared parts → plain: asked once, not per message
        for m in messages:
            options = m.options
            key = (m.subject, m.body, str(options.get("from") or ""), str(options.get("reply_to") or ""))
            plain = False if options.get("html") else content.get(key)  # HTML is never plain (the key leaves it out)
            if plain is None:
                plain = content[key] = self._plain_content(m)
            to = m.to or ""
            if not plain or "\n" in to or "\r" in to:
                units.append([m])
                continue
            group = open_groups.setdefault(key, [])
            if not group:
                units.append(group)
            group.append(m)
            if len(group) >= size:
                del open_groups[key]
        return units

    def send_batch(self, messages: list[Message], proceed: Proceed = go_on) -> list[SendResult]:
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
        units = self._units(todo)
        lanes = min(self.concurrency, len(units))
        if lanes <= 1:
            return results + self._send_units(units, proceed)
        # several connections at once: an SMTP transaction waits on the server for every command
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="smtp")
            pool = self._pool
        for lane_results in pool.map(lambda lane: self._send_units(lane, proceed),
                                     [units[i::lanes] for i in range(lanes)]):
            results.extend(lane_results)
        return results

    def _send_units(self, units: list[list[Message]], proceed: Proceed = go_on) -> list[SendResult]:
        """Send units (one message, or a group of recipients) over one connection, in order."""
        results: list[SendResult] = []
        reopened = False
        reused = False  # the connection came from the idle ones and has not carried a mail yet
        smtp: smtplib.SMTP | None = None
        index = 0
        try:
            while index < len(units):
                unit = units[index]
                before = len(results)  # a chain of transactions appends its results one by one
                if not proceed():  # the round was stopped: no transaction leaves after that
                    results.extend(stopped_results([m for u in units[index:] for m in u]))
                    return results
                if smtp is None:
                    try:
                        smtp, reused = self._take()
                    except RuntimeError as exc:
                        results.extend(SendResult(m.customer_id, SendStatus.FAILED, reason=str(exc))
                                       for u in units[index:] for m in u)
                        return results
                try:
                    if len(unit) == 1 and smtp.does_esmtp and smtp.has_extn("pipelining"):
                        self._send_chain(smtp, units, index, proceed, results)
                        if len(results) > before:
                            index += len(results) - before
                            reused = False
                            continue
                    if len(unit) == 1:
                        results.append(self._send_one(smtp, unit[0]))
                    else:
                        results.extend(self._send_many(smtp, unit))
                except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
                    # the connection broke: reopen once and retry this message, then give up on the rest
                    index += len(results) - before  # what a chain finished before it broke stays finished
                    at = units[min(index, len(units) - 1)][0]
                    log.warning("SMTP connection lost at message %s: %s", at.dedupe_key, exc)
                    try:
                        smtp.close()
                    except Exception:
                        pass
                    smtp = None
                    if reused and len(results) == before:  # an idle connection the server had dropped
                        reused = False
                        continue
                    reused = False
                    if reopened:
                        reason = f"SMTP connection lost: {exc or type(exc).__name__}"
                        results.extend(SendResult(m.customer_id, SendStatus.FAILED, reason=reason)
                                       for u in units[index:] for m in u)
                        return results
                    reopened = True
                    continue
                except Exception as exc:  # anything unexpected fails these customers, not the batch
                    _quit(smtp)  # and the connection: it may be in the middle of a transaction
                    smtp = None
                    index += len(results) - before
                    if index >= len(units):
                        break
                    results.extend(SendResult(m.customer_id, SendStatus.FAILED,
                                              reason=f"email error: {type(exc).__name__}: {exc}")
                                   for m in units[index])
                index += 1
                reused = False
        finally:
            if smtp is not None:
                self._give_back(smtp)
        return results

    def _take(self) -> tuple[smtplib.SMTP, bool]:
        """A connection for a lane: an idle one given back by an earlier batch (True), else a new one. A batch
        of a walk is a few hundred mails over up to SMTP_CONCURRENCY lanes: a connection (TCP, EHLO, maybe TLS
        and AUTH) per lane and batch cost about as much CPU as the lane's mails."""
        now = time.monotonic()
        stale: list[smtplib.SMTP] = []
        found: smtplib.SMTP | None = None
        with self._lock:
            while self._idle:
                given_back, smtp = self._idle.pop()
                if now - given_back <= IDLE_REUSE_S:
                    found = smtp
                    break
                stale.append(smtp)
        for smtp in stale:
            _quit(smtp)
        return (found, True) if found is not None else (self._open(), False)

    def _give_back(self, smtp: smtplib.SMTP) -> None:
        """Keep a connection between transactions for the next batch (up to one per lane), or say goodbye."""
        if smtp.sock is None:
            return
        with self._lock:
            if len(self._idle) < self.concurrency:
                self._idle.append((time.monotonic(), smtp))
                return
        _quit(smtp)

    def _chain_item(self, message: Message) -> tuple[str, bytes, str] | None:
        """(sender, content, Message-ID) of a message a chain can carry: plain text, plain addresses."""
        data = self.raw(message)
        if data is None:
            return None
        sender = _address(str(message.options.get("from") or self.sender))[1]
        if not (_plain_address(sender) and _plain_address(message.to)):
            return None
        message_id = data.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
        return sender, data, message_id

    def _send_chain(self, smtp: smtplib.SMTP, units: list[list[Message]], index: int, proceed: Proceed,
                    results: list[SendResult]) -> None:
        """Single-recipient plain messages from `units[index]` on, one write each (RFC 2920): a message's content
        leaves with the next message's MAIL, RCPT and DATA, so a mail costs one round trip instead of two. Results
        are appended in the units' order, each once the server answered it; stops at the first message it cannot
        carry (HTML, a group) or when `proceed()` says no (asked before each transaction after the first: the
        caller asked about that one). Raises like a broken connection; the caller reopens and goes on after the
        last result."""
        Item = tuple[int, Message, str, bytes, str]  # position, message, sender, content, Message-ID

        def envelope(item: Item) -> bytes:
            return f"MAIL FROM:<{item[2]}>\r\nRCPT TO:<{item[1].to}>\r\nDATA\r\n".encode()

        def next_item(position: int, ask: bool) -> tuple[Item | None, list[SendResult]]:
            """The next message the chain carries, and the results of those skipped (cannot be encoded)."""
            skipped: list[SendResult] = []
            while position < len(units) and len(units[position]) == 1:
                message = units[position][0]
                if ask and not proceed():
                    break
                try:
                    found = self._chain_item(message)
                except (UnicodeError, ValueError) as exc:
                    skipped.append(SendResult(message.customer_id, SendStatus.FAILED,
                                              reason=f"cannot encode email: {exc}"))
                    position += 1
                    continue
                if found is None:
                    break
                return (position, message, *found), skipped
            return None, skipped

        current, skipped = next_item(index, False)
        if skipped:  # the first messages cannot be encoded: their results, and the caller goes on after them
            results.extend(skipped)
            return
        if current is None:
            return  # the first unit is not for a chain (the caller sends it another way)
        try:
            smtp.send(envelope(current))
            self._chain_loop(smtp, current, next_item, envelope, results)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError):
            raise
        except BaseException as exc:
            # stopped between two writes (proceed() failed, the thread is interrupted): the server may be
            # waiting for a content; the connection cannot be used again
            smtp.close()
            if isinstance(exc, Exception):
                raise smtplib.SMTPServerDisconnected(f"mail chain interrupted: {type(exc).__name__}: {exc}") from exc
            raise

    def _chain_loop(self, smtp: smtplib.SMTP, current: tuple[int, Message, str, bytes, str],
                    next_item: Callable[[int, bool], tuple[tuple[int, Message, str, bytes, str] | None,
                                                          list[SendResult]]],
                    envelope: Callable[[tuple[int, Message, str, bytes, str]], bytes],
                    results: list[SendResult]) -> None:
        """The chain after its first envelope left (see `_send_chain`)."""
        while True:
            _position, message, _sender, data, message_id = current
            replies = [smtp.getreply() for _ in range(3)]  # MAIL, RCPT, DATA
            closing = next((reply for reply in replies if reply[0] == 421), None)
            if closing is not None:
                smtp.close()
                raise smtplib.SMTPServerDisconnected(_answer(*closing))
            (mail_code, mail_answer), (rcpt_code, rcpt_answer), (data_code, data_answer) = replies
            accepted = mail_code == 250 and rcpt_code in (250, 251) and data_code == 354
            refusal: SendResult | None = None
            if not accepted:
                if mail_code != 250:
                    reason = f"sender refused: {_answer(mail_code, mail_answer)}"
                elif rcpt_code not in (250, 251):
                    reason = f"recipient refused: {_answer(rcpt_code, rcpt_answer)}"
                else:
                    reason = f"message refused: {_answer(data_code, data_answer)}"
                refusal = SendResult(message.customer_id, SendStatus.FAILED, reason=reason)
                if data_code == 354:  # took DATA although it refused the envelope: an empty message, then RSET
                    smtp.send(b".\r\n")
                    smtp.getreply()
            following, skipped = next_item(current[0] + 1, True)
            out = b""
            if accepted:
                content = _LEADING_DOT.sub(b"..", data)
                out = content + (b".\r\n" if content.endswith(b"\r\n") else b"\r\n.\r\n")
            else:
                out = b"RSET\r\n"  # the refused transaction is cleared before the next one
            if following is not None:
                out += envelope(following)
            smtp.send(out)
            code, answer = smtp.getreply()  # the content's answer, or RSET's
            if refusal is not None:
                results.append(refusal)
                if code != 250:
                    raise smtplib.SMTPResponseException(code, answer)
            elif code == 250:
                results.append(SendResult(message.customer_id, SendStatus.SUCCESS, provider_message_id=message_id))
            else:
                results.append(SendResult(message.customer_id, SendStatus.FAILED,
                                          reason=f"message refused: {_answer(code, answer)}"))
                if code == 421:
                    smtp.close()
                    raise smtplib.SMTPServerDisconnected(_answer(code, answer))
            results.extend(skipped)
            if following is None:
                return
            current = following

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            idle, self._idle = self._idle, []
        if pool is not None:
            pool.shutdown(wait=True)
        for _given_back, smtp in idle:
            _quit(smtp)


#: an idle connection is reused within this many seconds, else closed (servers drop idle clients after minutes;
#: one dropped anyway is noticed at its first command and replaced, the mail is not lost)
IDLE_REUSE_S = 20.0


def _quit(smtp: smtplib.SMTP) -> None:
    """QUIT, or at least close, never raising."""
    try:
        smtp.quit()
    except Exception:
        try:
            smtp.close()
        except Exception:
            pass


_DATE: tuple[int, str] = (0, "")


def _date_now() -> str:
    """The Date header of now, formatted once a second (formatdate costs ~5 µs: 5 CPU-s over a million mails)."""
    global _DATE
    second = int(time.time())
    if _DATE[0] != second:
        _DATE = (second, formatdate(second, usegmt=True))
    return _DATE[1]


@lru_cache(maxsize=256)
def _address(sender: str) -> tuple[str, str, str]:
    """(display name, address, domain) of a From value, parsed once."""
    name, address = parseaddr(sender)
    return name, address, address.rpartition("@")[2] or "localhost"


_NOT_PLAIN = re.compile(r"[<> \r\n]")


def _plain_address(address: str) -> bool:
    """An address that goes into a command as it is: ASCII, no brackets, spaces or line breaks."""
    return address.isascii() and _NOT_PLAIN.search(address) is None


def _transaction(smtp: smtplib.SMTP, sender: str, recipients: list[str], data: bytes) -> dict[str, tuple[int, bytes]]:
    """`SMTP.sendmail` for plain addresses, without parsing each address again (smtplib's `mail` and `rcpt` run
    the email address parser, a quarter of a message's CPU). With a server that offers PIPELINING (RFC 2920)
    MAIL, every RCPT and DATA leave in one write and their answers are read after: two round trips a message
    instead of 3 + recipients, half the system calls on both ends. Returns the refused recipients, raises like
    `sendmail`."""
    if _plain_address(sender) and all(_plain_address(to) for to in recipients):
        if smtp.does_esmtp and smtp.has_extn("pipelining"):
            return _pipelined(smtp, sender, recipients, data)
        code, answer = smtp.docmd("MAIL", f"FROM:<{sender}>")
    else:
        code, answer = smtp.mail(sender)
    if code != 250:
        if code == 421:
            smtp.close()
        else:
            smtp.rset()
        raise smtplib.SMTPSenderRefused(code, answer, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for to in recipients:
        if "<" in to or ">" in to or " " in to:
            code, answer = smtp.rcpt(to)
        else:
            code, answer = smtp.docmd("RCPT", f"TO:<{to}>")
        if code not in (250, 251):
            refused[to] = (code, answer)
        if code == 421:
            smtp.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(recipients):
        smtp.rset()
        raise smtplib.SMTPRecipientsRefused(refused)
    code, answer = smtp.data(data)
    if code != 250:
        if code == 421:
            smtp.close()
        else:
            smtp.rset()
        raise smtplib.SMTPDataError(code, answer)
    return refused


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _pipelined(smtp: smtplib.SMTP, sender: str, recipients: list[str], data: bytes) -> dict[str, tuple[int, bytes]]:
    """One transaction with MAIL, RCPT... and DATA in one group (RFC 2920), then the content. Every answer of
    the group is read before deciding, so the connection stays in step whatever the server refused."""
    smtp.send("".join([f"MAIL FROM:<{sender}>\r\n", *(f"RCPT TO:<{to}>\r\n" for to in recipients), "DATA\r\n"]))
    mail_code, mail_answer = smtp.getreply()
    refused: dict[str, tuple[int, bytes]] = {}
    closing: tuple[int, bytes] | None = (mail_code, mail_answer) if mail_code == 421 else None
    for to in recipients:
        code, answer = smtp.getreply()
        if code not in (250, 251):
            refused[to] = (code, answer)
        if code == 421:
            closing = (code, answer)
    data_code, data_answer = smtp.getreply()
    failed = mail_code != 250 or len(refused) == len(recipients)
    if failed and data_code == 354:  # a server that took DATA anyway gets an empty message, then RSET below
        smtp.send(b".\r\n")
        smtp.getreply()
    if closing is not None or data_code == 421:
        smtp.close()
    elif failed or data_code != 354:
        smtp.rset()
    if mail_code != 250:
        raise smtplib.SMTPSenderRefused(mail_code, mail_answer, sender)
    if closing is not None:  # the server is leaving: no content was sent, so nobody got it
        raise smtplib.SMTPRecipientsRefused({to: refused.get(to, closing) for to in recipients})
    if failed:
        raise smtplib.SMTPRecipientsRefused(refused)
    if data_code != 354:
        raise smtplib.SMTPDataError(data_code, data_answer)
    content = _LEADING_DOT.sub(b"..", data)
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    smtp.send(content + b".\r\n")
    code, answer = smtp.getreply()
    if code != 250:
        if code == 421:
            smtp.close()
        else:
            smtp.rset()
        raise smtplib.SMTPDataError(code, answer)
    return refused
