"""Push Kafka (data push): one record per customer (the user ID, plus chosen fields) to a Kafka topic; the
record key is the QAID, so one customer's records stay in order on one partition."""

import re
from typing import Any

from pydantic import BaseModel, Field

from engine import outbound
from engine.channels.base import Message
from engine.components.base import Batch, CustomerView
from engine.components.sending import SendingComponent, customer_payload
from engine.components.webhook import CustomerField
from engine.flow.registry import Category

TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
SERVER = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


class PushKafkaConfig(BaseModel):
    bootstrap_servers: str = Field(min_length=1, max_length=500, title="Bootstrap servers",
                                   description="host:port, comma-separated, e.g. kafka1:9092,kafka2:9092")
    topic: str = Field(min_length=1, max_length=249, title="Topic")
    fields: list[CustomerField] = Field(default_factory=list, title="Customer fields",
                                        description="Sent with customer_id and qaid (the user ID)")


def servers(value: str) -> list[str]:
    return [s.strip() for s in value.split(",") if s.strip()]


class PushKafka(SendingComponent):
    type = "push_kafka"
    label = "Push Kafka"
    category = Category.DATA_PUSH
    Config = PushKafkaConfig

    def check(self, config: PushKafkaConfig) -> list[str]:
        problems = []
        found = servers(config.bootstrap_servers)
        if not found or not all(SERVER.match(s) and int(s.rsplit(":", 1)[1]) <= 65535 for s in found):
            problems.append("bootstrap_servers: write host:port, comma-separated (e.g. kafka1:9092)")
        elif fenced := outbound.servers_problem(found):  # the send-time fence decides; this says it early
            problems.append(f"bootstrap_servers: {fenced}")
        if not TOPIC.match(config.topic) or config.topic in (".", ".."):
            problems.append("topic: letters, digits, '.', '_' and '-' only")
        return problems

    def address(self, customer: CustomerView, config: PushKafkaConfig) -> str | None:
        return config.topic

    def message(self, batch: Batch, config: PushKafkaConfig, customer: CustomerView, to: str,
                extra: dict[str, Any]) -> Message:
        """The channel produces {"id", "record_id", "node_id", "customer_id", "data": <this payload>} keyed by
        data["qaid"]."""
        return Message(record_id=batch.record_id, node_id=batch.node_id, customer_id=customer.id,
                       channel=self.type, to=to, data=customer_payload(customer, list(config.fields)),
                       options={"bootstrap_servers": ",".join(servers(config.bootstrap_servers))})
