"""What the runtime at scale relies on in the channels: bulk SMTP transactions for identical content, several
SMTP connections per batch, plain-text mail written directly, and asking a provider what it received."""

from email.header import decode_header, make_header

import httpx

from engine.channels.base import SendStatus
from engine.channels.email import SmtpEmailChannel
from engine.channels.provider import ProviderChannel
from tests.engine.channels.helpers import msg


def mail(customer_id: int, to: str, body: str = "Spring sale: 20% off", subject: str = "Sale") -> object:
    return msg(customer_id, channel="email", to=to, record_id=9, node_id="m", subject=subject, body=body)


def test_identical_content_goes_as_one_transaction_per_group_of_recipients(smtp_server):
    smtp_server.refused.add("bad@example.com")
    channel = SmtpEmailChannel(host=smtp_server.host, port=smtp_server.port, max_recipients=3)
    same = [mail(i, f"c{i}@example.com") for i in range(7)]
    personal = mail(50, "ann@example.com", body="Hi Ann")
    refused = mail(51, "bad@example.com")
    results = {r.customer_id: r for r in channel.send_batch([*same, personal, refused])}
    assert sorted(results) == [*range(7), 50, 51]
    assert results[51].status == SendStatus.FAILED and results[51].reason.startswith("recipient refused: 550")
    assert all(results[i].status == SendStatus.SUCCESS for i in [*range(7), 50])
    envelopes = sorted(len(rcpts) for _, rcpts, _ in smtp_server.received)
    assert envelopes == [1, 1, 3, 3]  # 7 + the refused one in groups of 3 (its group keeps 1), Ann alone
    grouped = [m for _, rcpts, m in smtp_server.received if len(rcpts) == 3]
    assert grouped[0]["To"] == "undisclosed-recipients:;" and grouped[0]["X-Dedupe-Key"] is None
    ann = next(m for _, rcpts, m in smtp_server.received if rcpts == ["ann@example.com"])
    assert ann["To"] == "ann@example.com" and ann["X-Dedupe-Key"] == "9:m:50"
    assert ann.get_payload(decode=True).decode().strip() == "Hi Ann"


def test_plain_text_is_written_directly_and_reads_back_the_same(smtp_server):
    channel = SmtpEmailChannel(host=smtp_server.host, port=smtp_server.port, sender="商店 <news@shop.example>")
    body = "你好, 春季促销\n.leading dot line\nend"
    [result] = channel.send_batch([mail(1, "c1@example.com", body=body, subject="春季促销 Spring")])
    assert result.status == SendStatus.SUCCESS and result.provider_message_id == "<9.m.1@shop.example>"
    _, _, message = smtp_server.received[0]
    assert str(make_header(decode_header(message["Subject"]))) == "春季促销 Spring"
    assert message.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n").strip() == body
    assert message["Message-ID"] == "<9.m.1@shop.example>"


def test_a_batch_is_spread_over_several_connections(smtp_server):
    channel = SmtpEmailChannel(host=smtp_server.host, port=smtp_server.port, concurrency=3)
    try:
        results = channel.send_batch([mail(i, f"p{i}@example.com", body=f"Hi {i}") for i in range(9)])
    finally:
        channel.close()
    assert sorted(r.customer_id for r in results) == list(range(9))
    assert all(r.status == SendStatus.SUCCESS for r in results) and len(smtp_server.received) == 9


def test_lookup_tells_what_the_provider_received_without_sending(simulator):
    channel = ProviderChannel("text_sms", base_url=simulator.url)
    sent = [msg(i) for i in range(5)]
    answers = {r.customer_id: r for r in channel.send_batch(sent)}
    found = channel.lookup([*sent, msg(99)])
    assert sorted(found) == list(range(5))  # 99 was never sent
    assert all(found[i].status == answers[i].status for i in range(5))
    stats = simulator.simulator.snapshot()
    assert stats["unique"] == 5 and stats["duplicates"] == 0 and stats["lookups"] == 1
    assert httpx.post(f"{simulator.url}/v1/text_sms/status", json={"nope": 1}).status_code == 400
    assert httpx.post(f"{simulator.url}/v1/fax/status", json={"ids": []}).status_code == 404


def test_lookup_of_an_unreachable_provider_finds_nothing():
    channel = ProviderChannel("app_push", base_url="http://127.0.0.1:9", timeout=0.5)
    assert channel.lookup([msg(1, channel="app_push")]) == {}


def test_a_pipelining_server_gets_the_largest_groups_on_few_connections(smtp_server):
    """Without PIPELINING a transaction's recipients go one round trip each: 250 identical mails are spread as
    16 groups over 16 connections. A server that offered PIPELINING when the channel connected takes any group
    in two round trips: then they go as the largest groups (100), on as few connections as that makes."""
    def sizes(channel: SmtpEmailChannel, prefix: str) -> list[int]:
        smtp_server.received.clear()
        results = channel.send_batch([mail(i, f"{prefix}{i}@example.com") for i in range(250)])
        assert len(results) == 250 and all(r.status == SendStatus.SUCCESS for r in results)
        return sorted(len(rcpts) for _, rcpts, _ in smtp_server.received)

    for pipelining in (False, True):
        smtp_server.pipelining = pipelining
        channel = SmtpEmailChannel(host=smtp_server.host, port=smtp_server.port, max_recipients=100,
                                   concurrency=16)
        try:
            first, then = sizes(channel, "a"), sizes(channel, "b")
        finally:
            channel.close()
        assert first == [10] + [16] * 15  # not connected yet: nothing known of the server
        assert then == ([50, 100, 100] if pipelining else first)
