"""`channel_for` built from settings, and the simulator as the run command starts it: `python -m engine.simulator`
(a real process, with its Kafka mock cluster), used through the registry's channels."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from engine.channels import registry
from engine.channels.base import SendStatus
from engine.channels.email import SmtpEmailChannel
from engine.channels.kafka import KafkaChannel
from engine.channels.provider import PROVIDER_CHANNELS, ProviderChannel
from engine.channels.webhook import WebhookChannel
from engine.settings import PROJECT_ROOT, get_settings
from tests.engine.channels.helpers import free_port, msg, wait_until
from tests.engine.channels.test_kafka import consume_all


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    registry.reset_channels()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()
    registry.reset_channels()


def test_channel_for_every_sending_component_type(fresh_settings):
    fresh_settings.setenv("PROVIDER_URL", "http://provider.test:9000")
    fresh_settings.setenv("SMTP_PORT", "2525")
    fresh_settings.setenv("WEBHOOK_MAX_ATTEMPTS", "5")
    assert isinstance(registry.channel_for("email"), SmtpEmailChannel)
    assert registry.channel_for("email").port == 2525
    assert isinstance(registry.channel_for("webhook"), WebhookChannel)
    assert registry.channel_for("webhook").policy.max_attempts == 5
    assert isinstance(registry.channel_for("push_kafka"), KafkaChannel)
    for name in PROVIDER_CHANNELS:
        channel = registry.channel_for(name)
        assert isinstance(channel, ProviderChannel) and channel.name == name
        assert channel.url == f"http://provider.test:9000/v1/{name}/send"
    assert registry.channel_for("text_sms") is registry.channel_for("text_sms")  # built once per process
    with pytest.raises(KeyError):
        registry.channel_for("random_grouping")
    assert {registry.channel_for(t).name for t in registry.CHANNEL_TYPES} == set(registry.CHANNEL_TYPES)


def test_send_groups_by_channel_and_never_raises(fresh_settings):
    fresh_settings.setenv("PROVIDER_URL", f"http://127.0.0.1:{free_port()}")  # provider down
    fresh_settings.setenv("PROVIDER_MAX_ATTEMPTS", "2")
    fresh_settings.setenv("PROVIDER_BACKOFF", "0.01")
    results = registry.send([msg(1), msg(2, channel="app_push", to="tok"), msg(3, channel="fax")])
    by_id = {r.customer_id: r for r in results}
    assert by_id[1].reason.startswith("provider unavailable: connection failed")
    assert by_id[2].reason.endswith("after 2 attempts")
    assert by_id[3].reason == "unknown channel 'fax'"


def test_python_m_engine_simulator(fresh_settings, http_sink):
    port = free_port()
    env = {**os.environ, "SIMULATOR_PORT": str(port), "SIMULATOR_SUCCESS_RATE": "1", "SIMULATOR_FAILURE_RATE": "0",
           "SIMULATOR_RECEIPT_DELAY": "0.1", "RECEIPT_CALLBACK_URL": f"{http_sink.url}/receipts"}
    process = subprocess.Popen([sys.executable, "-m", "engine.simulator"], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        def up() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=0.5).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(up, timeout=15), "simulator did not come up"
        fresh_settings.setenv("PROVIDER_URL", url)
        fresh_settings.setenv("PROVIDER_BACKOFF", "0.01")
        fresh_settings.setenv("KAFKA_BOOTSTRAP_SERVERS", "simulator")

        sms = registry.channel_for("text_sms").send_batch([msg(i, record_id=77) for i in range(5)])
        assert [r.status for r in sms] == [SendStatus.PENDING] * 5
        assert wait_until(lambda: len(http_sink.receipts()) == 5)
        assert {r["status"] for r in http_sink.receipts()} == {"delivered"}
        stats = httpx.get(f"{url}/admin/stats").json()
        assert stats["unique"] == 5 and stats["receipts_sent"] == 5

        # Push Kafka to the mock cluster the simulator hosts, consumed back from the address it reports
        kafka = registry.channel_for("push_kafka").send_batch(
            [msg(i, channel="push_kafka", to="sim-topic", data={"qaid": f"Q{i}"}) for i in range(3)])
        assert [r.status for r in kafka] == [SendStatus.SUCCESS] * 3, [r.reason for r in kafka]
        bootstrap = httpx.get(f"{url}/admin/kafka").json()["bootstrap_servers"]
        records = consume_all(bootstrap, "sim-topic", 3)
        assert sorted(r.key().decode() for r in records) == ["Q0", "Q1", "Q2"]
        assert {json.loads(r.value())["id"] for r in records} == {"1:n1:0", "1:n1:1", "1:n1:2"}
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=15)[0].decode()
    assert process.returncode == 0, output
    assert f"provider simulator on http://127.0.0.1:{port}" in output
    # the simulator is gone: an outage fails the sends with the reason, it does not raise
    down = registry.channel_for("text_sms").send_batch([msg(9)])
    assert down[0].status == SendStatus.FAILED and down[0].reason.startswith("provider unavailable")
