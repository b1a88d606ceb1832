"""The provider adapter against the real simulator (uvicorn in a thread) and a real receipt callback server."""

import math
from collections import Counter
from datetime import datetime

import httpx

from engine.channels.base import SendStatus
from engine.channels.provider import PROVIDER_CHANNELS, ProviderChannel
from engine.simulator.state import outcome_of
from tests.engine.channels.helpers import free_port, msg, wait_until


def provider(server, name: str = "text_sms", **kw) -> ProviderChannel:
    kw.setdefault("backoff", 0.01)
    return ProviderChannel(name, base_url=server.url, **kw)


def within_3_sigma(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= 3 * math.sqrt(n * p * (1 - p)) + 1


def test_rates_are_honoured_and_receipts_arrive_later(simulator, http_sink):
    sim = simulator.simulator
    sim.configure({"success_rate": 0.7, "failure_rate": 0.2, "reject_rate": 0.05, "receipt_delay": 0.2})
    messages = [msg(i, record_id=42, node_id="n2", body=f"Hi {i}") for i in range(1000)]
    results = provider(simulator, batch_size=250).send_batch(messages)
    assert len(results) == 1000
    expected = {m.customer_id: outcome_of(sim.config, m.dedupe_key) for m in messages}
    counts = Counter(expected.values())
    # deterministic per message id, and close to the configured rates
    for outcome, rate in (("delivered", 0.7), ("failed", 0.2), ("rejected", 0.05), ("no_receipt", 0.05)):
        assert within_3_sigma(counts[outcome], 1000, rate), (outcome, counts)
    by_id = {r.customer_id: r for r in results}
    for cid, outcome in expected.items():
        if outcome == "rejected":
            assert by_id[cid].status == SendStatus.FAILED and by_id[cid].reason
        else:
            assert by_id[cid].status == SendStatus.PENDING  # the receipt comes later
            assert by_id[cid].provider_message_id.startswith("sim-")
    stats = sim.snapshot()
    assert stats["requests"] == 4 and stats["unique"] == 1000 and stats["duplicates"] == 0
    assert stats["by_channel"]["text_sms"] == 1000
    # receipts: exactly the delivered and failed ones, POSTed to the callback after the delay
    want = counts["delivered"] + counts["failed"]
    # at least once: under load a slow callback is retried, so count distinct message ids
    assert wait_until(lambda: len({r["id"] for r in http_sink.receipts()}) >= want, timeout=20)
    receipts = {r["id"]: r for r in http_sink.receipts()}
    assert len(receipts) == want
    for m in messages:
        outcome = expected[m.customer_id]
        if outcome in ("delivered", "failed"):
            receipt = receipts[m.dedupe_key]
            assert receipt["status"] == outcome and receipt["channel"] == "text_sms"
            assert receipt["provider_id"] == by_id[m.customer_id].provider_message_id
            assert (receipt["reason"] is None) == (outcome == "delivered")
            sent_at = datetime.fromisoformat(receipt["at"]).timestamp()
            assert sent_at >= sim.records[m.dedupe_key].received_at + 0.2 - 0.01  # after the receipt delay
        else:
            assert m.dedupe_key not in receipts
    # counted once the callback's response is back (after the sink recorded them); at least once under load
    assert wait_until(lambda: sim.snapshot()["receipts_sent"] >= want, timeout=20)


def test_same_ids_same_outcomes_across_runs(simulator):
    messages = [msg(i) for i in range(200)]
    first = {r.customer_id: r.status for r in provider(simulator).send_batch(messages)}
    simulator.simulator.reset()
    second = {r.customer_id: r.status for r in provider(simulator).send_batch(messages)}
    assert first == second


def test_resent_messages_are_counted_as_duplicates_and_not_delivered_twice(simulator, http_sink):
    sim = simulator.simulator
    sim.configure({"success_rate": 1.0, "failure_rate": 0.0})
    messages = [msg(i, channel="app_push", to=f"token-{i}") for i in range(20)]
    channel = provider(simulator, "app_push")
    first = channel.send_batch(messages)
    second = channel.send_batch(messages)
    assert [r.provider_message_id for r in first] == [r.provider_message_id for r in second]
    stats = sim.snapshot()
    assert stats["unique"] == 20 and stats["duplicates"] == 20 and stats["duplicate_ids"] == 20
    assert sim.snapshot()["receipts_scheduled"] == 20  # a resent message id gets no second receipt
    # every receipt the simulator scheduled has been delivered (its own count, after the sink answered)
    assert wait_until(lambda: sim.snapshot()["receipts_sent"] >= sim.snapshot()["receipts_scheduled"])
    receipts = http_sink.receipts()
    assert len(receipts) == len({r["id"] for r in receipts}) == 20
    page = httpx.get(f"{simulator.url}/admin/messages", params={"duplicates": 1, "limit": 5}).json()
    assert page["total"] == 20 and len(page["messages"]) == 5 and page["messages"][0]["count"] == 2


def test_every_provider_channel_is_served(simulator):
    simulator.simulator.configure({"success_rate": 1.0, "failure_rate": 0.0, "sync_delivered": True})
    for name in PROVIDER_CHANNELS:
        results = provider(simulator, name).send_batch([msg(1, channel=name, node_id=name, to="x")])
        assert results[0].status == SendStatus.SUCCESS, name  # answered "delivered" synchronously
    assert simulator.simulator.snapshot()["by_channel"] == dict.fromkeys(PROVIDER_CHANNELS, 1)
    assert simulator.simulator.snapshot()["receipts_scheduled"] == 0


def test_missing_recipient_fails_without_a_request(simulator):
    results = provider(simulator, "wechat_message").send_batch([msg(1, channel="wechat_message", to="")])
    assert results[0].status == SendStatus.FAILED and results[0].reason == "no WeChat open id"
    assert simulator.simulator.snapshot()["requests"] == 0


def test_provider_down_fails_the_batch_with_a_reason():
    channel = ProviderChannel("text_sms", base_url=f"http://127.0.0.1:{free_port()}", max_attempts=3, backoff=0.01)
    results = channel.send_batch([msg(i) for i in range(5)])
    assert all(r.status == SendStatus.FAILED for r in results)
    assert results[0].reason.startswith("provider unavailable: connection failed")
    assert results[0].reason.endswith("after 3 attempts")


def test_5xx_is_retried_then_accepted(simulator):
    sim = simulator.simulator
    sim.configure({"fail_next": 2})
    results = provider(simulator, max_attempts=3).send_batch([msg(i) for i in range(10)])
    assert [r.status for r in results] == [SendStatus.PENDING] * 10  # no rejections configured
    stats = sim.snapshot()
    assert stats["requests"] == 3 and stats["requests_refused"] == 2 and stats["unique"] == 10


def test_outage_fails_with_the_reason_after_retries(simulator):
    simulator.simulator.configure({"outage": True})
    results = provider(simulator, max_attempts=3).send_batch([msg(i) for i in range(3)])
    assert [r.reason for r in results] == ["provider unavailable: HTTP 503 after 3 attempts"] * 3
    assert simulator.simulator.snapshot()["requests"] == 3


def test_timeout_is_retried_and_the_provider_sees_the_resend(simulator):
    simulator.simulator.configure({"response_delay": 0.5})
    results = provider(simulator, max_attempts=2, timeout=0.15).send_batch([msg(1)])
    assert results[0].reason == "provider unavailable: timed out after 2 attempts"
    stats = simulator.simulator.snapshot()
    assert stats["unique"] == 1 and stats["duplicates"] == 1  # recorded once, the retry counted apart


def test_bad_requests_and_unreadable_answers(simulator, http_sink):
    assert httpx.post(f"{simulator.url}/v1/fax/send", json={"messages": []}).status_code == 404
    assert httpx.post(f"{simulator.url}/v1/text_sms/send", content=b"nope").status_code == 400
    assert httpx.post(f"{simulator.url}/v1/text_sms/send", json={"messages": [{"to": "x"}]}).status_code == 400
    # a 4xx from the provider fails at once, an unreadable 200 fails with its reason
    refused = ProviderChannel("text_sms", base_url=f"{http_sink.url}/status/422").send_batch([msg(1)])
    assert refused[0].reason.startswith("provider refused the request: HTTP 422")
    garbage = ProviderChannel("text_sms", base_url=f"{http_sink.url}/garbage").send_batch([msg(1)])
    assert garbage[0].reason == "provider answered with an unreadable response"


def test_admin_config_is_validated(simulator):
    url = f"{simulator.url}/admin/config"
    assert httpx.post(url, json={"success_rate": 0.8, "failure_rate": 0.3}).status_code == 400
    assert httpx.post(url, json={"colour": "red"}).status_code == 400
    ok = httpx.post(url, json={"success_rate": 0.5, "failure_rate": 0.25, "receipt_delay": 1.5})
    assert ok.status_code == 200
    assert ok.json()["success_rate"] == 0.5 and httpx.get(url).json()["receipt_delay"] == 1.5


def test_receipt_callback_failures_are_retried_then_dropped_and_serving_goes_on(simulator, http_sink):
    sim = simulator.simulator
    sim.configure({"success_rate": 1.0, "failure_rate": 0.0, "receipt_delay": 0.0,
                   "callback_url": f"{http_sink.url}/status/500", "receipt_attempts": 2})
    provider(simulator).send_batch([msg(i) for i in range(3)])
    assert wait_until(lambda: sim.snapshot()["receipts_failed"] == 3, timeout=5)
    assert http_sink.counts["/status/500"] == 2
    # a callback URL given in the request wins, and the simulator still works
    sim.configure({"callback_url": f"http://127.0.0.1:{free_port()}/down"})
    channel = provider(simulator, callback_url=f"{http_sink.url}/receipts")
    assert channel.send_batch([msg(9)])[0].status == SendStatus.PENDING
    assert wait_until(lambda: len(http_sink.receipts()) == 1)
    assert httpx.get(f"{simulator.url}/health").json() == {"ok": True}


def test_messages_endpoint_filters(simulator):
    provider(simulator).send_batch([msg(i, record_id=5, node_id="a") for i in range(3)]
                                   + [msg(i, record_id=6, node_id="b") for i in range(2)])
    page = httpx.get(f"{simulator.url}/admin/messages", params={"prefix": "5:a:"}).json()
    assert page["total"] == 3
    one = httpx.get(f"{simulator.url}/admin/messages", params={"id": "6:b:1"}).json()["messages"][0]
    assert one["channel"] == "text_sms" and one["customer_id"] == 1 and one["to"] == "+8613800000000"
