"""Stop means stop, per channel: `proceed()` is asked before every provider request, SMTP transaction and
webhook POST; once it says no, nothing more leaves and the rest come back STOPPED (never FAILED, never sent).
Each peer is real and counts what it received."""

from engine.channels.base import SendStatus
from engine.channels.email import SmtpEmailChannel
from engine.channels.provider import ProviderChannel
from engine.channels.webhook import WebhookChannel
from tests.engine.channels.helpers import msg


class Allow:
    """Says yes `n` times, then no (the stop flag appears between two requests)."""

    def __init__(self, n: int) -> None:
        self.left, self.asked = n, 0

    def __call__(self) -> bool:
        self.asked += 1
        self.left -= 1
        return self.left >= 0


def _statuses(results) -> dict[SendStatus, int]:
    out: dict[SendStatus, int] = {}
    for r in results:
        out[r.status] = out.get(r.status, 0) + 1
    return out


def test_provider_requests_stop_at_the_first_no(simulator):
    channel = ProviderChannel("text_sms", base_url=simulator.url, batch_size=10)
    results = channel.send_batch([msg(i, to=f"+86139{i:08d}") for i in range(50)], Allow(2))
    assert simulator.simulator.snapshot()["requests"] == 2 and simulator.simulator.snapshot()["unique"] == 20
    statuses = _statuses(results)
    assert statuses[SendStatus.STOPPED] == 30 and sum(statuses.values()) == 50
    assert all(r.reason for r in results if r.status == SendStatus.STOPPED)


def test_smtp_transactions_stop_at_the_first_no(smtp_server):
    channel = SmtpEmailChannel(host=smtp_server.host, port=smtp_server.port, concurrency=1)
    mails = [msg(i, channel="email", to=f"c{i}@example.com", subject="Hi", body=f"Hello {i}") for i in range(9)]
    results = channel.send_batch(mails, Allow(4))
    assert len(smtp_server.received) == 4
    assert _statuses(results) == {SendStatus.SUCCESS: 4, SendStatus.STOPPED: 5}


def test_webhook_posts_stop_at_the_first_no(http_sink):
    channel = WebhookChannel(batch_size=1, concurrency=1)
    hooks = [msg(i, channel="webhook", to=f"{http_sink.url}/ok/crm") for i in range(6)]
    results = channel.send_batch(hooks, Allow(3))
    assert len(http_sink.hits) == 3
    assert _statuses(results) == {SendStatus.SUCCESS: 3, SendStatus.STOPPED: 3}
