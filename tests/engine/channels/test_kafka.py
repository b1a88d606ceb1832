"""Push Kafka through a real librdkafka producer to a real-protocol broker (librdkafka's mock cluster,
listening on loopback and allow-listed for the outbound fence), consumed back with a real consumer."""

import json
import time

import pytest
from confluent_kafka import Consumer, TopicPartition

from engine.channels.base import SendStatus
from engine.channels.kafka import KafkaChannel
from tests.engine.channels.helpers import allow_outbound, free_port, msg


def consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 10.0) -> list:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{topic}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        topics = consumer.list_topics(topic, timeout=5).topics
        partitions = [TopicPartition(topic, p, 0) for p in topics[topic].partitions]
        consumer.assign(partitions)
        # what the broker holds (its high watermarks, after the producer's flush): read all of it, whatever was
        # expected, so a record too many shows up in the count rather than after a guessed pause
        held = sum(high - low for low, high in (consumer.get_watermark_offsets(p, timeout=5) for p in partitions))
        records = []
        deadline = time.monotonic() + timeout
        while len(records) < max(held, expected) and time.monotonic() < deadline:
            record = consumer.poll(0.2)
            if record is not None and not record.error():
                records.append(record)
        return records
    finally:
        consumer.close()


@pytest.fixture(autouse=True)
def _allow_the_cluster(kafka_cluster, monkeypatch):
    allow_outbound(monkeypatch, kafka_cluster.bootstrap_servers)


def push(customer_id: int, topic: str, bootstrap: str, **data):
    return msg(customer_id, channel="push_kafka", to=topic, record_id=9, node_id="n7", data=data,
               options={"bootstrap_servers": bootstrap})


def test_one_record_per_customer_consumed_back(kafka_cluster):
    bootstrap = kafka_cluster.bootstrap_servers
    channel = KafkaChannel(message_timeout_ms=5000)
    messages = [push(i, "crm-events", bootstrap, qaid=f"QA{i:04d}" if i % 2 else None, score=i) for i in range(40)]
    results = channel.send_batch(messages)
    assert len(results) == 40
    assert all(r.status == SendStatus.SUCCESS for r in results), [r.reason for r in results][:3]
    assert all(r.provider_message_id.startswith("crm-events/") for r in results)
    records = consume_all(bootstrap, "crm-events", 40)
    assert len(records) == 40
    by_key = {r.key().decode(): r for r in records}
    for i in range(40):
        key = f"QA{i:04d}" if i % 2 else str(i)  # the QAID, else the customer id
        record = by_key[key]
        value = json.loads(record.value())
        assert value["id"] == f"9:n7:{i}" and value["customer_id"] == i and value["data"]["score"] == i
        assert dict(record.headers())["dedupe_key"] == f"9:n7:{i}".encode()
    # the provider id names where the record landed
    where = {r.customer_id: r.provider_message_id for r in results}
    sample = records[0]
    cid = json.loads(sample.value())["customer_id"]
    assert where[cid] == f"crm-events/{sample.partition()}@{sample.offset()}"
    channel.close()


def test_topic_from_the_message_and_default_brokers(kafka_cluster):
    channel = KafkaChannel(bootstrap_servers=kafka_cluster.bootstrap_servers, message_timeout_ms=5000)
    results = channel.send_batch([msg(1, channel="push_kafka", to="t-one"), msg(2, channel="push_kafka", to="t-two"),
                                  msg(3, channel="push_kafka", to="")])
    by_id = {r.customer_id: r for r in results}
    assert by_id[1].status == by_id[2].status == SendStatus.SUCCESS
    assert by_id[3].status == SendStatus.FAILED and by_id[3].reason == "no Kafka topic"
    records = consume_all(kafka_cluster.bootstrap_servers, "t-two", 1)
    assert [json.loads(r.value())["customer_id"] for r in records] == [2]
    channel.close()


def test_brokers_down_fail_with_the_reason_and_do_not_raise(monkeypatch):
    port = free_port()
    allow_outbound(monkeypatch, f"127.0.0.1:{port}")
    channel = KafkaChannel(bootstrap_servers=f"127.0.0.1:{port}", message_timeout_ms=800)
    started = time.monotonic()
    results = channel.send_batch([msg(i, channel="push_kafka", to="nowhere") for i in range(3)])
    assert all(r.status == SendStatus.FAILED for r in results)
    assert results[0].reason.startswith("Kafka did not acknowledge within 0.8s (brokers 127.0.0.1:")
    assert time.monotonic() - started < 8
    channel.close()


def test_bad_producer_config_fails_the_sends(kafka_cluster):
    bad = msg(1, channel="push_kafka", to="t", options={"bootstrap_servers": kafka_cluster.bootstrap_servers,
                                                         "kafka_config": {"no.such.property": 1}})
    result = KafkaChannel().send_batch([bad])[0]
    assert result.status == SendStatus.FAILED and result.reason.startswith("Kafka producer unavailable")


def test_simulator_address_unavailable_fails_the_sends():
    channel = KafkaChannel(bootstrap_servers="simulator", simulator_url=f"http://127.0.0.1:{free_port()}")
    result = channel.send_batch([msg(1, channel="push_kafka", to="t")])[0]
    assert result.status == SendStatus.FAILED and "mock cluster of the simulator unavailable" in result.reason
