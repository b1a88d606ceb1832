"""Webhook to a real local HTTP server (allow-listed by the http_sink fixture): signature, idempotency key,
retries, fast 4xx failure, timeouts."""

import time

from engine.channels import signature
from engine.channels.base import SendStatus
from engine.channels.retry import RetryPolicy
from engine.channels.webhook import WebhookChannel
from tests.engine.channels.helpers import allow_outbound, free_port, msg

SECRET = "node-secret"


def hook(customer_id: int, url: str, **options):
    options.setdefault("secret", SECRET)
    return msg(customer_id, channel="webhook", to=url, record_id=3, node_id="n5",
               data={"qaid": f"Q{customer_id}", "tier": "gold"}, options=options)


def fast(**kw) -> WebhookChannel:
    kw.setdefault("backoff", 0.01)
    return WebhookChannel(**kw)


def test_one_signed_post_per_customer(http_sink):
    before = int(time.time())
    results = fast().send_batch([hook(i, f"{http_sink.url}/ok") for i in range(1, 11)])
    assert all(r.status == SendStatus.SUCCESS for r in results)
    assert sorted(r.customer_id for r in results) == list(range(1, 11))
    assert len(http_sink.hits) == 10
    for hit in http_sink.hits:
        header = hit.headers["x-signature"]
        assert before <= signature.verify(hit.body, SECRET, header) <= time.time()  # t = when it was signed
        assert not signature.is_valid(hit.body, "other-secret", header)
        body = hit.json()
        assert hit.headers["idempotency-key"] == body["id"] == f"3:n5:{body['customer_id']}"
        assert hit.headers["content-type"] == "application/json"
        assert body["record_id"] == 3 and body["node_id"] == "n5"
        assert body["data"] == {"qaid": f"Q{body['customer_id']}", "tier": "gold"}


def test_no_secret_no_signature_and_custom_headers(http_sink):
    results = fast().send_batch([hook(1, f"{http_sink.url}/ok", secret="", headers={"X-Tenant": "acme"})])
    assert results[0].status == SendStatus.SUCCESS
    assert "x-signature" not in http_sink.hits[0].headers
    assert http_sink.hits[0].headers["x-tenant"] == "acme"


def test_503_is_retried_then_succeeds_with_the_same_body(http_sink):
    results = fast(max_attempts=3).send_batch([hook(1, f"{http_sink.url}/flaky/2/a")])
    assert results[0].status == SendStatus.SUCCESS
    hits = [h for h in http_sink.hits if h.path == "/flaky/2/a"]
    assert len(hits) == 3
    assert len({h.body for h in hits}) == 1
    assert len({h.headers["idempotency-key"] for h in hits}) == 1


def test_persistent_503_fails_after_the_attempts(http_sink):
    results = fast(max_attempts=3).send_batch([hook(1, f"{http_sink.url}/status/503")])
    assert results[0].status == SendStatus.FAILED
    assert results[0].reason == "HTTP 503 after 3 attempts"
    assert http_sink.counts["/status/503"] == 3


def test_4xx_fails_immediately(http_sink):
    results = fast(max_attempts=5).send_batch([hook(1, f"{http_sink.url}/status/404"),
                                               hook(2, f"{http_sink.url}/status/400")])
    by_id = {r.customer_id: r for r in results}
    assert by_id[1].status == by_id[2].status == SendStatus.FAILED
    assert by_id[1].reason.startswith("HTTP 404")
    assert by_id[2].reason.startswith("HTTP 400")
    assert http_sink.counts == {"/status/404": 1, "/status/400": 1}


def test_timeout_fails_after_retries_with_the_reason(http_sink):
    started = time.monotonic()
    results = fast(max_attempts=2, timeout=0.2).send_batch([hook(1, f"{http_sink.url}/slow/1")])
    assert results[0].status == SendStatus.FAILED
    assert results[0].reason == "timed out after 2 attempts"
    assert http_sink.counts["/slow/1"] == 2
    assert time.monotonic() - started < 2


def test_connection_refused_fails_after_retries(monkeypatch):
    port = free_port()
    allow_outbound(monkeypatch, f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}/hook"
    results = fast(max_attempts=3).send_batch([hook(1, url)])
    assert results[0].status == SendStatus.FAILED
    assert results[0].reason.startswith("connection failed")
    assert results[0].reason.endswith("after 3 attempts")


def test_batched_mode_posts_arrays(http_sink):
    results = fast(batch_size=3).send_batch([hook(i, f"{http_sink.url}/ok") for i in range(1, 8)])
    assert sorted(r.customer_id for r in results) == list(range(1, 8))
    assert all(r.status == SendStatus.SUCCESS for r in results)
    assert len(http_sink.hits) == 3
    items = [item for h in http_sink.hits for item in h.json()["items"]]
    assert sorted(i["customer_id"] for i in items) == list(range(1, 8))
    for h in http_sink.hits:
        assert signature.is_valid(h.body, SECRET, h.headers["x-signature"])
        assert h.headers["idempotency-key"].startswith("batch-")


def test_a_failing_batch_fails_all_its_customers(http_sink):
    results = fast(batch_size=10, max_attempts=1).send_batch(
        [hook(i, f"{http_sink.url}/status/500") for i in range(1, 4)])
    assert [r.reason for r in results] == ["HTTP 500 after 1 attempt"] * 3


def test_invalid_url_fails_without_a_request(http_sink):
    results = fast().send_batch([hook(1, "ftp://example.com/x"), hook(2, "")])
    assert all(r.status == SendStatus.FAILED and r.reason.startswith("invalid webhook URL") for r in results)


def test_backoff_doubles_and_is_capped():
    policy = RetryPolicy(max_attempts=6, backoff=0.5, backoff_max=3.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(1, retry_after=2.0) == 2.0


def test_retries_sleep_with_backoff(http_sink):
    sleeps: list[float] = []
    channel = fast(max_attempts=4, backoff=0.1)
    channel.policy = RetryPolicy(max_attempts=4, backoff=0.1, backoff_max=5.0, sleep=sleeps.append)
    results = channel.send_batch([hook(1, f"{http_sink.url}/status/502")])
    assert results[0].reason == "HTTP 502 after 4 attempts"
    assert sleeps == [0.1, 0.2, 0.4]


def test_a_component_s_messages_are_chunked_as_any_others() -> None:
    """A component's messages share one options object and one URL: they are chunked by slicing, into the
    very requests the general grouping (by URL and options) makes of the same messages as copies."""
    options = {"headers": {}, "max_attempts": 2}

    def ids(groups: list) -> list[list[int]]:
        return [[m.customer_id for m in group] for group in groups]

    shared = [msg(i, channel="webhook", to="http://h.example/x", options=options) for i in range(1, 12)]
    copies = [msg(i, channel="webhook", to="http://h.example/x", options=dict(options)) for i in range(1, 12)]
    channel = WebhookChannel(batch_size=4)
    assert ids(channel._groups(shared)) == ids(channel._groups(copies)) == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11]]
    other = msg(20, channel="webhook", to="http://h.example/y", options=options)
    assert ids(channel._groups([*shared[:5], other, *shared[5:]])) == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11], [20]]
    assert ids(WebhookChannel(batch_size=1)._groups(shared[:3])) == [[1], [2], [3]]
    assert WebhookChannel(batch_size=4)._groups([]) == []
