"""The outbound fence on Push Kafka: bootstrap servers checked after DNS before a producer exists, and the
brokers a cluster advertises checked before the first record (librdkafka's mock cluster on loopback)."""

import pytest

from engine.channels.base import SendStatus
from engine.channels.kafka import KafkaChannel
from engine.channels.kafka_mock import MockKafkaCluster
from engine.outbound import Fence
from tests.engine.channels.helpers import msg


def push(customer_id: int, bootstrap: str):
    return msg(customer_id, channel="push_kafka", to="buyers", data={"qaid": f"Q{customer_id}"},
               options={"bootstrap_servers": bootstrap})


@pytest.mark.parametrize("bootstrap", ["127.0.0.1:9092", "10.0.0.5:9092,kafka.public.test:9092",
                                       "[fd00:ec2::254]:9092", "internal.kafka.test:9092", "localhost:9092"])
def test_refused_bootstrap_servers_fail_the_sends_before_any_producer(bootstrap: str):
    resolver = {"kafka.public.test": ["93.184.216.34"], "internal.kafka.test": ["172.20.0.3"]}
    channel = KafkaChannel(fence=Fence(stored=None, resolver=lambda host, port: resolver[host]))
    results = channel.send_batch([push(1, bootstrap), push(2, bootstrap)])
    assert [r.status for r in results] == [SendStatus.FAILED] * 2
    assert all(r.reason.startswith("address not allowed:") for r in results), results[0].reason
    assert channel._producers == {}  # librdkafka was never given the address
    channel.close()


def test_an_allowed_bootstrap_that_advertises_a_refused_broker_sends_nothing():
    """A two-broker cluster: the first broker is allow-listed, the second (advertised in the metadata) is not."""
    with MockKafkaCluster(num_brokers=2) as cluster:
        first, second = cluster.bootstrap_servers.split(",")
        channel = KafkaChannel(message_timeout_ms=3000, fence=Fence(allow=first, stored=None))
        results = channel.send_batch([push(1, first)])
        assert results[0].status == SendStatus.FAILED
        assert results[0].reason == f"address not allowed: {second}, a loopback address (an admin can allow-list " \
                                    "the host)"
        producer = next(iter(channel._producers.values()))
        assert len(producer) == 0  # nothing queued: no record was produced
        allowed = KafkaChannel(message_timeout_ms=3000, fence=Fence(allow=[first, second], stored=None))
        assert allowed.send_batch([push(1, first)])[0].status == SendStatus.SUCCESS
        channel.close()
        allowed.close()
