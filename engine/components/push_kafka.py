"""Push Kafka (data push): one record per customer (the user ID, plus chosen fields) to a Kafka topic; the
record key is the QAID, so one customer's records stay in order on one partition."""

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from engine import outbound
from engine.channels.base import Message
from engine.components.base import Batch, CustomerView
from engine.components.category import Category
from engine.components.meta import Meta, SummaryContext, short
from engine.components.secret import Secret, SecretRef
from engine.components.sending import SendingComponent, customer_payload
from engine.components.webhook import CustomerField

TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
SERVER = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


class PushKafkaConfig(BaseModel):
    bootstrap_servers: str = Field(min_length=1, max_length=500, title="Bootstrap servers",
                                   description="host:port, comma-separated, e.g. kafka1:9092,kafka2:9092")
    topic: str = Field(min_length=1, max_length=249, title="Topic")
    fields: list[CustomerField] = Field(default_factory=list, title="Customer fields",
                                        description="Sent with customer_id and qaid (the user ID)")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", title="Security protocol", description="SASL_SSL for a managed Kafka with a user name")
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field("PLAIN", title="SASL mechanism")
    sasl_username: str = Field("", max_length=200, title="SASL user name")
    sasl_password: Secret(max_length=500) = Field(  # type: ignore[valid-type]  # an Annotated built at runtime
        None, title="SASL password", description="Write-only: stored encrypted, never shown again")


def servers(value: str) -> list[str]:
    return [s.strip() for s in value.split(",") if s.strip()]


def summary(config: Mapping[str, Any], ctx: SummaryContext) -> str:
    return f"Topic {short(config['topic'], 30)}" if config.get("topic") else ""


class PushKafka(SendingComponent):
    type = "push_kafka"
    label = "Push Kafka"
    category = Category.DATA_PUSH
    Config = PushKafkaConfig
    meta = Meta(icon="Server", blurb="Push user ids to Kafka", order=20, summary=summary)

    def check(self, config: PushKafkaConfig) -> list[str]:
        problems = []
        found = servers(config.bootstrap_servers)
        if not found or not all(SERVER.match(s) and int(s.rsplit(":", 1)[1]) <= 65535 for s in found):
            problems.append("bootstrap_servers: write host:port, comma-separated (e.g. kafka1:9092)")
        elif fenced := outbound.servers_problem(found):  # the send-time fence decides; this says it early
            problems.append(f"bootstrap_servers: {fenced}")
        if not TOPIC.match(config.topic) or config.topic in (".", ".."):
            problems.append("topic: letters, digits, '.', '_' and '-' only")
        if config.security_protocol.startswith("SASL_"):
            if not config.sasl_username.strip():
                problems.append("sasl_username: required with SASL")
            if not (isinstance(config.sasl_password, SecretRef) and (config.sasl_password.is_set
                                                                     or config.sasl_password.dropped)):
                problems.append("sasl_password: required with SASL")
        return problems

    def address(self, customer: CustomerView, config: PushKafkaConfig) -> str | None:
        return config.topic

    def message(self, batch: Batch, config: PushKafkaConfig, customer: CustomerView, to: str,
                extra: dict[str, Any]) -> Message:
        """The channel produces {"id", "record_id", "node_id", "customer_id", "data": <this payload>} keyed by
        data["qaid"]."""
        return Message(record_id=batch.record_id, node_id=batch.node_id, customer_id=customer.id,
                       channel=self.type, to=to, data=customer_payload(customer, list(config.fields)),
                       options=_options(config))


def _options(config: PushKafkaConfig) -> dict[str, Any]:
    """The producer options; the SASL password stays a SecretRef until the channel builds its producer."""
    options: dict[str, Any] = {"bootstrap_servers": ",".join(servers(config.bootstrap_servers))}
    if config.security_protocol != "PLAINTEXT":
        extra: dict[str, Any] = {"security.protocol": config.security_protocol}
        if config.security_protocol.startswith("SASL_"):
            extra |= {"sasl.mechanism": config.sasl_mechanism, "sasl.username": config.sasl_username,
                      "sasl.password": config.sasl_password}
        options["kafka_config"] = extra
    return options
