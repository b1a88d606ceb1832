"""Email through a real SMTP server (aiosmtpd on loopback)."""

import socket
import ssl

from aiosmtpd.controller import Controller

from engine.channels.base import SendStatus
from engine.channels.email import SmtpEmailChannel
from tests.engine.channels.helpers import free_port, msg


def email(customer_id: int, to: str, **kw):
    return msg(customer_id, channel="email", to=to, record_id=7, node_id="n4", subject="Picked for you",
               body=f"Hello customer {customer_id}", **kw)


def channel_for(sink, **kw) -> SmtpEmailChannel:
    return SmtpEmailChannel(host=sink.host, port=sink.port, sender="Shop <news@shop.example>", **kw)


def test_batch_is_delivered_with_headers_and_bodies(smtp_server):
    results = channel_for(smtp_server).send_batch([email(i, f"c{i}@example.com") for i in range(1, 6)])
    assert sorted(r.customer_id for r in results) == [1, 2, 3, 4, 5]
    assert all(r.status == SendStatus.SUCCESS for r in results)
    assert len(smtp_server.received) == 5
    by_to = {rcpts[0]: (mail_from, m) for mail_from, rcpts, m in smtp_server.received}
    mail_from, m = by_to["c3@example.com"]
    assert mail_from == "news@shop.example"
    assert m["From"] == "Shop <news@shop.example>"
    assert m["To"] == "c3@example.com"
    assert m["Subject"] == "Picked for you"
    assert m["X-Dedupe-Key"] == "7:n4:3"
    assert m["Message-ID"] == "<7.n4.3@shop.example>"
    assert m.get_payload(decode=True).decode().strip() == "Hello customer 3"
    result = next(r for r in results if r.customer_id == 3)
    assert result.provider_message_id == "<7.n4.3@shop.example>"


def test_refused_recipient_fails_alone_with_the_server_answer(smtp_server):
    smtp_server.refused.add("gone@example.com")
    results = channel_for(smtp_server).send_batch(
        [email(1, "a@example.com"), email(2, "gone@example.com"), email(3, "b@example.com"),
         email(4, "not-an-address"), email(5, "")])
    by_id = {r.customer_id: r for r in results}
    assert by_id[1].status == by_id[3].status == SendStatus.SUCCESS
    assert by_id[2].status == SendStatus.FAILED
    assert by_id[2].reason.startswith("recipient refused: 550")
    assert "mailbox unavailable" in by_id[2].reason
    assert by_id[4].status == SendStatus.FAILED and "invalid email address" in by_id[4].reason
    assert by_id[5].status == SendStatus.FAILED and by_id[5].reason == "no email address"
    # the connection survived the refusal: the messages after it arrived
    assert sorted(r[1][0] for r in smtp_server.received) == ["a@example.com", "b@example.com"]


def test_html_alternative_and_login(smtp_server):
    results = channel_for(smtp_server, username="mailer", password="s3cret").send_batch(
        [email(1, "a@example.com", options={"html": "<p>Hello</p>", "reply_to": "help@shop.example"})])
    assert results[0].status == SendStatus.SUCCESS
    assert [login for login, _mechanism in smtp_server.logins] == ["mailer"]
    m = smtp_server.received[0][2]
    assert m.is_multipart()
    assert [p.get_content_type() for p in m.get_payload()] == ["text/plain", "text/html"]
    assert m["Reply-To"] == "help@shop.example"


def test_wrong_password_fails_the_batch_with_the_reason(smtp_server):
    results = channel_for(smtp_server, username="mailer", password="wrong").send_batch(
        [email(1, "a@example.com"), email(2, "b@example.com")])
    assert [r.status for r in results] == [SendStatus.FAILED, SendStatus.FAILED]
    assert all(r.reason.startswith("SMTP login refused: 535") for r in results)
    assert smtp_server.received == []


def test_unreachable_server_fails_every_message_after_retries():
    port = free_port()  # nothing listens there
    channel = SmtpEmailChannel(host="127.0.0.1", port=port, max_attempts=2, backoff=0.01, timeout=2)
    results = channel.send_batch([email(1, "a@example.com"), email(2, "b@example.com")])
    assert [r.status for r in results] == [SendStatus.FAILED, SendStatus.FAILED]
    assert results[0].reason.startswith(f"cannot reach SMTP server 127.0.0.1:{port}")
    assert results[0].reason.endswith("after 2 attempts")


def test_starttls(smtp_server, tls_files):
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    port = free_port()
    controller = Controller(smtp_server, hostname="127.0.0.1", port=port, tls_context=server_ctx,
                            require_starttls=True)
    controller.start()
    try:
        client_ctx = ssl.create_default_context(cafile=str(cert))
        plain = SmtpEmailChannel(host="127.0.0.1", port=port, max_attempts=1)
        refused = plain.send_batch([email(1, "a@example.com")])
        assert refused[0].status == SendStatus.FAILED  # the server demands STARTTLS
        assert "STARTTLS" in refused[0].reason
        tls = SmtpEmailChannel(host="127.0.0.1", port=port, starttls=True, ssl_context=client_ctx)
        results = tls.send_batch([email(2, "b@example.com")])
        assert results[0].status == SendStatus.SUCCESS, results[0].reason
        assert [r[1] for r in smtp_server.received] == [["b@example.com"]]
    finally:
        controller.stop()


def test_a_pipelining_server_gets_grouped_commands_and_each_answer_counts(smtp_server):
    """With PIPELINING offered, MAIL / RCPT / DATA leave in one write (engine/channels/email.py `_pipelined`):
    a refused recipient still fails alone (single and grouped), the connection stays in step for the next
    transactions, and a body line starting with a dot arrives as written (dot-stuffed on the wire)."""
    smtp_server.pipelining = True
    smtp_server.refused.add("gone@example.com")
    singles = channel_for(smtp_server).send_batch(
        [email(1, "a@example.com"), email(2, "gone@example.com"), email(3, "b@example.com"),
         msg(4, channel="email", to="c@example.com", record_id=7, node_id="n4", subject="Dots",
             body=".hidden?\n..two dots\nend")])
    by_id = {r.customer_id: r for r in singles}
    assert [by_id[i].status for i in (1, 3, 4)] == [SendStatus.SUCCESS] * 3
    assert by_id[2].status == SendStatus.FAILED and by_id[2].reason.startswith("recipient refused: 550")
    received = {rcpts[0]: m for _sender, rcpts, m in smtp_server.received}
    assert sorted(received) == ["a@example.com", "b@example.com", "c@example.com"]
    assert received["c@example.com"].get_payload(decode=True).decode().splitlines() == [
        ".hidden?", "..two dots", "end"]
    assert received["a@example.com"]["X-Dedupe-Key"] == "7:n4:1"

    smtp_server.received.clear()
    grouped = channel_for(smtp_server, max_recipients=10, concurrency=1).send_batch(
        [msg(i, channel="email", to=to, record_id=7, node_id="n5", subject="Sale", body="Same for all")
         for i, to in enumerate(["x@example.com", "gone@example.com", "y@example.com"], start=1)]
        + [msg(9, channel="email", to="gone@example.com", record_id=7, node_id="n5", subject="Solo",
               body="Only to the refused one")])
    by_id = {r.customer_id: r for r in grouped}
    assert by_id[1].status == by_id[3].status == SendStatus.SUCCESS
    assert by_id[2].status == by_id[9].status == SendStatus.FAILED
    assert by_id[9].reason.startswith("recipient refused: 550")
    assert [sorted(rcpts) for _sender, rcpts, _m in smtp_server.received] == [["x@example.com", "y@example.com"]]


def test_a_chain_of_pipelined_mails_survives_a_closing_server_html_and_a_stop(smtp_server):
    """Plain single-recipient mails go as a chain (a content leaves with the next MAIL/RCPT/DATA): a 421 in the
    middle reopens the connection and goes on without losing or doubling a mail, an HTML mail is sent its own
    way between chained ones, and once `proceed()` says no nothing more is sent (the rest come back STOPPED)."""
    smtp_server.pipelining = True
    smtp_server.closing["c4@example.com"] = 1
    batch = [email(i, f"c{i}@example.com") for i in range(1, 9)]
    batch[5] = email(6, "c6@example.com", options={"html": "<p>Hi</p>"})
    results = channel_for(smtp_server, concurrency=1).send_batch(batch)
    assert sorted(r.customer_id for r in results) == list(range(1, 9))
    assert {r.status for r in results} == {SendStatus.SUCCESS}, [r.reason for r in results]
    delivered = [rcpts[0] for _sender, rcpts, _m in smtp_server.received]
    assert sorted(delivered) == [f"c{i}@example.com" for i in range(1, 9)]  # each once
    by_to = {rcpts[0]: m for _sender, rcpts, m in smtp_server.received}
    assert by_to["c6@example.com"].is_multipart() and by_to["c7@example.com"]["X-Dedupe-Key"] == "7:n4:7"

    smtp_server.received.clear()
    asked = 0

    def proceed() -> bool:
        nonlocal asked
        asked += 1
        return asked <= 3  # three transactions may leave, then the round is stopped

    stopped = channel_for(smtp_server, concurrency=1).send_batch([email(i, f"s{i}@example.com") for i in range(1, 7)],
                                                                 proceed)
    by_id = {r.customer_id: r.status for r in stopped}
    assert [by_id[i] for i in range(1, 7)] == [SendStatus.SUCCESS] * 3 + [SendStatus.STOPPED] * 3
    assert sorted(rcpts[0] for _sender, rcpts, _m in smtp_server.received) == [f"s{i}@example.com" for i in (1, 2, 3)]


def test_a_connection_carries_the_next_batch_and_one_dropped_while_idle_is_replaced(smtp_server):
    """A lane's connection is kept for the next batch (a walk's batch is a few hundred mails: a connection per
    lane and batch cost about as much as its mails); one that died while idle is replaced, no mail lost."""
    smtp_server.pipelining = True
    channel = channel_for(smtp_server, concurrency=1)
    assert {r.status for r in channel.send_batch([email(1, "a@example.com"), email(2, "b@example.com")])} == {
        SendStatus.SUCCESS}
    assert [r.status for r in channel.send_batch([email(3, "c@example.com")])] == [SendStatus.SUCCESS]
    assert smtp_server.ehlos == 1
    channel._idle[0][1].sock.shutdown(socket.SHUT_RDWR)  # dead while idle
    smtp_server.closing["e@example.com"] = 1  # and the server closes the next one in the middle of the batch
    third = channel.send_batch([email(4, "d@example.com"), email(5, "e@example.com"), email(6, "f@example.com")])
    # the dead idle connection is not the batch's one reconnection: the server's close still gets its own
    assert [r.status for r in third] == [SendStatus.SUCCESS] * 3, [r.reason for r in third]
    assert sorted(rcpts[0] for _sender, rcpts, _m in smtp_server.received) == [
        f"{c}@example.com" for c in "abcdef"]
    assert smtp_server.ehlos == 3
    channel.close()
    assert channel._idle == []
